"""Opening a remote: DVC's schema and filesystem plugins, host-key checks, clear errors.

A remote holds, under its URL::

    files/sha256/ab/cdef...      objects (the same layout as the local store)
    records/ab/cdef...           version and metadata records
    refs/artifacts/NAME.json     each artifact's versions and tags

Every failure to reach it becomes one ``RemoteError`` (exit 4) naming the
remote and what to fix; secrets never appear in messages.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..adapters.dvc_ssh import ssh_filesystem_class
from ..errors import MissingDependencyError, RemoteError, RemoteNotFoundError, UsageError
from ..repo import Repo
from .failures import Failure, classify
from .settings import HPCFAIR_OPTIONS, configured, default_name, redact_url, scrub

PLUGINS = {"ssh": "dvc-ssh", "webdav": "dvc-webdav", "webdavs": "dvc-webdav", "s3": "dvc-s3",
           "gs": "dvc-gs", "azure": "dvc-azure", "http": "dvc-http", "https": "dvc-http"}
EXTRAS = {"ssh": "ssh", "webdav": "webdav", "webdavs": "webdav", "s3": "s3"}
READ_ONLY_SCHEMES = {"http", "https"}


@dataclass
class Remote:
    name: str
    url: str
    fs: Any  # a dvc-objects FileSystem
    root: str  # the remote's root path inside fs
    options: dict[str, Any] = field(default_factory=dict)  # as configured, secrets included: never shown

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0] if "://" in self.url else "local"

    @property
    def shown_url(self) -> str:
        """The URL as messages show it: without a password."""
        return redact_url(self.url)

    @property
    def read_only(self) -> bool:
        return self.scheme in READ_ONLY_SCHEMES

    def path(self, *parts: str) -> str:
        return self.fs.join(self.root, *parts) if self.root else self.fs.join(*parts)

    @cached_property
    def objects(self):
        """The remote object store as a dvc-data HashFileDB (sha256 layout)."""
        from dvc_data.hashfile.db import HashFileDB

        return HashFileDB(self.fs, self.path("files", "sha256"), hash_name="sha256")

    @cached_property
    def records(self):
        from dvc_data.hashfile.db import HashFileDB

        return HashFileDB(self.fs, self.path("records"), hash_name="sha256")


def choose(repo: Repo, name: str | None) -> str:
    """The remote to use: *name*, else the default, else the only one.

    Raises:
        RemoteNotFoundError, UsageError.
    """
    remotes = configured(repo)
    if name:
        if name not in remotes:
            raise RemoteNotFoundError(f"no remote named {name!r}", remote=name)
        return name
    chosen = default_name(repo)
    if chosen:
        return chosen
    if len(remotes) == 1:
        return next(iter(remotes))
    if not remotes:
        raise RemoteNotFoundError("no remote is configured",
                                  hint="hpcfair remote add NAME URL --default")
    raise UsageError("several remotes and no default", hint="pass -r NAME or run `hpcfair remote default NAME`")


def open_remote(repo: Repo, name: str | None = None, *, accept_new_host: bool = False) -> Remote:
    """Connect-free construction of remote *name*'s filesystem (connections open lazily).

    Raises:
        RemoteNotFoundError, MissingDependencyError (the scheme's plugin is not installed).
    """
    name = choose(repo, name)
    return remote_from_options(name, dict(configured(repo)[name]), accept_new_host=accept_new_host)


def remote_from_options(name: str, configured_options: dict[str, Any], *, accept_new_host: bool = False) -> Remote:
    """Remote *name* from its configured options (``url`` among them), without a repository: what a Dask worker
    rebuilds the remote from (the filesystems of some plugins do not pickle).

    Raises:
        MissingDependencyError, RemoteError.
    """
    options = dict(configured_options)
    url = options.pop("url")
    ours = {k: options.pop(k) for k in list(options) if k in HPCFAIR_OPTIONS}
    scheme = url.split("://", 1)[0] if "://" in url else "local"
    from dvc.fs import RemoteMissingDepsError, get_cloud_fs

    try:
        cls, conf, root = get_cloud_fs(None, url=url, **options)
    except (ImportError, RemoteMissingDepsError) as exc:
        raise _missing_plugin(scheme) from exc
    except Exception as exc:  # noqa: BLE001 - DVC's schema rejects the URL or an option
        raise RemoteError(f"remote {name!r}: {scrub(str(exc), configured_options)}", remote=name) from None
    if scheme == "ssh":  # atomic uploads and host-key checks (adapters/dvc_ssh.py)
        cls = ssh_filesystem_class(_known_hosts(conf, ours, accept_new_host), cipher_preference())
    try:
        fs = cls(**conf)
    except ImportError as exc:
        raise _missing_plugin(scheme) from exc
    _quiet_libraries()  # after DVC's import, which sets its loggers' levels
    return Remote(name=name, url=url, fs=fs, root=root, options=configured_options)


def _missing_plugin(scheme: str) -> MissingDependencyError:
    extra = EXTRAS.get(scheme)
    line = f"pip install 'hpcfair[{extra}]'" if extra else f"pip install {PLUGINS.get(scheme, 'dvc-' + scheme)}"
    return MissingDependencyError(f"remotes of type {scheme!r} need the {PLUGINS.get(scheme, scheme)} plugin",
                                  hint=line)


def _known_hosts(conf: dict[str, Any], ours: dict[str, Any], accept_new_host: bool) -> str:
    """The known_hosts file host keys are verified against (sshfs skips the check by default)."""
    known_hosts = os.path.expanduser(ours.get("known_hosts") or "~/.ssh/known_hosts")
    if accept_new_host:
        _learn_host_key(conf["host"], int(conf.get("port") or 22), known_hosts)
    return known_hosts


def _learn_host_key(host: str, port: int, known_hosts: str) -> None:
    """Trust on first use, only when asked: append the server's key to known_hosts."""
    import asyncio

    import asyncssh

    try:
        key = asyncio.run(asyncssh.get_server_host_key(host, port))
    except (OSError, asyncssh.Error) as exc:
        raise RemoteError(f"cannot reach {host}:{port} to read its host key: {exc}") from None
    if key is None:
        return
    entry = host if port == 22 else f"[{host}]:{port}"
    line = f"{entry} {key.export_public_key().decode().strip()}\n"
    path = Path(known_hosts)
    if path.exists() and line in path.read_text():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fobj:
        fobj.write(line)


def cipher_preference() -> dict[str, list[str]]:
    """asyncssh's ciphers with AES-GCM first, where the CPU has AES instructions (else its own order).

    There, 1 GiB over SFTP took about 1.6 s with AES-GCM against 2.6-3.4 s with
    asyncssh's first choice, chacha20-poly1305; both are the AEAD ciphers OpenSSH
    offers by default, and the server still picks only what it allows.
    """
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    if not re.search(r"^(flags|Features)\s*:.*\baes\b", cpuinfo, re.MULTILINE):
        return {}
    from asyncssh.encryption import get_default_encryption_algs

    algs = [alg.decode() for alg in get_default_encryption_algs()]
    return {"encryption_algs": sorted(algs, key=lambda alg: not alg.endswith("-gcm@openssh.com"))}


def _quiet_libraries() -> None:
    """dvc-data logs each failed object with a traceback and draws its own bars unless its logger
    is above ERROR; hpcfair reports failures and progress itself."""
    for name in ("dvc_data", "dvc_objects", "asyncssh", "sshfs", "webdav4", "httpx", "s3fs",
                 "aiobotocore", "botocore"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def explain(remote: Remote, exc: BaseException) -> RemoteError:
    """Turn a library exception into one clear RemoteError naming the remote (its ``remote`` field too)."""
    error = _classify(remote, exc)
    error.fields["remote"] = remote.name
    return error


def _classify(remote: Remote, exc: BaseException) -> RemoteError:
    where = f"remote {remote.name!r} ({remote.shown_url})"
    if isinstance(exc, OSError) and exc.filename and exc.filename == remote.options.get("keyfile"):
        return RemoteError(f"{where}: the key file named by its keyfile option cannot be read ({exc.strerror})",
                           hint=f"hpcfair remote modify {remote.name} -o keyfile=PATH (kept in config.local.yaml)")
    kind = classify(exc)
    if kind is Failure.HOST_KEY:
        return RemoteError(f"{where}: the server's host key is not in known_hosts",
                           hint="check the host, then run again with --accept-new-host "
                                "(or add it with ssh-keyscan)")
    if kind is Failure.DENIED:
        return RemoteError(f"{where}: access denied",
                           hint=f"check the credentials: hpcfair remote modify {remote.name} -o user=... "
                                "(secrets go to .hpcfair/config.local.yaml)")
    if kind is Failure.NO_BUCKET:
        return RemoteError(f"{where}: the bucket does not exist", hint="create the bucket first")
    if kind is Failure.UNREACHABLE:
        return RemoteError(f"{where}: the server cannot be reached ({type(exc).__name__})",
                           hint="check the URL and that the server is running; rerun to resume")
    if kind is Failure.READ_ONLY:
        return RemoteError(f"{where}: the remote is read-only or not writable here",
                           hint="use a remote you may write to")
    text = scrub(f"{type(exc).__name__}: {exc}", remote.options)
    return RemoteError(f"{where}: {text}", hint="rerun with HPCFAIR_DEBUG=1 for details")
