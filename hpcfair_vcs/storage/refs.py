"""Artifact names -> their versions (oldest first) and tags.

One JSON file per artifact in ``refs/artifacts/NAME.json``, replaced
atomically. Every update is a compare-and-swap under the repository lock: the
writer states which head version it started from, and the update fails if
another process moved the head in between.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..fileio.files import atomic_write
from ..errors import ArtifactNotFoundError, CorruptRecordError, InvalidNameError, StaleRefError
from .tree import is_tree, is_valid_oid
from ..validate import is_tracked_path, refuse_bad_fields

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
RESERVED_TAGS = {"latest"}
KINDS = ("model", "dataset")


def check_name(name: str, what: str = "artifact name") -> str:
    """Raises InvalidNameError unless *name* is a safe artifact or tag name."""
    if not NAME_RE.fullmatch(name or "") or name.endswith(".hpcfair"):
        raise InvalidNameError(f"{name!r} is not a valid {what}")
    return name


def is_record_id(value: Any) -> bool:
    """A record id (a PID without its prefix): 64 lowercase hex digits."""
    return isinstance(value, str) and not is_tree(value) and is_valid_oid(value)  # a file oid's form


def check_tag(tag: str) -> str:
    """Raises InvalidNameError for a bad tag, or one that reads as a version number."""
    check_name(tag, "tag")
    if tag in RESERVED_TAGS or tag.isdigit() or re.fullmatch(r"[vV]\d+", tag):
        raise InvalidNameError(f"{tag!r} is reserved for version numbers",
                               hint="choose a tag with a letter in it, like 'prod' or 'paper-v1'")
    return tag


@dataclass
class ArtifactRef:
    name: str
    kind: str
    path: str  # repository-relative posix path of the tracked data
    versions: list[str] = field(default_factory=list)  # version ids, oldest first
    tags: dict[str, str] = field(default_factory=dict)  # tag -> version id
    metadata: str | None = None  # current MetadataRecord id
    version_metadata: dict[str, str] = field(default_factory=dict)  # version id -> its own MetadataRecord id

    @property
    def head(self) -> str | None:
        return self.versions[-1] if self.versions else None

    def metadata_of(self, version_id: str | None) -> str | None:
        """The metadata record that holds for *version_id*: its own if it was given one, else the artifact's."""
        return self.version_metadata.get(version_id or "") or self.metadata

    def number_of(self, version_id: str) -> int:
        return self.versions.index(version_id) + 1

    def tags_of(self, version_id: str) -> list[str]:
        return sorted(tag for tag, vid in self.tags.items() if vid == version_id)

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        if not self.version_metadata:
            del doc["version_metadata"]  # as refs were before versions could have metadata of their own
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> "ArtifactRef":
        """Raises ValueError for anything but a well-formed ref: refs arrive from remotes and clones."""
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        ref = cls(**doc)
        tags = ref.tags if isinstance(ref.tags, dict) else None
        problems = [
            (not isinstance(ref.name, str) or not NAME_RE.fullmatch(ref.name), "name"),
            (ref.kind not in KINDS, "kind"),
            (not is_tracked_path(ref.path), "path"),
            (not isinstance(ref.versions, list) or not all(is_record_id(v) for v in ref.versions), "versions"),
            (tags is None or not all(isinstance(t, str) and NAME_RE.fullmatch(t) and is_record_id(v)
                                     for t, v in tags.items()), "tags"),
            (ref.metadata is not None and not is_record_id(ref.metadata), "metadata"),
            (not isinstance(ref.version_metadata, dict) or not all(
                is_record_id(v) and is_record_id(m) for v, m in ref.version_metadata.items()), "version_metadata"),
        ]
        refuse_bad_fields(problems)
        return ref


class RefStore:
    """Refs under *root* (``.hpcfair/refs``)."""

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.dir = Path(root) / "artifacts"
        self.tmp_dir = Path(tmp_dir)
        # told (name, the refs folder's mtime before) after each write and delete: the catalog listens
        self.on_change: Callable[[str, int | None], None] | None = None

    def _path(self, name: str) -> Path:
        return self.dir / f"{check_name(name)}.json"

    def get(self, name: str) -> ArtifactRef:
        """Raises ArtifactNotFoundError or CorruptRecordError."""
        path = self._path(name)
        try:
            doc = json.loads(path.read_bytes())
            return ArtifactRef.from_dict(doc)
        except FileNotFoundError:
            raise ArtifactNotFoundError(f"no artifact named {name!r}", name=name) from None
        except (ValueError, TypeError) as exc:
            raise CorruptRecordError(f"ref file {path} is unreadable: {exc}", name=name, path=str(path)) from None

    def find(self, name: str) -> ArtifactRef | None:
        try:
            return self.get(name)
        except ArtifactNotFoundError:
            return None

    def names(self) -> list[str]:
        try:
            return sorted(n[:-5] for n in os.listdir(self.dir) if n.endswith(".json"))
        except FileNotFoundError:
            return []

    def all(self) -> list[ArtifactRef]:
        return [self.get(name) for name in self.names()]

    def write(self, ref: ArtifactRef, expected_head: str | None) -> None:
        """Replace the ref if its head is still *expected_head* (call under the repo lock).

        Raises:
            StaleRefError: the head moved since the caller read it.
        """
        current = self.find(ref.name)
        current_head = current.head if current else None
        if current_head != expected_head:
            raise StaleRefError(f"artifact {ref.name!r} changed while this command ran")
        self.dir.mkdir(parents=True, exist_ok=True)
        data = json.dumps(ref.to_dict(), sort_keys=True, indent=1).encode()
        before = self._folder_mtime()
        atomic_write(self._path(ref.name), data, tmp_dir=self.tmp_dir)
        self._changed(ref.name, before)

    def delete(self, name: str) -> None:
        before = self._folder_mtime()
        try:
            os.unlink(self._path(name))
        except FileNotFoundError:
            raise ArtifactNotFoundError(f"no artifact named {name!r}", name=name) from None
        self._changed(name, before)

    def _folder_mtime(self) -> int | None:
        try:
            return os.stat(self.dir).st_mtime_ns
        except FileNotFoundError:
            return None

    def _changed(self, name: str, before: int | None) -> None:
        if self.on_change is not None:
            self.on_change(name, before)
