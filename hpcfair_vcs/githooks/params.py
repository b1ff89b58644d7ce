"""The hyper-parameters a hook-made conversion records in its runtime snapshot.

They come from a YAML mapping committed with the model: ``MODEL.params.yaml`` beside
it (``models/encoder.pt.params.yaml``), else ``params.yaml`` at the repository's root
(DVC's file for the same thing). Both arrive with a clone, so they are data only: a
regular file inside the repository (no link), at most MAX_BYTES, plain YAML (no tags),
values kept as JSON types (a date becomes its ISO text).
"""

from __future__ import annotations

import datetime
import math
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, HpcfairError
from ..fileio.files import open_regular

SUFFIX = ".params.yaml"
SHARED = "params.yaml"
MAX_BYTES = 1 << 20
HINT = "a params file holds a YAML mapping of plain values (docs/hooks.md, 'Hyper-parameters')"


def params_file(root: Path, model: Path) -> Path | None:
    """The file holding *model*'s hyper-parameters, or None."""
    for candidate in (model.with_name(model.name + SUFFIX), root / SHARED):
        if os.path.lexists(candidate):
            return candidate
    return None


def hyperparameters(root: Path, model: Path) -> dict[str, Any]:
    """*model*'s hyper-parameters ({} without a params file).

    Raises:
        ConfigError: the file is a link, outside the repository, too large, not YAML or not a mapping.
    """
    path = params_file(root, model)
    if path is None:
        return {}
    shown = os.path.relpath(path, root)
    folder, top = os.path.realpath(path.parent), os.path.realpath(root)
    if folder != top and not folder.startswith(top + os.sep):  # the model's folder is a link leading out
        raise ConfigError(f"{shown} is outside the repository", hint=HINT)
    try:
        fd, _ = open_regular(path, MAX_BYTES)
        with os.fdopen(fd, "rb") as fobj:
            text = fobj.read(MAX_BYTES + 1).decode("utf-8")
    except HpcfairError as exc:
        raise ConfigError(f"{shown}: {exc.message.replace(os.fspath(path), '').strip()}", hint=HINT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {shown}: {exc}", hint=HINT) from None
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"{shown}{f' line {mark.line + 1}' if mark else ''}: not valid YAML", hint=HINT) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: expected a mapping, got {type(data).__name__}", hint=HINT)
    return _plain(data, shown)


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}: {k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, where) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # .nan and .inf have no JSON form
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ConfigError(f"{where}: a {type(value).__name__} is not a plain value", hint=HINT)
