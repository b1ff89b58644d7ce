"""Moving objects, records and refs between the local repository and a remote.

All transfers go through dvc-data's ``transfer`` over dvc-objects filesystems.
Downloads land in a staging folder under ``.hpcfair/tmp/`` and each object is
re-hashed before it is moved into the store: a corrupt or truncated remote
object never enters it. ``transfer`` reports per-object failures instead of
stopping, so one bad object does not stop the rest.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from pathlib import Path

from ..fileio.tmpfiles import remove_stale_tmp, tmp_name
from ..errors import CorruptRecordError, HpcfairError, RefusedFileError, RemoteError
from ..progress import Advance, ignore
from ..storage.spares import SpareCopies
from ..storage.records import RECORD_TYPES, ProvenanceRecord, VersionRecord, metadata_history
from ..storage.refs import NAME_RE, ArtifactRef
from ..repo import Repo
from ..storage.tree import is_tree
from . import local_copy, ssh_bulk, stream
from .connect import Remote, explain
from .progress import fsspec_callback


@dataclass
class Moved:
    """What one transfer moved: counts, bytes, and ids that failed."""

    transferred: set[str] = field(default_factory=set)
    skipped: int = 0  # already there
    failed: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)  # downloaded but did not match its hash
    missing: set[str] = field(default_factory=set)  # not on the remote at all
    nbytes: int = 0

    def absorb(self, adopted: dict[str, int], corrupt: Set[str], failed: Set[str] = frozenset()) -> set[str]:
        """Count what one path moved (adopted id -> size); return every id it settled."""
        self.transferred |= set(adopted)
        self.nbytes += sum(adopted.values())
        self.corrupt |= corrupt
        self.failed |= failed
        return set(adopted) | corrupt | failed


def local_odb(path: Path):
    from dvc_data.hashfile.db.local import LocalHashFileDB
    from dvc_objects.fs.local import LocalFileSystem

    return LocalHashFileDB(LocalFileSystem(), os.fspath(path), hash_name="sha256")


def hash_infos(oids: Iterable[str]):
    from dvc_data.hashfile.hash_info import HashInfo

    return {HashInfo("sha256", oid) for oid in oids}


def probe(remote: Remote, *, create: bool) -> None:
    """Reach the remote once, so a wrong password or a dead server is one clear error.

    Raises:
        RemoteError: unreachable, refused, missing (and not creatable), or read-only.
    """
    target = remote.root
    if remote.scheme in ("s3", "gs", "azure"):
        target = remote.root.split("/", 1)[0]  # the bucket; prefixes appear with their objects
    try:
        remote.fs.info(target or remote.fs.root_marker)  # unlike exists(), info() lets errors out
        exists = True
    except FileNotFoundError:
        exists = False
    except Exception as exc:  # noqa: BLE001 - each library raises its own types
        raise explain(remote, exc) from None
    if exists:
        return
    if create and remote.scheme in ("local", "ssh"):
        try:
            remote.fs.makedirs(remote.root, exist_ok=True)
        except Exception as exc:  # noqa: BLE001
            raise explain(remote, exc) from None
        return
    what = {"s3": "bucket", "gs": "bucket", "azure": "container", "webdav": "collection",
            "webdavs": "collection"}.get(remote.scheme, "folder")
    raise RemoteError(f"remote {remote.name!r}: the {what} {target or remote.shown_url} does not exist",
                      hint=f"create the {what} on the server first", remote=remote.name)


def upload(repo: Repo, remote: Remote, src_db, oids: set[str], sizes: dict[str, int], jobs: int | None,
           report: Advance = ignore, subdir: str = "files/sha256") -> Moved:
    """Copy *oids* from a local HashFileDB to the remote (skipping what is there); tell *report* the bytes.

    Many small objects to an SSH server go as tar streams (ssh_bulk); the rest,
    or everything when that is not possible, through dvc-data's transfer.
    """
    from dvc_data.hashfile.status import compare_status
    from dvc_data.hashfile.transfer import transfer

    dest = remote.objects if subdir == "files/sha256" else remote.records
    if local_copy.usable(remote) and subdir == "files/sha256":
        moved, failed = local_copy.push(remote, repo.store, {o: sizes[o] for o in oids}, jobs, report)
        return Moved(transferred=moved, skipped=len(oids) - len(moved) - len(failed), failed=failed,
                     nbytes=sum(sizes[o] for o in moved))
    try:
        status = compare_status(src_db, dest, hash_infos(oids), check_deleted=False, jobs=jobs)
        new = {h.value for h in status.new}
        bulk: set[str] = set()
        small = sorted(o for o in new if sizes.get(o, 0) <= ssh_bulk.MAX_OBJECT)
        if ssh_bulk.usable(remote, len(small)):
            try:
                bulk = ssh_bulk.push(remote, Path(src_db.path), small, repo.tmp_dir, subdir, report)
            except ssh_bulk.BulkUnavailable:
                bulk = set()
        result = transfer(src_db, dest, hash_infos(new - bulk), jobs=jobs, callback=fsspec_callback(report))
    except Exception as exc:  # noqa: BLE001 - connection lost before per-object handling
        raise explain(remote, exc) from None
    moved = bulk | {h.value for h in result.transferred}
    failed = {h.value for h in result.failed}
    # transfer() looks again: what appeared in between (another pusher, or the server side of
    # a killed push still finishing) is already there, like what compare_status found
    return Moved(transferred=moved, skipped=len(oids) - len(moved) - len(failed),
                 failed=failed, nbytes=sum(sizes.get(o, 0) for o in moved))


MAX_SMALL_FILE = 16 << 20  # bytes: a ref, the index or a record larger than this is refused


def download(repo: Repo, remote: Remote, src_db, oids: set[str], adopt, jobs: int | None,
             report: Advance = ignore, subdir: str = "files/sha256", limits: dict[str, int] | None = None,
             spares: SpareCopies | None = None) -> Moved:
    """Copy *oids* from the remote into staging, verify each, and ``adopt`` it; tell *report* the bytes.

    Objects that did not arrive are told apart: ``missing`` when the remote does not have them
    (someone never pushed them), ``failed`` when it does. *limits* (id -> bytes, what the
    records declare) bounds what a local-folder remote's files and streamed big objects may hold.
    Given *spares*, big objects read from a local folder or streamed get their work-tree copy
    in the same pass (*adopt* is told of *spares* by the caller).
    """
    if not oids:
        return Moved()
    remove_stale_tmp(repo.tmp_dir)
    if local_copy.usable(remote) and subdir == "files/sha256":
        moved = Moved()
        moved.absorb(*local_copy.pull(remote, repo.store, oids, jobs, report, limits, spares))
    else:
        moved = _download_staged(repo, remote, src_db, oids, adopt, jobs, report, subdir, limits, spares)
    if subdir == "files/sha256":
        moved.missing = _not_on_remote(remote, src_db, oids - moved.transferred - moved.corrupt)
        moved.failed -= moved.missing
        moved.skipped = len(oids - moved.transferred - moved.corrupt - moved.failed - moved.missing)
    return moved


def _not_on_remote(remote: Remote, src_db, oids: set[str]) -> set[str]:
    """Those of *oids* the remote does not have (none when that cannot be told)."""
    if not oids:
        return set()
    if local_copy.usable(remote):
        return oids - local_copy.present(os.fspath(remote.path("files", "sha256")), oids)
    try:
        return oids - set(src_db.oids_exist(oids))
    except Exception:  # noqa: BLE001 - the server went away: they stay failed
        return set()


def _download_staged(repo: Repo, remote: Remote, src_db, oids: set[str], adopt, jobs: int | None,
                     report: Advance, subdir: str, limits: dict[str, int] | None,
                     spares: SpareCopies | None) -> Moved:
    """Streamed, bulk (SSH tar) or dvc-data transfer into a staging folder, then adopted."""
    from dvc_data.hashfile.transfer import transfer

    staging = tmp_name(repo.tmp_dir, "incoming-")
    staging.mkdir()
    moved = Moved()
    try:
        rest = set(oids)
        if subdir == "files/sha256":  # big objects: one pass from the server to store and work tree
            rest -= moved.absorb(*stream.pull(remote, repo.store, rest, report, limits, spares))
        if local_copy.usable(remote):  # records: only regular files, of a bounded size
            rest -= moved.absorb(*local_copy.pull_small(remote, subdir, sorted(rest), staging, adopt,
                                                        MAX_SMALL_FILE))
        if ssh_bulk.usable(remote, len(rest)):
            try:
                adopted, corrupt = ssh_bulk.pull(remote, sorted(rest), staging, adopt, subdir, report)
            except ssh_bulk.BulkUnavailable:
                adopted, corrupt = {}, set()
            except Exception as exc:  # noqa: BLE001
                raise explain(remote, exc) from None
            rest -= moved.absorb(adopted, corrupt)
        if rest:
            try:
                result = transfer(src_db, local_odb(staging), hash_infos(rest), jobs=jobs,
                                  callback=fsspec_callback(report))
            except Exception as exc:  # noqa: BLE001
                raise explain(remote, exc) from None
            moved.failed |= {h.value for h in result.failed}
            for info in result.transferred:
                path = staging / info.value[:2] / info.value[2:]
                size = path.stat().st_size if path.exists() else 0
                if adopt(path, info.value):
                    moved.transferred.add(info.value)
                    moved.nbytes += size
                else:
                    moved.corrupt.add(info.value)
            rest -= {h.value for h in result.transferred} | moved.failed
        moved.skipped = len(rest)  # neither side had anything to move
        return moved
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --- refs on the remote ----------------------------------------------------------

def ref_path(remote: Remote, name: str) -> str:
    return remote.path("refs", "artifacts", f"{name}.json")


def index_path(remote: Remote) -> str:
    return remote.path("refs", "index.json")


def read_remote_index(remote: Remote) -> list[str]:
    """Artifact names listed in ``refs/index.json`` (so plain HTTP remotes need no listing)."""
    try:
        names = json.loads(_read_small(remote, index_path(remote), "refs/index.json"))
    except FileNotFoundError:
        return []
    except ValueError:
        raise CorruptRecordError(f"remote {remote.name!r}: refs/index.json is unreadable") from None
    if not isinstance(names, list) or not all(isinstance(n, str) and NAME_RE.fullmatch(n) for n in names):
        raise CorruptRecordError(f"remote {remote.name!r}: refs/index.json has bad names")
    return names


def read_remote_refs(remote: Remote) -> list[ArtifactRef]:
    """Every artifact ref named by the remote's index (an unreadable one is an integrity error).

    Raises:
        RemoteError, CorruptRecordError.
    """
    try:
        refs = []
        for name in sorted(set(read_remote_index(remote))):
            try:
                raw = _read_small(remote, ref_path(remote, name), f"remote ref {name}.json")
            except FileNotFoundError:
                continue
            refs.append(_parse_ref(raw, f"{name}.json"))
        return refs
    except HpcfairError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise explain(remote, exc) from None


def _read_small(remote: Remote, path: str, shown: str) -> bytes:
    """A ref or the index: at most MAX_SMALL_FILE bytes, from a regular file (local folders).

    Raises:
        CorruptRecordError: a link, pipe or device, or a larger file.
        FileNotFoundError: it is not there.
    """
    try:
        if local_copy.usable(remote):
            data = local_copy.read_small(path, MAX_SMALL_FILE)
        else:
            with remote.fs.open(path, "rb") as fobj:
                data = fobj.read(MAX_SMALL_FILE + 1)
    except RefusedFileError as exc:
        raise CorruptRecordError(f"remote {remote.name!r}: {shown} is refused: {exc.message}",
                                 hint=exc.hint, remote=remote.name, path=shown) from None
    if len(data) > MAX_SMALL_FILE:
        raise CorruptRecordError(f"remote {remote.name!r}: {shown} is larger than {MAX_SMALL_FILE} bytes",
                                 hint=RefusedFileError.default_hint, remote=remote.name, path=shown)
    return data


def _parse_ref(raw: bytes, filename: str) -> ArtifactRef:
    try:
        ref = ArtifactRef.from_dict(json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise CorruptRecordError(f"remote ref {filename} is unreadable: {exc}",
                                 path=f"refs/artifacts/{filename}") from None
    if f"{ref.name}.json" != filename:
        raise CorruptRecordError(f"remote ref {filename} names another artifact ({ref.name})",
                                 path=f"refs/artifacts/{filename}")
    return ref


def write_remote_ref(repo: Repo, remote: Remote, ref: ArtifactRef) -> None:
    """Upload one ref atomically (a whole file or nothing)."""
    _put_json(repo, remote, ref.to_dict(), ref_path(remote, ref.name))


def write_remote_index(repo: Repo, remote: Remote, names: set[str]) -> None:
    _put_json(repo, remote, sorted(names), index_path(remote))


def _put_json(repo: Repo, remote: Remote, doc: object, path: str) -> None:
    tmp = tmp_name(repo.tmp_dir, "ref-")
    tmp.write_bytes(json.dumps(doc, sort_keys=True, indent=1).encode())
    try:
        remote.fs.makedirs(remote.fs.parent(path), exist_ok=True)
        remote.fs.put_file(os.fspath(tmp), path)
    except Exception as exc:  # noqa: BLE001
        raise explain(remote, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def merge_refs(ours: ArtifactRef | None, theirs: ArtifactRef, repo: Repo | None = None) -> ArtifactRef:
    """Our versions first, then theirs that we lack; our tags win. Metadata (the artifact's and each
    version's own): the record that replaced the other wins, as the history in *repo* says; when the two
    changed apart ours wins, and theirs is kept when *repo* does not hold it (it cannot be compared)."""
    if ours is None:
        return ArtifactRef.from_dict(theirs.to_dict())
    merged = ArtifactRef.from_dict(ours.to_dict())
    merged.versions += [v for v in theirs.versions if v not in merged.versions]
    for tag, version in theirs.tags.items():
        merged.tags.setdefault(tag, version)
    merged.metadata = newer_metadata(repo, merged.metadata, theirs.metadata)
    for version, metadata in theirs.version_metadata.items():
        merged.version_metadata[version] = newer_metadata(repo, merged.version_metadata.get(version), metadata)
    return merged


def newer_metadata(repo: Repo | None, ours: str | None, theirs: str | None) -> str | None:
    """Of two metadata record ids, the one whose history holds the other; see :func:`merge_refs`."""
    if ours is None or theirs is None or ours == theirs:
        return ours or theirs
    if repo is None or not repo.records.exists(theirs):
        return theirs
    if ours in metadata_history(repo.records, theirs):
        return theirs
    return ours


def records_needed(repo: Repo, refs: Iterable[ArtifactRef]) -> set[str]:
    """Record ids that *refs* name, directly or through their versions, and that exist locally (metadata
    with its history)."""
    needed: set[str] = set()
    for ref in refs:
        for metadata in {ref.metadata, *ref.version_metadata.values()} - {None}:
            needed.update(metadata_history(repo.records, metadata))
        for version_id in ref.versions:
            if repo.records.exists(version_id):
                needed |= {version_id} | {i for i in linked_records(repo, version_id) if repo.records.exists(i)}
    return needed


def linked_records(repo: Repo, version_id: str) -> set[str]:
    """The metadata, provenance and runtime record ids a stored version names."""
    version = repo.records.get(version_id, VersionRecord)
    linked = {i for i in (version.metadata, version.provenance) if i}
    if version.provenance and repo.records.exists(version.provenance):
        runtime = repo.records.get(version.provenance, ProvenanceRecord).runtime
        linked |= {runtime} if runtime else set()
    return linked


def objects_of(repo: Repo, oid: str) -> tuple[dict[str, int], bool]:
    """The objects a version needs (a tree and its files) by id, with their sizes; False when some are not stored."""
    sizes = repo.store.sizes([oid])
    if not sizes:
        return {}, False
    if not is_tree(oid):
        return sizes, True
    children = set(repo.store.read_tree(oid).values())
    sizes.update(repo.store.sizes(children))
    return sizes, len(sizes) == len(children | {oid})


def adopt_record(repo: Repo, on_record: Advance = ignore):
    """An ``adopt`` for records: check the hash and that it parses, then keep it; *on_record* counts them."""
    def adopt(path: Path, record_id: str) -> bool:
        import hashlib

        on_record(1)
        data = path.read_bytes() if path.exists() else b""
        path.unlink(missing_ok=True)
        if hashlib.sha256(data).hexdigest() != record_id:
            return False
        try:
            doc = json.loads(data)
        except ValueError:
            return False
        if not isinstance(doc, dict) or doc.get("type") not in RECORD_TYPES:
            return False
        return repo.records.put_bytes(data) == record_id
    return adopt
