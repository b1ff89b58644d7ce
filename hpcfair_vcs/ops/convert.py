"""``hpcfair convert``: a stored model (or a path, added first) to its ONNX form; or a file outside
any repository. The work itself is ops/conversion.py's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..errors import ArtifactNotFoundError, PathNotFoundError, PathOutsideRepoError, UsageError
from ..worktree.materialize import place_object
from ..progress import SILENT, Progress
from ..repo import Repo, open_repo
from ..results import ConvertResult, Parity, SignatureInfo
from ..worktree.workspace import resolve_user_path, to_relpath
from .add import add
from .conversion import ConvertRequest, convert_version, converter_for, step_reporter
from .resolve import Resolved, resolve


def convert(target: str | os.PathLike, *, repo: Repo | str | None = None, output: str | os.PathLike | None = None,
            name: str | None = None, request: ConvertRequest | None = None, progress: Progress = SILENT,
            **options: Any) -> ConvertResult:
    """Convert a stored model (``NAME[@VERSION]``, a PID, or a path) to ONNX and store the result.

    A path that is not tracked yet is added first. Keyword *options* are the
    fields of :class:`ConvertRequest`. *progress* sees one phase per step (unit "step").

    Raises:
        ArtifactNotFoundError, UsageError (a dataset, a bad --input), MissingDependencyError (exit 4),
        ModelLoadError, UntrustedPickleError, ConversionError (exit 1), ParityError (exit 3).
    """
    request = request or ConvertRequest(**options)
    r = open_repo(repo)
    source = _source(r, target)
    result = convert_version(r, source, request, name=name, progress=progress)
    if output is not None:
        result.output = _write_output(r, result.oid, output)
    return result


def convert_file(path: str | os.PathLike, output: str | os.PathLike, *, request: ConvertRequest | None = None,
                 progress: Progress = SILENT, **options: Any) -> ConvertResult:
    """Convert a model file outside any repository; nothing is stored. Raises as :func:`convert`."""
    request = request or ConvertRequest(**options)
    source = Path(path)
    if not source.exists():
        raise PathNotFoundError(f"{path} does not exist")
    converter = converter_for(source, request.framework)
    out = Path(output)
    conversion = converter.convert(source, out, request.options(config_mod.defaults()["convert"]),
                                   step_reporter(progress, source.name))
    return ConvertResult(source=os.fspath(path), source_pid=None, framework=converter.name,
                         converter=converter.name, converter_version=converter.version, artifact=None,
                         version=None, pid=None, oid="", size=out.stat().st_size,
                         signature=SignatureInfo.from_dict(conversion.signature.to_dict()),
                         parity=Parity.from_dict(conversion.parity), output=os.fspath(out))


def _source(r: Repo, target: str | os.PathLike) -> Resolved:
    text = os.fspath(target)
    try:
        return resolve(r, text)
    except ArtifactNotFoundError:
        if not _looks_like_path(r, text):
            raise
    path = resolve_user_path(r.root, text)
    ref = r.catalog.by_path(to_relpath(r.root, path))
    added = add([path], repo=r, kind="model" if ref is None else None, convert=False).items[0]
    return resolve(r, f"{added.artifact}@{added.version}")


def _looks_like_path(r: Repo, text: str) -> bool:
    try:
        resolve_user_path(r.root, text)
    except (PathNotFoundError, PathOutsideRepoError):
        return False
    return True


def _write_output(r: Repo, oid: str, output: str | os.PathLike) -> str:
    dest = Path(output).expanduser().absolute()
    if dest.is_dir():
        raise UsageError(f"-o {output} is a folder", hint="give a file name, e.g. -o out/model.onnx")
    place_object(r.store, oid, dest, ["copy"])
    os.chmod(dest, 0o644)
    return os.fspath(dest)


