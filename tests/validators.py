"""The real validators of the export formats, in their own environment (.venv-validators, made by tests/run.sh):
roc-validator pins rich<14, which import-linter in the test environment cannot share."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv-validators" / "bin"

SEED = """
import sys
from pathlib import Path
import requests, rocrate
from requests_cache import CachedSession
from urllib3 import HTTPResponse
cache, url = sys.argv[1], "https://w3id.org/ro/crate/1.3/context"
content = (Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_bytes()  # the context rocrate ships
session = CachedSession(cache_name=cache, backend="sqlite", expire_after=-1, allowable_codes=(200, 302, 404))
response = requests.Response()
response.status_code, response.url, response._content, response.encoding = 200, url, content, "utf-8"
response.headers["Content-Type"] = "application/ld+json"
response.request = requests.Request("GET", url).prepare()
response.raw = HTTPResponse(body=b"", headers=dict(response.headers), status=200, preload_content=False, request_url=url)
session.cache.save_response(response)
"""

LOAD_RECORDS = """
import json, sys
import mlcroissant as mlc
dataset = mlc.Dataset(jsonld=sys.argv[1])
records = [{k: (v.decode() if isinstance(v, bytes) else v) for k, v in r.items()} for r in dataset.records(sys.argv[2])]
print(json.dumps(records))
"""

DATACITE = """
import json, sys
from datacite import schema45
attributes = json.load(open(sys.argv[1]))["data"]["attributes"]
errors = [e.message for e in schema45.validator.iter_errors(attributes)]
schema45.tostring(attributes)  # and it makes DataCite XML
print(json.dumps(errors))
"""


def require() -> Path:
    if not (BIN / "rocrate-validator").exists():
        pytest.skip("the validators are not installed (tests/run.sh makes .venv-validators)")
    return BIN


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def rocrate(crate: Path, cache: Path) -> dict:
    """roc-validator's report at its REQUIRED level, offline, its HTTP cache seeded with rocrate's context."""
    bin_ = require()
    if not Path(f"{cache}.sqlite").exists():
        seeded = run(os.fspath(bin_ / "python"), "-c", SEED, os.fspath(cache))
        assert seeded.returncode == 0, seeded.stderr
    report = crate.parent / f"{crate.name}-report.json"
    done = run(os.fspath(bin_ / "rocrate-validator"), "-y", "validate", "--offline", "--cache-path", os.fspath(cache),
               "--requirement-severity", "REQUIRED", "-f", "json", "-o", os.fspath(report), os.fspath(crate))
    assert report.exists(), done.stdout + done.stderr
    return json.loads(report.read_text())


def croissant_validate(path: Path) -> subprocess.CompletedProcess:
    return run(os.fspath(require() / "mlcroissant"), "validate", "--jsonld", os.fspath(path))


def croissant_records(path: Path, record_set: str) -> list[dict]:
    done = run(os.fspath(require() / "python"), "-c", LOAD_RECORDS, os.fspath(path), record_set, cwd=path.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def datacite_errors(path: Path) -> list[str]:
    done = run(os.fspath(require() / "python"), "-c", DATACITE, os.fspath(path))
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)
