"""Layered configuration, and the only place hpcfair reads environment variables.

Precedence, lowest first: built-in defaults < user file
(``$XDG_CONFIG_HOME/hpcfair/config.yaml``) < repository file
(``.hpcfair/config.yaml``, shareable) < local file (``.hpcfair/config.local.yaml``,
machine-local and secret, mode 0600) < ``HPCFAIR_*`` environment variables <
explicit arguments. Unknown keys and wrong types are errors naming file and key.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConfigError

LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")


def _link_types(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items or any(i not in LINK_TYPES for i in items):
        raise ValueError(f"a list drawn from {', '.join(LINK_TYPES)}")
    return list(items)


def _positive_number(value: Any) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("a positive number")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("true or false")


def _opset(value: Any) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or not 7 <= int(value) <= 30:
        raise ValueError("an ONNX opset number between 7 and 30")
    return int(value)


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(" or ".join(choices))
        return value
    return check


def _remote_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError("a remote name (letters, digits, '.', '_', '-')")
    return value


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _type_names(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and _TYPE_NAME.fullmatch(v) for v in value):
        raise ValueError("a list of type names such as xgboost.core.Booster")
    return list(value)

_IMAGE = re.compile(r"(sha256:)?[0-9a-f]{12,64}|[a-z0-9][a-z0-9._/-]{0,200}(:[A-Za-z0-9._-]{1,128})?")


def _image_name(value: Any) -> str:
    if not isinstance(value, str) or not _IMAGE.fullmatch(value):
        raise ValueError("an image ID (hex) or name[:tag], as `hpcfair image list` shows")
    return value


def _program(value: Any) -> str:
    if not isinstance(value, str) or not value or "\n" in value:
        raise ValueError("a program name or path")
    return value


def _memory(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[1-9][0-9]*[kmg]?", value.lower()):
        raise ValueError("a size such as 512m or 4g")
    return value.lower()


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a positive whole number")
    return value


# Values dask-jobqueue writes into a batch script (#SBATCH/#PBS lines): each must match a strict pattern, so a
# committed config cannot smuggle in a directive or a command.
_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")
_WALLTIME = re.compile(r"([0-9]{1,3}-)?[0-9]{1,3}:[0-5][0-9](:[0-5][0-9])?")
_JOB_MEMORY = re.compile(r"[1-9][0-9]{0,6}(\.[0-9]+)?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)")
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]{0,252}")


def _pattern(what: str, pattern: re.Pattern[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(what)
        return value
    return check


# section -> key -> (validator, default)
SCHEMA: dict[str, dict[str, tuple[Callable[[Any], Any], Any]]] = {
    "core": {
        "link_types": (_link_types, ["reflink", "copy"]),
        "lock_timeout": (_positive_number, 60.0),
        "remote": (_remote_name, None),  # the default remote for push, pull and fetch
    },
    "convert": {
        "auto": (_boolean, True),  # convert models to ONNX when they are added
        "opset": (_opset, 18),
        "tolerance": (_positive_number, 1e-4),  # parity: max |onnx - native| / max |native|
        "trust_types": (_type_names, []),  # types a skops file may build (local-only: see LOCAL_ONLY_SETTINGS)
    },
    "hooks": {  # git hooks (docs/hooks.md)
        "convert": (_boolean, True),  # pre-commit converts the models it records
        "on_failure": (_one_of("stop", "warn"), "stop"),  # a failed conversion stops the commit, or warns
        "push": (_boolean, True),  # pre-push pushes the pushed commits' artifacts to the default remote
        "require_remote": (_boolean, False),  # pre-push stops when there is no remote to push them to
        "pull": (_boolean, False),  # post-checkout/post-merge pull what is not stored here
    },
    "container": {  # Podman (docs/containers.md)
        "image": (_image_name, None),  # the runtime image (ID or tag); default: the one built for this host
        "podman": (_program, "podman"),  # the podman program (local-only: see LOCAL_ONLY_SETTINGS)
        "containers_conf": (_one_of("hpcfair", "system"), "hpcfair"),  # hpcfair's containers.conf, or podman's own
        "memory": (_memory, "4g"),  # memory limit of each container
        "cpus": (_positive_number, None),  # CPU limit (default: all the host's)
        "pids_limit": (_positive_int, 4096),
    },
    "scheduler": {  # infer --scheduler: Dask clusters (docs/scaleout.md)
        "workers": (_positive_int, None),  # local: worker processes (default: the CPU cores, at most 8)
        "jobs": (_positive_int, 1),  # slurm/pbs: batch jobs, one worker each
        "chunk_rows": (_positive_int, 16384),  # rows per chunk of a .npy shard (rounded up to the batch size)
        "queue": (_pattern("a partition or queue name", _JOB_NAME), None),
        "account": (_pattern("an account name", _JOB_NAME), None),
        "walltime": (_pattern("a time such as 01:00:00 or 1-00:00:00", _WALLTIME), "01:00:00"),
        "cores": (_positive_int, 1),  # per job
        "memory": (_pattern("a size such as 4GB or 512MiB", _JOB_MEMORY), None),  # each worker's limit (jobs: 4GB)
        "host": (_pattern("a host name or IP address", _HOST), None),  # where the Dask scheduler listens
        "wait": (_positive_number, 600.0),  # seconds to wait for the first worker (batch jobs may queue)
    },
}
# Settings a committed config.yaml may not hold (it comes with a clone): why, for the error.
LOCAL_ONLY_SETTINGS = {("convert", "trust_types"): "lets model files build the types it names",
                       ("container", "podman"): "names a program to run"}

# Sections whose keys are names the user chooses; each holds a mapping of options
# that the section's own module validates (remotes: DVC's remote schema).
NAMED_SECTIONS = ("remote",)

# Remote options that run a program or name a file on this machine. A committed config.yaml comes
# with a clone and is not trusted with them: they count only from the user's config and config.local.yaml.
PROGRAM_OPTIONS = frozenset({"bearer_token_command"})
FILE_OPTIONS = frozenset({
    "keyfile", "key_file", "known_hosts", "cert_path", "key_path", "credentialpath", "configpath", "kerb_ticket",
    "gdrive_user_credentials_file", "gdrive_service_account_json_file_path",
})


def why_local_only(key: str, value: Any) -> str | None:
    """Why remote option *key* may not come from a shared file ("runs a program", ...), or None."""
    if key in PROGRAM_OPTIONS:
        return "runs a program"
    if key in FILE_OPTIONS:
        return "names a file on this machine"
    if key == "ssl_verify" and isinstance(value, str):
        try:
            _boolean(value)
        except ValueError:
            return "names a file on this machine"  # a CA bundle
    return None


def _refuse_local_only(layer: dict[str, Any], source: Path) -> None:
    """Raises ConfigError for a setting or remote option in the shared file that only a private one may hold."""
    for (section, key), reason in LOCAL_ONLY_SETTINGS.items():
        if layer.get(section, {}).get(key):
            raise ConfigError(
                f"{source}: {section}.{key} {reason}, and hpcfair takes it only from config.local.yaml or your "
                "user config, never from the shared config.yaml a clone brings",
                hint=f"delete it from {source}; if you trust it, move it to config.local.yaml beside it")
    for name, options in layer.get("remote", {}).items():
        for key, value in options.items():
            reason = why_local_only(key, value)
            if reason:
                raise ConfigError(
                    f"{source}: remote.{name}.{key} {reason}, and hpcfair takes such options only from "
                    "config.local.yaml or your user config, never from the shared config.yaml a clone brings",
                    hint=f"delete it from {source}; if you trust it, move it to config.local.yaml beside it "
                         f"(under remote: {name}:)")


# environment variable -> (section, key)
ENV_KEYS = {
    "HPCFAIR_LINK_TYPES": ("core", "link_types"),
    "HPCFAIR_LOCK_TIMEOUT": ("core", "lock_timeout"),
    "HPCFAIR_REMOTE": ("core", "remote"),
    "HPCFAIR_AUTO_CONVERT": ("convert", "auto"),
}


def debug_enabled() -> bool:
    """``HPCFAIR_DEBUG=1`` shows full tracebacks."""
    return os.environ.get("HPCFAIR_DEBUG", "") not in ("", "0")


def repo_from_env() -> str | None:
    """``HPCFAIR_REPO`` names a repository to use instead of searching upwards."""
    return os.environ.get("HPCFAIR_REPO") or None


def cache_dir() -> Path:
    """hpcfair's per-user cache (``HPCFAIR_CACHE_DIR``, else ``$XDG_CACHE_HOME/hpcfair``): image build inputs."""
    explicit = os.environ.get("HPCFAIR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hpcfair"


def child_env(extra: dict[str, str] | None = None, *, clean: bool = False) -> dict[str, str]:
    """The environment for a child process: this one's (or, *clean*, just PATH) plus *extra*."""
    base = {"PATH": os.environ.get("PATH", os.defpath)} if clean else dict(os.environ)
    return {**base, **(extra or {})}


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "hpcfair" / "config.yaml"


def defaults() -> dict[str, dict[str, Any]]:
    merged = {section: {key: copy.deepcopy(spec[1]) for key, spec in keys.items()}
              for section, keys in SCHEMA.items()}
    merged.update({section: {} for section in NAMED_SECTIONS})
    return merged


def read_yaml_file(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping; a missing file is empty. Raises ConfigError naming line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        return {}  # only comments: skip importing the YAML parser
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    return data


def validate(data: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """Check *data* against SCHEMA; return it with values normalised."""
    clean: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in SCHEMA and section not in NAMED_SECTIONS:
            raise ConfigError(f"{source}: unknown section {section!r}")
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: section {section!r} must be a mapping")
        if section in NAMED_SECTIONS:
            clean[section] = _validate_named(section, values, source)
            continue
        for key, value in values.items():
            if key not in SCHEMA[section]:
                raise ConfigError(f"{source}: unknown key {section}.{key}")
            check = SCHEMA[section][key][0]
            try:
                clean.setdefault(section, {})[key] = check(value)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{source}: {section}.{key} must be {exc}") from None
    return clean


def _validate_named(section: str, values: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    clean: dict[str, dict[str, Any]] = {}
    for name, options in values.items():
        try:
            _remote_name(name)
        except ValueError:
            raise ConfigError(f"{source}: {section} name {name!r} is not valid") from None
        if not isinstance(options, dict) or not all(
                isinstance(v, (str, int, float, bool)) for v in options.values()):
            raise ConfigError(f"{source}: {section}.{name} must map option names to plain values")
        clean[name] = {str(k): v for k, v in options.items()}
    return clean


def _merge(into: dict[str, Any], layer: dict[str, Any]) -> None:
    """Merge *layer* over *into*, per key, through nested mappings."""
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _env_layer() -> dict[str, dict[str, Any]]:
    layer: dict[str, dict[str, Any]] = {}
    for var, (section, key) in ENV_KEYS.items():
        if var in os.environ:
            layer.setdefault(section, {})[key] = os.environ[var]
    return validate(layer, "environment") if layer else {}


def load(repo_dir: Path | None, overrides: dict[str, dict[str, Any]] | None = None, *,
         local_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The merged configuration for the repository control dir *repo_dir* (or none), whose
    config.local.yaml is in *local_dir* (default: *repo_dir*; a linked worktree's is shared)."""
    merged = defaults()
    files = [user_config_path()]
    if repo_dir is not None:
        files += [repo_dir / "config.yaml", (local_dir or repo_dir) / "config.local.yaml"]
    layers = [validate(read_yaml_file(path), str(path)) for path in files]
    if repo_dir is not None:
        _refuse_local_only(layers[1], files[1])
    layers.append(_env_layer())
    layers.append(validate(overrides or {}, "arguments"))
    for layer in layers:
        _merge(merged, layer)
    return merged


def pre_commit_framework_push() -> str:
    """The pre-push input the pre-commit framework gives as environment variables instead of stdin
    (PRE_COMMIT_LOCAL_BRANCH, PRE_COMMIT_TO_REF, ...), as git's "LOCAL SHA REMOTE SHA" line; "" outside it."""
    to_ref = os.environ.get("PRE_COMMIT_TO_REF", "")
    if not to_ref:
        return ""
    return " ".join((os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD"), to_ref,
                     os.environ.get("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/unknown"),
                     os.environ.get("PRE_COMMIT_FROM_REF", "0" * 40)))
