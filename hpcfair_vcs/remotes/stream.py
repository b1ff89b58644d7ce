"""Big objects from a remote server (SSH, WebDAV, S3, HTTP) read as a stream.

dvc-data downloads each object to a file in the staging folder, which is then
read again to verify it and a third time to check it out: a GiB written and read
twice. A big object (``BYPASS_FROM`` and more) is instead read from the remote
once, through fsspec's ``open``, while the same pass hashes it, writes the
store's copy and (when checkout will copy) the work tree's
(``ObjectStore.receive_stream``). Only a few objects are looked at this way
(``FEW``): their sizes cost a round trip each; many objects are mostly small
(a dataset) and keep the batched paths, as do S3 remotes (see ``STREAMED``),
whose downloads are hashed and copied to the work tree in one pass when adopted.
"""

from __future__ import annotations

from typing import BinaryIO

from ..fileio.direct import BYPASS_FROM
from ..fileio.files import BLOCK
from ..errors import RefusedFileError
from ..progress import Advance
from ..storage.spares import SpareCopies
from ..storage.store import ObjectStore
from .connect import Remote

FEW = 16  # at most this many wanted objects are checked for size
# Not s3: s3fs reads a file in ranged GETs, and botocore checks each part against the
# whole object's checksum that some servers (rclone's) send with it, then refuses the part.
STREAMED = {"ssh", "webdav", "webdavs", "http", "https"}


class _AtMost:
    """A remote file read no further than *limit* bytes: a server that sends more is refused."""

    def __init__(self, stream: BinaryIO, limit: int, name: str) -> None:
        self.stream, self.left, self.limit, self.name = stream, limit, limit, name

    def read(self, count: int) -> bytes:
        data = self.stream.read(min(count, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise RefusedFileError(f"{self.name} sends more than the {self.limit} bytes its record declares")
        return data


def pull(remote: Remote, store: ObjectStore, oids: set[str], report: Advance,
         limits: dict[str, int] | None = None, spares: SpareCopies | None = None,
         ) -> tuple[dict[str, int], set[str], set[str]]:
    """Stream the big ones among *oids* into *store* (and *spares*); return (adopted id -> size, corrupt, failed).

    *report* is told the bytes read. An object larger than *limits* says (what its record
    declares) is corrupt, and is not read past that.

    Objects not returned in any of the three (small, missing, or too many asked
    for) are left for the batched transfer.
    """
    adopted: dict[str, int] = {}
    corrupt: set[str] = set()
    failed: set[str] = set()
    if remote.scheme not in STREAMED or len(oids) > FEW:
        return adopted, corrupt, failed
    for oid in sorted(oids):
        path = remote.path("files", "sha256", oid[:2], oid[2:])
        try:
            size = remote.fs.info(path)["size"]
        except Exception:  # noqa: BLE001 - missing or unreachable: the batched path reports it
            continue
        if size < BYPASS_FROM:
            continue
        limit = (limits or {}).get(oid, size)
        if size > limit:
            corrupt.add(oid)
            continue
        try:
            with remote.fs.open(path, "rb", block_size=BLOCK) as stream:
                staged = store.receive_stream(_AtMost(stream, limit, f"{remote.name}:{path}"),
                                              f"{remote.name}:{path}", report, spares)
        except RefusedFileError:
            corrupt.add(oid)
            continue
        except Exception:  # noqa: BLE001 - a connection lost midway fails this object only
            failed.add(oid)
            continue
        if not store.matches(staged, oid):
            corrupt.add(oid)
            continue
        store.commit([staged])
        adopted[oid] = staged.size
    return adopted, corrupt, failed
