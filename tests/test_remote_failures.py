"""Remote failures are classified by the exception types asyncssh, httpx/webdav4, botocore and
aiohttp raise (remotes/failures.py), as DVC and fsspec wrap them; the real servers' failures
are in test_remotes.py and test_remote_config.py."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest

from hpcfair_vcs.remotes.failures import Failure, classify

pytestmark = pytest.mark.servers  # the remote libraries are not in the minimum-versions run


def wrapped(inner: BaseException, outer: BaseException) -> BaseException:
    """*outer* raised from *inner*, as DVC, fsspec and s3fs re-raise."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as caught:
        return caught


def http_status(code: int):
    import httpx

    request = httpx.Request("GET", "http://127.0.0.1:1/dav")
    return httpx.HTTPStatusError(f"{code}", request=request, response=httpx.Response(code, request=request))


def test_ssh_failures():
    import asyncssh

    assert classify(asyncssh.HostKeyNotVerifiable("Host key is not trusted")) is Failure.HOST_KEY
    denied = asyncssh.PermissionDenied("Permission denied for user root")
    assert classify(wrapped(denied, PermissionError(str(denied)))) is Failure.DENIED  # as sshfs re-raises
    assert classify(asyncssh.ConnectionLost("lost")) is Failure.UNREACHABLE
    assert classify(ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")) is Failure.UNREACHABLE


def test_webdav_and_http_failures():
    import httpx
    from webdav4.client import HTTPError

    status = http_status(401)
    assert classify(wrapped(status, HTTPError(status.response))) is Failure.DENIED
    assert classify(http_status(403)) is Failure.DENIED
    assert classify(http_status(500)) is None  # not a rule's: shown as the library said it
    assert classify(httpx.ConnectError("[Errno 111] Connection refused")) is Failure.UNREACHABLE
    assert classify(httpx.ReadTimeout("timed out")) is Failure.UNREACHABLE


def test_http_remote_failures():
    """dvc-http reads plain HTTP remotes with aiohttp."""
    import aiohttp
    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL

    url = URL("http://127.0.0.1:1/store")
    info = aiohttp.RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()), url)
    assert classify(aiohttp.ClientResponseError(info, (), status=401)) is Failure.DENIED
    assert classify(aiohttp.ClientResponseError(info, (), status=404)) is None
    assert classify(aiohttp.ServerDisconnectedError()) is Failure.UNREACHABLE


def test_s3_failures():
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    forbidden = ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadBucket")
    # s3fs turns a 403 into PermissionError: still access denied, not a read-only folder
    assert classify(wrapped(forbidden, PermissionError("Forbidden"))) is Failure.DENIED
    assert classify(ClientError({"Error": {"Code": "SignatureDoesNotMatch"}}, "PutObject")) is Failure.DENIED
    assert classify(ClientError({"Error": {"Code": "NoSuchBucket"}}, "ListObjectsV2")) is Failure.NO_BUCKET
    assert classify(ClientError({"Error": {"Code": "SlowDown"}}, "PutObject")) is None
    assert classify(NoCredentialsError()) is Failure.DENIED
    assert classify(EndpointConnectionError(endpoint_url="http://127.0.0.1:1")) is Failure.UNREACHABLE


def test_local_folder_failures():
    assert classify(PermissionError(errno.EACCES, "Permission denied", "/remote/files")) is Failure.READ_ONLY
    assert classify(OSError(errno.EROFS, "Read-only file system")) is Failure.READ_ONLY
    assert classify(OSError(errno.ENOSPC, "No space left on device")) is None


def test_a_message_alone_classifies_nothing():
    """The words of a message are not a type: a server's text saying 401 is not access denied."""
    assert classify(RuntimeError("received 401 (Unauthorized)")) is None
    assert classify(ValueError("Host key is not trusted")) is None


def test_classifying_imports_no_library():
    code = ("import sys; from hpcfair_vcs.remotes.failures import classify; "
            "classify(wrapped := RuntimeError('x')); "
            "print(sorted(m for m in ('asyncssh', 'httpx', 'botocore', 'aiohttp', 'webdav4') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
