"""The checks every value read from outside the process passes before it is used.

Refs, version records, tree manifests and pointer files come from remotes and
clones (docs/security.md); their paths, counts and fields are checked here, the
way git's ``verify_path`` guards every index entry. A value that fails is an
integrity error naming the file it came from (the callers add the file).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

MAX_PATH_BYTES, MAX_NAME_BYTES = 4096, 255  # Linux's PATH_MAX and NAME_MAX
MANAGED_DIRS = (".hpcfair", ".git")  # the repository's own folders: never a tracked path's first part
MAX_COUNT = 1 << 53  # bytes (8 PiB) or files: larger counts come from a lying record, not from real data


_BAD_CHAR = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters and the backslash
_BAD_PART = re.compile(r"(?:^|/)(?:\.{0,2}|\.git)(?:/|$)", re.IGNORECASE)  # "", ".", "..", ".git"
SHORT = MAX_NAME_BYTES // 4  # a path of at most this many characters fits both limits (4 bytes a character)


def is_safe_relpath(relpath: Any) -> bool:
    """True for a relative posix path that stays inside its folder: no ``..``, ``.``, empty part,
    backslash, control character (NUL, newline, ...) or ``.git`` part (git's own rule), and of a
    length every file system takes. (Regular expressions: a walk checks every file it finds.)"""
    if not isinstance(relpath, str) or not relpath or relpath[0] == "/" or _BAD_CHAR.search(relpath):
        return False
    if _BAD_PART.search(relpath):
        return False
    if len(relpath) <= SHORT:
        return True
    return len(os.fsencode(relpath)) <= MAX_PATH_BYTES and all(
        len(os.fsencode(part)) <= MAX_NAME_BYTES for part in relpath.split("/"))


def is_tracked_path(relpath: Any) -> bool:
    """A safe path for tracked data (refs, records): also not inside ``.hpcfair/`` or ``.git/``."""
    return is_safe_relpath(relpath) and relpath.split("/", 1)[0] not in MANAGED_DIRS


def is_count(value: Any) -> bool:
    """A whole number from 0 to MAX_COUNT (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def refuse_bad_fields(problems: Iterable[tuple[bool, str]]) -> None:
    """Raises ValueError ("bad FIELD, FIELD") naming each field whose check is true (wrong)."""
    bad = [name for wrong, name in problems if wrong]
    if bad:
        raise ValueError(f"bad {', '.join(bad)}")
