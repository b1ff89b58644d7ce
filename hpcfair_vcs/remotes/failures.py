"""What went wrong with a remote, read from the exception types its libraries raise.

asyncssh, httpx/webdav4, botocore/s3fs and aiohttp each have their own
exception types; DVC and fsspec wrap them, so the cause is searched along
``__cause__``/``__context__``.  Library types are looked up in ``sys.modules``:
a library that is not imported cannot have raised, and classifying an error
imports nothing.  Library types are checked along the whole chain before the
built-in ``OSError`` family, because s3fs turns a 403 into ``PermissionError``
and a read-only local folder raises it too.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Iterator
from enum import Enum


class Failure(Enum):
    HOST_KEY = "the server's host key is not trusted"
    DENIED = "access denied"
    NO_BUCKET = "the bucket does not exist"
    UNREACHABLE = "the server cannot be reached"
    READ_ONLY = "the remote is read-only or not writable here"


DENIED_STATUS = {401, 403}
DENIED_S3_CODES = {"401", "403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                   "InvalidToken", "ExpiredToken"}
NO_BUCKET_S3_CODES = {"NoSuchBucket"}
READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


def classify(exc: BaseException) -> Failure | None:
    """The kind of failure *exc* (or what caused it) is, or None when no rule knows it."""
    chain = list(_chain(exc))
    for each in chain:
        kind = _library_failure(each)
        if kind is not None:
            return kind
    for each in chain:
        kind = _builtin_failure(each)
        if kind is not None:
            return kind
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _types(module: str, *names: str) -> tuple[type, ...]:
    """The named exception classes of *module*, if it is imported (else none)."""
    mod = sys.modules.get(module)
    return tuple(getattr(mod, name) for name in names if mod is not None and hasattr(mod, name))


def _library_failure(exc: BaseException) -> Failure | None:
    if isinstance(exc, _types("asyncssh", "HostKeyNotVerifiable")):
        return Failure.HOST_KEY
    if isinstance(exc, _types("asyncssh", "PermissionDenied")):
        return Failure.DENIED
    if isinstance(exc, _types("asyncssh", "DisconnectError", "ConnectionLost")):
        return Failure.UNREACHABLE
    if isinstance(exc, _types("webdav4.client", "HTTPError")) and exc.status_code in DENIED_STATUS:
        return Failure.DENIED
    if isinstance(exc, _types("httpx", "HTTPStatusError")) and exc.response.status_code in DENIED_STATUS:
        return Failure.DENIED
    if isinstance(exc, _types("httpx", "TransportError")):
        return Failure.UNREACHABLE
    if isinstance(exc, _types("botocore.exceptions", "ClientError")):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in DENIED_S3_CODES:
            return Failure.DENIED
        if code in NO_BUCKET_S3_CODES:
            return Failure.NO_BUCKET
    if isinstance(exc, _types("botocore.exceptions", "NoCredentialsError", "PartialCredentialsError")):
        return Failure.DENIED
    if isinstance(exc, _types("botocore.exceptions", "EndpointConnectionError", "ConnectTimeoutError",
                              "ReadTimeoutError")):
        return Failure.UNREACHABLE
    if isinstance(exc, _types("aiohttp", "ClientResponseError")) and exc.status in DENIED_STATUS:
        return Failure.DENIED
    if isinstance(exc, _types("aiohttp", "ClientConnectionError")):
        return Failure.UNREACHABLE
    return None


def _builtin_failure(exc: BaseException) -> Failure | None:
    if isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)):
        return Failure.UNREACHABLE
    if isinstance(exc, OSError) and exc.errno in READ_ONLY_ERRNOS:
        return Failure.READ_ONLY
    return None
