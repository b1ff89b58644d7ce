"""Many small objects over SSH in one tar stream instead of several SFTP round trips each.

dvc-data still decides what is missing (``compare_status``). When that is many
small objects and the server has a shell with ``tar`` and ``cp``, they travel as
one tar archive per batch over an SSH exec channel:

- push: the archive is unpacked into ``ROOT/.hpcfair-tmp-ID/`` and hard-linked
  into ``ROOT/files/sha256/`` (``cp -rln``: each object appears whole or not at
  all), files before trees, then the staging folder is removed;
- pull: the server archives the requested objects; each member is checked
  against the requested ids, written to local staging, and adopted only if its
  sha256 matches (``ObjectStore.adopt``).

Anything the fast path cannot do (no shell, no tar) falls back to dvc-data's
transfer, object by object.
"""

from __future__ import annotations

import os
import shlex
import tarfile
import uuid
from collections.abc import Callable
from pathlib import Path

from ..adapters.dvc_ssh import execute
from ..progress import Advance, ignore
from ..fileio.tmpfiles import tmp_name
from ..storage.tree import is_tree, is_valid_oid
from .connect import Remote

MIN_OBJECTS = 64  # below this, per-object SFTP is as fast
MAX_OBJECT = 1 << 20  # larger objects go through dvc-data (parallel SFTP streams)
BATCH = 5000


class BulkUnavailable(Exception):
    """The server cannot run the commands this needs; use the per-object path."""


def usable(remote: Remote, count: int) -> bool:
    return remote.scheme == "ssh" and count >= MIN_OBJECTS


def _execute(remote: Remote, command: str, **kwargs):
    try:
        return execute(remote.fs, command, **kwargs)
    except Exception as exc:  # noqa: BLE001 - exec refused: an SFTP-only account
        raise BulkUnavailable(str(exc)) from exc


def push(remote: Remote, store_root: Path, oids: list[str], tmp_dir: Path, subdir: str = "files/sha256",
         report: Advance = ignore) -> set[str]:
    """Upload small objects (files first, then trees); return the ids now on the remote.

    *report* is told the bytes of each batch once it is there.

    Raises:
        BulkUnavailable: the server has no usable shell, tar or cp.
    """
    files = [o for o in oids if not is_tree(o)]
    trees = [o for o in oids if is_tree(o)]
    done: set[str] = set()
    for group in (files, trees):  # a tree appears only once all its files are there
        for start in range(0, len(group), BATCH):
            batch = group[start:start + BATCH]
            report(_push_batch(remote, store_root, batch, tmp_dir, subdir))
            done.update(batch)
    return done


def _push_batch(remote: Remote, store_root: Path, batch: list[str], tmp_dir: Path, subdir: str) -> int:
    """Upload one batch as a tar stream; return the bytes of its objects."""
    archive = tmp_name(tmp_dir, "bulk-")
    try:
        with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT) as tar:
            for oid in batch:
                tar.add(store_root / oid[:2] / oid[2:], arcname=f"{subdir}/{oid[:2]}/{oid[2:]}")
            size = sum(member.size for member in tar.getmembers())
        root = shlex.quote(remote.root)
        staging = shlex.quote(f"{remote.root}/.hpcfair-tmp-{uuid.uuid4().hex[:12]}")
        top = subdir.split("/")[0]
        command = (f"set -e; mkdir -p {staging} {root}/{subdir}; tar -x -f - -C {staging}; "
                   f"cp -rln {staging}/{top}/. {root}/{top}/; rm -rf {staging}")
        result = _execute(remote, f"sh -c {shlex.quote(command)}", stdin=os.fspath(archive))
        if result.exit_status != 0:
            raise BulkUnavailable((result.stderr or b"").decode(errors="replace")[-300:])
        return size
    finally:
        archive.unlink(missing_ok=True)


def pull(remote: Remote, oids: list[str], staging: Path, adopt: Callable[[Path, str], bool],
         subdir: str = "files/sha256", report: Advance = ignore) -> tuple[dict[str, int], set[str]]:
    """Download objects into *staging* and adopt the verified ones, telling *report* the bytes of each.

    Returns (adopted id -> size, corrupt ids).

    Objects the server does not have are in neither set.

    Raises:
        BulkUnavailable: the server has no usable shell or tar.
    """
    adopted: dict[str, int] = {}
    corrupt: set[str] = set()
    for start in range(0, len(oids), BATCH):
        batch = oids[start:start + BATCH]
        wanted = {f"{o[:2]}/{o[2:]}": o for o in batch}
        archive = staging / f"bulk-{start}.tar"
        names = "".join(f"{name}\n" for name in wanted).encode()
        folder = shlex.quote(f"{remote.root}/{subdir}")
        command = f"cd {folder} && tar -c -f - --ignore-failed-read -T - 2>/dev/null; true"
        list_file = staging / f"bulk-{start}.list"
        list_file.write_bytes(names)
        result = _execute(remote, f"sh -c {shlex.quote(command)}", stdin=os.fspath(list_file),
                          stdout=os.fspath(archive))
        if result.exit_status != 0:
            raise BulkUnavailable("tar failed on the server")
        _unpack(archive, wanted, staging, adopt, adopted, corrupt, report)
        archive.unlink(missing_ok=True)
    return adopted, corrupt


def _unpack(archive: Path, wanted: dict[str, str], staging: Path, adopt: Callable[[Path, str], bool],
            adopted: dict[str, int], corrupt: set[str], report: Advance) -> None:
    try:
        tar = tarfile.open(archive, "r")
    except tarfile.TarError:
        return  # nothing usable came back: the per-object path will retry
    with tar:
        for member in tar:
            oid = wanted.get(member.name)
            if oid is None or not member.isfile() or not is_valid_oid(oid):
                continue  # never write a name that was not asked for
            source = tar.extractfile(member)
            target = staging / f"obj-{oid[:16]}"
            with open(target, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            report(member.size)
            if adopt(target, oid):
                adopted[oid] = member.size
            else:
                corrupt.add(oid)
