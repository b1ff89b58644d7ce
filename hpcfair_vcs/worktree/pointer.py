"""Pointer files: ``PATH.hpcfair``, the small YAML file git versions in place of the data.

Example::

    # hpcfair pointer: commit this file to git. The data lives in .hpcfair/ and on
    # remotes; `hpcfair checkout` or `hpcfair pull` restores it.
    artifact: encoder
    kind: model
    version: 2
    pid: hpcfair:5f0c...
    oid: 9b71...
    size: 1200
    nfiles: 1
    format: 1

The data path is the pointer's own path without ``.hpcfair``: a pointer can
never name a file elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..fileio.files import atomic_write
from ..errors import CorruptPointerError, PathNotFoundError, UnreadableFileError
from ..storage.records import PID_PREFIX
from ..storage.refs import KINDS, NAME_RE, is_record_id
from ..storage.tree import is_valid_oid
from ..validate import is_count

SUFFIX = ".hpcfair"
POINTER_FORMAT = 1
HEADER = ("# hpcfair pointer: commit this file to git. The data lives in .hpcfair/ and on\n"
          "# remotes; `hpcfair checkout` or `hpcfair pull` restores it.\n")


@dataclass
class Pointer:
    artifact: str
    kind: str
    version: int
    pid: str
    oid: str
    size: int
    nfiles: int
    format: int = POINTER_FORMAT


def pointer_path(data_path: Path) -> Path:
    return data_path.with_name(data_path.name + SUFFIX)


def data_path(pointer: Path) -> Path:
    return pointer.with_name(pointer.name[: -len(SUFFIX)])


def write(data_path_: Path, pointer: Pointer) -> Path:
    import yaml

    path = pointer_path(data_path_)
    body = yaml.safe_dump(asdict(pointer), sort_keys=False)
    atomic_write(path, (HEADER + body).encode("utf-8"))
    return path


def read(path: Path) -> Pointer:
    """Parse and validate a pointer file.

    Raises:
        CorruptPointerError: not YAML, a merge conflict, a missing or bad field.
        PathNotFoundError: there is no such pointer file.
        UnreadableFileError: the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorruptPointerError(f"pointer file {path} is not text") from None
    except FileNotFoundError:
        raise PathNotFoundError(f"{path} does not exist, so {data_path(path).name} is not tracked",
                                hint="`hpcfair status` lists what is tracked") from None
    except OSError as exc:
        raise UnreadableFileError(f"cannot read pointer file {path}: {exc.strerror}") from None
    return parse(text, path)


def parse(text: str, path: Path) -> Pointer:
    """A pointer file's text (read from the work tree, or from a git commit), validated.

    Raises:
        CorruptPointerError: not YAML, a merge conflict, a missing or bad field.
    """
    if "<<<<<<<" in text:
        raise CorruptPointerError(f"pointer file {path} has an unresolved git merge conflict")
    doc = _read_plain(text)
    if doc is None:
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            raise CorruptPointerError(f"pointer file {path} is not valid YAML") from None
    return _validate(doc, path)


_PLAIN_LINE = re.compile(r"([a-z]+): ([A-Za-z0-9][A-Za-z0-9._:-]*)")
_INT_FIELDS = {"version", "size", "nfiles", "format"}


def _read_plain(text: str) -> dict | None:
    """Parse the plain ``key: value`` YAML that :func:`write` produces, without importing yaml.

    Anything else (quotes, nesting, flow style) returns None and goes to the YAML parser.
    """
    doc: dict[str, object] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _PLAIN_LINE.fullmatch(line)
        if match is None:
            return None
        key, value = match.groups()
        if key in _INT_FIELDS:
            if not value.isdigit():
                return None
            doc[key] = int(value)
        else:
            doc[key] = value
    return doc


def _validate(doc: object, path: Path) -> Pointer:
    if not isinstance(doc, dict):
        raise CorruptPointerError(f"pointer file {path} is not a mapping")
    try:
        pointer = Pointer(**{k: doc[k] for k in ("artifact", "kind", "version", "pid", "oid", "size", "nfiles")},
                          format=doc.get("format", POINTER_FORMAT))
    except KeyError as exc:
        raise CorruptPointerError(f"pointer file {path} lacks the field {exc.args[0]!r}") from None
    checks = {
        "artifact": isinstance(pointer.artifact, str) and NAME_RE.fullmatch(pointer.artifact),
        "oid": isinstance(pointer.oid, str) and is_valid_oid(pointer.oid),
        "size": is_count(pointer.size),
        "nfiles": is_count(pointer.nfiles),
        "version": is_count(pointer.version) and pointer.version >= 1,
        "pid": isinstance(pointer.pid, str) and is_record_id(pointer.pid.removeprefix(PID_PREFIX))
        and pointer.pid.startswith(PID_PREFIX),
        "kind": pointer.kind in KINDS,
    }
    bad = [key for key, ok in checks.items() if not ok]
    if bad:
        raise CorruptPointerError(f"pointer file {path} has a bad value for {bad[0]!r}")
    if pointer.format != POINTER_FORMAT:
        raise CorruptPointerError(f"pointer file {path} has unknown format {pointer.format!r}",
                                  hint="upgrade hpcfair: pip install -U hpcfair")
    return pointer
