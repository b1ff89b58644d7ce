"""Remote configuration: add, modify, remove, default, list, and import from DVC.

Remotes live in the ``remote`` section of ``.hpcfair/config.yaml`` exactly as in
``.dvc/config`` (``remote: {NAME: {url: ..., OPTION: VALUE}}``). Secrets
(passwords, key files, access keys, tokens) always go to
``.hpcfair/config.local.yaml`` (mode 0600, never committed), and are shown
redacted. Options are DVC's and are checked with DVC's own schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fileio.files import atomic_write
from ..config import read_yaml_file, validate, why_local_only
from ..errors import ConfigError, MissingDependencyError, RemoteExistsError, RemoteNotFoundError
from ..repo import Repo

SECRET_OPTIONS = frozenset({
    "password", "passphrase", "keyfile", "key_file", "access_key_id", "secret_access_key",
    "session_token", "token", "sas_token", "account_key", "connection_string", "client_secret",
    "credentialpath", "gdrive_client_secret", "gdrive_service_account_json_file_path",
    "custom_auth_header", "cert_path", "key_path",
})
# Options hpcfair reads itself (not passed to DVC).
HPCFAIR_OPTIONS = frozenset({"known_hosts"})
REDACTED = "***"
# Schemes whose DVC plugin takes the user and password as options, not inside the URL.
USER_AS_OPTION = frozenset({"webdav", "webdavs", "http", "https"})


def is_private_option(key: str, value: Any) -> bool:
    """Whether option *key* belongs in config.local.yaml: a secret, or one that runs a program or names a file."""
    return key in SECRET_OPTIONS or why_local_only(key, value) is not None


def check_options(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """Validate *url* and *options* with DVC's remote schema; return the normalised options.

    Raises:
        ConfigError: an unknown option or a bad value (the message is DVC's).
        MissingDependencyError: DVC is not installed.
    """
    try:
        from dvc.config_schema import SCHEMA
        from voluptuous import Invalid
    except ImportError as exc:  # pragma: no cover - dvc is a core dependency
        raise MissingDependencyError("remotes need DVC", hint="pip install 'hpcfair'") from exc
    dvc_options = {k: v for k, v in options.items() if k not in HPCFAIR_OPTIONS}
    try:
        normalised = SCHEMA["remote"][str]({"url": url, **dvc_options})
    except Invalid as exc:
        raise ConfigError(f"remote option error for {redact_url(url)}: {exc}",
                          hint="options are DVC's: https://dvc.org/doc/user-guide/project-structure/configuration#remote") from None
    normalised.pop("url", None)
    return {**normalised, **{k: v for k, v in options.items() if k in HPCFAIR_OPTIONS}}


def _files(repo: Repo) -> tuple[Path, Path]:
    return repo.control / "config.yaml", repo.shared / "config.local.yaml"


def _write(path: Path, data: dict[str, Any], private: bool) -> None:
    import yaml

    header = path.read_text(encoding="utf-8").split("\n", 1)[0] + "\n" if path.exists() else ""
    if not header.startswith("#"):
        header = ""
    body = yaml.safe_dump(_drop_empty(data), sort_keys=True) if _drop_empty(data) else ""
    validate(yaml.safe_load(body) or {}, str(path))
    atomic_write(path, (header + body).encode("utf-8"), mode=0o600 if private else 0o644)


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    clean = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _drop_empty(value)
            if not value:
                continue
        if value is None:
            continue
        clean[key] = value
    return clean


def _reload(repo: Repo) -> None:
    from .. import config as config_mod

    repo.config = config_mod.load(repo.control, local_dir=repo.shared)


def configured(repo: Repo) -> dict[str, dict[str, Any]]:
    """Every remote with its merged options (secrets included)."""
    return repo.config.get("remote", {})


def default_name(repo: Repo) -> str | None:
    return repo.config["core"].get("remote")


def add(repo: Repo, name: str, url: str, options: dict[str, Any], *, local: bool = False,
        default: bool = False, force: bool = False) -> dict[str, Any]:
    """Add remote *name*; secrets go to the local file whatever *local* says.

    Raises:
        RemoteExistsError, ConfigError.
    """
    if name in configured(repo) and not force:
        raise RemoteExistsError(f"remote {name!r} already exists")
    url, from_url = credentials_out_of_url(_absolute_if_local(url))
    options = {**from_url, **options}
    checked = {k: v for k, v in check_options(url, options).items() if k in options}
    with repo.lock:
        shared_path, local_path = _files(repo)
        shared, private = read_yaml_file(shared_path), read_yaml_file(local_path)
        for doc in (shared, private):
            doc.get("remote", {}).pop(name, None)
        public = {"url": url, **{k: v for k, v in checked.items() if not is_private_option(k, v)}}
        secret = {k: v for k, v in checked.items() if is_private_option(k, v)}
        (private if local else shared).setdefault("remote", {})[name] = public
        if secret:
            private.setdefault("remote", {}).setdefault(name, {}).update(secret)
        if default:
            (private if local else shared).setdefault("core", {})["remote"] = name
        _write(shared_path, shared, private=False)
        _write(local_path, private, private=True)
        _reload(repo)
    return redact({"name": name, **public, **secret})


def credentials_out_of_url(url: str) -> tuple[str, dict[str, str]]:
    """*url* without a password (and, where DVC wants it as an option, without the user), and those as options.

    ``ssh://me:PW@host/x`` -> ``ssh://me@host/x`` and ``{"password": "PW"}``;
    ``webdav://me:PW@host/x`` -> ``webdav://host/x`` and ``{"user": "me", "password": "PW"}``.
    """
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    if "://" not in url or "@" not in parts.netloc:
        return url, {}
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, has_password, password = userinfo.partition(":")
    scheme = parts.scheme.lower()
    moved = {"password": unquote(password)} if has_password else {}
    if scheme in USER_AS_OPTION:
        moved["user"] = unquote(user)
        netloc = host
    elif has_password:
        netloc = f"{user}@{host}"
    else:
        return url, {}
    return urlunsplit(parts._replace(netloc=netloc)), moved


def redact_url(url: str) -> str:
    """*url* with any password in it replaced by ``***`` (a hand-edited config can hold one)."""
    import re

    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:" + REDACTED + "@", url)


def scrub(text: str, options: dict[str, Any]) -> str:
    """*text* (a library's error message, say) with every secret value of *options* replaced by ``***``."""
    for key, value in options.items():
        if key in SECRET_OPTIONS and isinstance(value, str) and len(value) >= 3:
            text = text.replace(value, REDACTED)
    return redact_url(text)


def _absolute_if_local(url: str) -> str:
    """A local folder given relative to the current directory, stored as an absolute path."""
    import os

    if "://" in url:
        return url
    return os.path.abspath(os.path.expanduser(url))


def modify(repo: Repo, name: str, options: dict[str, Any], *, unset: list[str] = (),
           local: bool = False) -> dict[str, Any]:
    """Change or unset options of an existing remote.

    Raises:
        RemoteNotFoundError, ConfigError.
    """
    current = dict(configured(repo).get(name) or {})
    if not current:
        raise RemoteNotFoundError(f"no remote named {name!r}", remote=name)
    url = options.pop("url", current.pop("url"))
    for key in unset:
        current.pop(key, None)
    merged = {**current, **options}
    check_options(url, merged)
    in_local = name in read_yaml_file(_files(repo)[1]).get("remote", {}) and \
        "url" in read_yaml_file(_files(repo)[1])["remote"][name]
    return add(repo, name, url, merged, local=local or in_local, force=True)


def remove(repo: Repo, name: str) -> None:
    """Raises RemoteNotFoundError."""
    if name not in configured(repo):
        raise RemoteNotFoundError(f"no remote named {name!r}", remote=name)
    with repo.lock:
        for path, private in zip(_files(repo), (False, True)):
            doc = read_yaml_file(path)
            doc.get("remote", {}).pop(name, None)
            if doc.get("core", {}).get("remote") == name:
                doc["core"].pop("remote")
            _write(path, doc, private)
        _reload(repo)


def set_default(repo: Repo, name: str, *, local: bool = False) -> None:
    """Raises RemoteNotFoundError."""
    if name not in configured(repo):
        raise RemoteNotFoundError(f"no remote named {name!r}", remote=name)
    with repo.lock:
        path = _files(repo)[1 if local else 0]
        doc = read_yaml_file(path)
        doc.setdefault("core", {})["remote"] = name
        _write(path, doc, private=local)
        _reload(repo)


def redact(options: dict[str, Any]) -> dict[str, Any]:
    shown = {k: (REDACTED if k in SECRET_OPTIONS and v not in (None, "") else v) for k, v in options.items()}
    if isinstance(shown.get("url"), str):
        shown["url"] = redact_url(shown["url"])
    return shown


def listing(repo: Repo) -> list[dict[str, Any]]:
    """Every remote, secrets redacted, with which one is the default."""
    default = default_name(repo)
    return [{"name": name, "default": name == default, **redact(options)}
            for name, options in sorted(configured(repo).items())]


def import_dvc(repo: Repo, dvc_dir: Path | None = None) -> list[str]:
    """Copy the remotes (and default) of ``.dvc/config`` + ``config.local``; return their names.

    Raises:
        ConfigError: no DVC configuration there, or it is invalid.
    """
    from dvc.config import Config, ConfigError as DvcConfigError

    dvc_dir = dvc_dir or repo.root / ".dvc"
    if not (dvc_dir / "config").exists() and not (dvc_dir / "config.local").exists():
        raise ConfigError(f"no DVC configuration in {dvc_dir}", hint="run this where `.dvc/` is")
    try:
        conf = Config(dvc_dir=str(dvc_dir), validate=True)
    except DvcConfigError as exc:
        raise ConfigError(f"DVC configuration in {dvc_dir} is invalid: {exc}") from None
    names = []
    default = conf["core"].get("remote")
    for name, options in conf["remote"].items():
        options = dict(options)
        url = options.pop("url")
        add(repo, name, url, options, force=True, default=(name == default))
        names.append(name)
    return names
