"""Directory (dataset) objects: a sorted manifest of relative paths and sha256 ids.

The bytes are exactly what dvc-data's ``Tree.as_bytes()`` writes for a sha256
tree (a JSON list of ``{"relpath": ..., "sha256": ...}`` sorted by path), and the
object id is the sha256 of those bytes plus ``.dir``. So the same folder gets
the same id here, in dvc-data, and on any remote, and dvc-data's transfer can
walk our trees.
"""

from __future__ import annotations

import hashlib
import json
import re

from ..errors import CorruptObjectError
from ..validate import is_safe_relpath

TREE_SUFFIX = ".dir"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def is_tree(oid: str) -> bool:
    return oid.endswith(TREE_SUFFIX)


def is_valid_oid(oid: str) -> bool:
    """A file id is 64 lowercase hex digits; a tree id adds ``.dir``."""
    core = oid[: -len(TREE_SUFFIX)] if is_tree(oid) else oid
    return bool(_HEX64.fullmatch(core))


def tree_bytes(entries: dict[str, str]) -> bytes:
    """Canonical bytes of a manifest mapping posix relpath -> file oid."""
    listing = [{"relpath": relpath, "sha256": entries[relpath]} for relpath in sorted(entries)]
    return json.dumps(listing, sort_keys=True).encode("utf-8")


def tree_oid(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest() + TREE_SUFFIX


def parse_tree(data: bytes, oid: str = "") -> dict[str, str]:
    """Read manifest bytes back, refusing anything that could escape the checkout folder.

    Raises:
        CorruptObjectError: the bytes are not a well-formed manifest.
    """
    try:
        listing = json.loads(data)
    except ValueError as exc:
        raise CorruptObjectError(f"tree object {oid} is not valid JSON") from exc
    if not isinstance(listing, list):
        raise CorruptObjectError(f"tree object {oid} is not a list")
    entries: dict[str, str] = {}
    for item in listing:
        relpath = item.get("relpath") if isinstance(item, dict) else None
        child = item.get("sha256") if isinstance(item, dict) else None
        if not isinstance(relpath, str) or not is_safe_relpath(relpath):
            raise CorruptObjectError(f"tree object {oid} has an unsafe path {relpath!r}")
        if not isinstance(child, str) or is_tree(child) or not is_valid_oid(child):
            raise CorruptObjectError(f"tree object {oid} has a bad entry for {relpath!r}")
        entries[relpath] = child
    return entries
