"""``hpcfair meta set | unset | show``: editable metadata with history (schema: metadata/schema.py).

``NAME`` is the artifact's metadata, which holds for every version that has none of
its own; ``NAME@VERSION`` (or a PID) is that version's own, which starts as a copy of
what held for it. Every change writes a new metadata record naming the one it
replaced, so ``meta show --history`` lists each change and push/pull carry them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import MetadataError, UsageError
from ..metadata import schema
from ..repo import Repo, open_repo
from ..results import MetaChange, MetaResult
from ..storage.records import MetadataRecord, metadata_history, pid_of
from ..storage.refs import ArtifactRef
from .resolve import Resolved, resolve

EMPTY: dict[str, Any] = {"tags": [], "authors": [], "funding": [], "metrics": {}}  # what unset leaves; else ""


def meta_set(target: str, values: Mapping[str, Any] | Sequence[str], *, repo: Repo | str | None = None) -> MetaResult:
    """Set metadata keys of *target* (``NAME`` or ``NAME@VERSION``/PID): a mapping, or ``KEY=VALUE`` texts
    whose values are YAML. Every value is checked before anything changes.

    Raises:
        MetadataError (exit 1): an unknown or read-only key, a wrong type, an unknown SPDX id, a bad ORCID iD,
            a training_dataset that is not a dataset version here.
        ArtifactNotFoundError, VersionNotFoundError: no such target.
    """
    r = open_repo(repo)
    pairs = [schema.parse_assignment(text) for text in values] if not isinstance(values, Mapping) \
        else [(key, schema.check(key, value)) for key, value in values.items()]
    if not pairs:
        raise UsageError("no KEY=VALUE given", hint=f"the keys are {', '.join(schema.SETTABLE)}")
    changes = dict(pairs)
    if "training_dataset" in changes:
        changes["training_dataset"] = _dataset_pid(r, changes["training_dataset"])
    return _change(r, target, changes)


def meta_unset(target: str, keys: Iterable[str], *, repo: Repo | str | None = None) -> MetaResult:
    """Remove metadata keys of *target* (see :func:`meta_set`).

    Raises:
        MetadataError: an unknown or read-only key. ArtifactNotFoundError, VersionNotFoundError.
    """
    r = open_repo(repo)
    keys = list(keys)
    if not keys:
        raise UsageError("no KEY given", hint=f"the keys are {', '.join(schema.SETTABLE)}")
    for key in keys:
        if key not in schema.SETTABLE:
            schema.check(key, None)  # raises the unknown / read-only key's error
    return _change(r, target, {key: EMPTY.get(key, "") for key in keys})


def meta_show(target: str, *, repo: Repo | str | None = None, history: bool = False) -> MetaResult:
    """The metadata that holds for *target*, with its history when asked.

    Raises:
        ArtifactNotFoundError, VersionNotFoundError: no such target.
    """
    r = open_repo(repo)
    ref, version_id = _target(r, target)
    return _result(r, ref, version_id, history)


def _change(r: Repo, target: str, changes: dict[str, Any]) -> MetaResult:
    with r.lock:
        ref, version_id = _target(r, target)
        ref = r.refs.get(ref.name)  # as it is now, under the lock
        current_id = ref.metadata_of(version_id) if version_id else ref.metadata
        current = r.records.get(current_id, MetadataRecord) if current_id else \
            MetadataRecord(name=ref.name, kind=ref.kind)
        new_id = r.records.put(current.revised(current_id, **changes))
        if new_id != current_id:
            if version_id:
                ref.version_metadata[version_id] = new_id
            else:
                ref.metadata = new_id
            r.refs.write(ref, ref.head)
    return _result(r, ref, version_id, history=False)


def _target(r: Repo, target: str) -> tuple[ArtifactRef, str | None]:
    """The artifact and, for ``NAME@VERSION`` or a PID, the version; None for the artifact itself."""
    resolved: Resolved = resolve(r, target)
    if resolved.ref is None:
        raise MetadataError(f"{target} is a version of an artifact this repository does not track",
                            hint="hpcfair fetch brings the artifact's ref first")
    names_version = "@" in target or target != resolved.ref.name
    return resolved.ref, resolved.version_id if names_version else None


def _dataset_pid(r: Repo, spec: str) -> str:
    try:
        resolved = resolve(r, spec)
    except Exception as exc:  # noqa: BLE001 - any resolution failure is the key's error
        raise MetadataError(f"training_dataset: {getattr(exc, 'message', exc)}",
                            hint="give a dataset version here as NAME[@VERSION] or its PID") from None
    if resolved.record.kind != "dataset":
        raise MetadataError(f"training_dataset: {spec} is a {resolved.record.kind}, not a dataset")
    return pid_of(resolved.version_id)


def _result(r: Repo, ref: ArtifactRef, version_id: str | None, history: bool) -> MetaResult:
    current_id = ref.metadata_of(version_id) if version_id else ref.metadata
    record = r.records.get(current_id, MetadataRecord) if current_id else MetadataRecord(name=ref.name, kind=ref.kind)
    changes = []
    if history:
        ids = metadata_history(r.records, current_id)
        chain = [r.records.get(i, MetadataRecord) for i in ids]
        for record_id, newer, older in zip(ids, chain, [*chain[1:], None]):
            changes.append(MetaChange(record=pid_of(record_id), changed=newer.changed or None,
                                      keys=_changed_keys(newer, older)))
    return MetaResult(artifact=ref.name, version=ref.number_of(version_id) if version_id else None,
                      record=pid_of(current_id) if current_id else None, metadata=shown(record), history=changes)


def shown(record: MetadataRecord) -> dict[str, Any]:
    """The keys of *record* that hold something (the schema's keys, in its order)."""
    doc = record.to_dict()
    return {key: doc[key] for key in schema.KEYS if doc.get(key)}


def _changed_keys(newer: MetadataRecord, older: MetadataRecord | None) -> list[str]:
    before = shown(older) if older else {}
    after = shown(newer)
    return sorted(key for key in {*before, *after} if before.get(key) != after.get(key))
