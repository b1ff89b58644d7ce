"""Property-based fuzzing of every parser that reads outside input: pointer files, refs, records,
tree manifests, task configs and ``--input`` specs. Whatever the bytes, each gives a result or an
hpcfair error, never another exception. Hypothesis runs a bounded number of examples (CI: under a
minute for the whole file)."""

from __future__ import annotations

import hashlib
import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpcfair_vcs.worktree import pointer as pointer_mod
from hpcfair_vcs.onnx_io.signature import parse_output_name, parse_tensor
from hpcfair_vcs.errors import HpcfairError
from hpcfair_vcs.storage.records import RECORD_TYPES, RecordStore
from hpcfair_vcs.storage.refs import RefStore
from hpcfair_vcs.remotes.sync import _parse_ref
from hpcfair_vcs.tasks.load import load as load_task
from hpcfair_vcs.storage.tree import parse_tree

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# JSON-like values: what json.loads or yaml.safe_load can hand a validator
scalars = st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70) | \
    st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
near_paths = st.text(string.ascii_letters + "./\\\n\x00 -_", max_size=30)


def near_valid(good: dict, keys_values: dict) -> st.SearchStrategy[dict]:
    """Documents that start from a good one and change some fields to hostile values."""
    return st.fixed_dictionaries({}, optional={k: v for k, v in keys_values.items()}).map(
        lambda changes: {**good, **changes})


def only_hpcfair_errors(call) -> None:
    try:
        call()
    except HpcfairError:
        pass


# --- pointer files ------------------------------------------------------------------------------

GOOD_POINTER = (f"artifact: m\nkind: model\nversion: 1\npid: hpcfair:{'b' * 64}\noid: {'a' * 64}\n"
                "size: 1\nnfiles: 1\nformat: 1\n")


@FUZZ
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode) |
       st.builds(lambda cut, junk: (GOOD_POINTER[:cut] + junk).encode(), st.integers(0, len(GOOD_POINTER)),
                 st.text(max_size=40)))
def test_pointer_files(tmp_path, data):
    path = tmp_path / "x.hpcfair"
    path.write_bytes(data)
    only_hpcfair_errors(lambda: pointer_mod.read(path))


# --- refs ---------------------------------------------------------------------------------------

GOOD_REF = {"name": "m", "kind": "model", "path": "models/m.bin", "versions": ["c" * 64], "tags": {}, "metadata": None}
ref_docs = near_valid(GOOD_REF, {"name": json_values | near_paths, "kind": json_values, "path": near_paths | json_values,
                                 "versions": st.lists(hex64 | json_values, max_size=3) | json_values,
                                 "tags": st.dictionaries(st.text(max_size=8), hex64 | json_values, max_size=3)
                                 | json_values,
                                 "metadata": hex64 | json_values, "extra": json_values})


@FUZZ
@given(doc=ref_docs | json_values)
def test_remote_refs(doc):
    only_hpcfair_errors(lambda: _parse_ref(json.dumps(doc).encode(), "m.json"))


@FUZZ
@given(data=st.binary(max_size=200) | ref_docs.map(lambda d: json.dumps(d).encode()))
def test_local_ref_files(tmp_path, data):
    refs = RefStore(tmp_path / "refs", tmp_path)
    (tmp_path / "refs" / "artifacts").mkdir(parents=True, exist_ok=True)
    (tmp_path / "refs" / "artifacts" / "m.json").write_bytes(data)
    only_hpcfair_errors(lambda: refs.get("m"))


# --- records ------------------------------------------------------------------------------------

GOOD_VERSION = {"type": "version", "artifact": "m", "kind": "model", "number": 1, "path": "m.bin",
                "object": {"oid": "a" * 64, "size": 1, "nfiles": 1}, "parent": None, "metadata": None,
                "provenance": None, "created": "2026-01-01T00:00:00Z", "tool": {"hpcfair": "0.1.0"}}
record_docs = near_valid(GOOD_VERSION, {k: json_values | near_paths for k in GOOD_VERSION} | {
    "object": st.fixed_dictionaries({"oid": hex64 | json_values, "size": json_values, "nfiles": json_values})})


@FUZZ
@given(doc=record_docs | json_values, cls=st.sampled_from(sorted(RECORD_TYPES.values(), key=lambda c: c.TYPE)))
def test_records(tmp_path, doc, cls):
    data = json.dumps(doc, sort_keys=True).encode()
    record_id = hashlib.sha256(data).hexdigest()
    store = RecordStore(tmp_path / "records", tmp_path)
    store.put_bytes(data)
    only_hpcfair_errors(lambda: store.get(record_id, cls))


# --- tree manifests -----------------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=200) | st.lists(
    st.fixed_dictionaries({"relpath": near_paths | json_values, "sha256": hex64 | json_values}), max_size=4)
    .map(lambda items: json.dumps(items).encode()) | json_values.map(lambda v: json.dumps(v).encode()))
def test_tree_manifests(data):
    only_hpcfair_errors(lambda: parse_tree(data, "x.dir"))


# --- task configs -------------------------------------------------------------------------------

GOOD_TASK = "general: {task: infer}\ntask:\n  artifact: m\n  input: x.npy\noutput: {path: out.npz}\n"


@FUZZ
@given(text=st.text(max_size=200) | st.builds(lambda cut, junk: GOOD_TASK[:cut] + junk,
                                                st.integers(0, len(GOOD_TASK)), st.text(max_size=30)))
def test_task_config_files(tmp_path, text):
    path = tmp_path / "task.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    only_hpcfair_errors(lambda: load_task(path))


@FUZZ
@given(doc=st.dictionaries(st.sampled_from(["general", "device", "task", "output", "other"]), json_values,
                           max_size=4))
def test_task_config_dicts(doc):
    only_hpcfair_errors(lambda: load_task(doc))


# --- --input and --output-name specs --------------------------------------------------------------

@FUZZ
@given(text=st.text(string.printable, max_size=40))
def test_tensor_specs(text):
    only_hpcfair_errors(lambda: parse_tensor(text))
    only_hpcfair_errors(lambda: parse_output_name(text))


def test_a_known_good_input_of_each_parser_parses(tmp_path):
    """The fuzzed parsers accept what hpcfair itself writes (a parser refusing everything passes the fuzzing)."""
    (tmp_path / "x.hpcfair").write_text(GOOD_POINTER)
    assert pointer_mod.read(tmp_path / "x.hpcfair").artifact == "m"
    assert _parse_ref(json.dumps(GOOD_REF).encode(), "m.json").path == "models/m.bin"
    data = json.dumps(GOOD_VERSION, sort_keys=True).encode()
    store = RecordStore(tmp_path / "records", tmp_path)
    assert store.get(store.put_bytes(data), RECORD_TYPES["version"]).number == 1
    assert parse_tree(json.dumps([{"relpath": "a/b", "sha256": "a" * 64}]).encode()) == {"a/b": "a" * 64}
    (tmp_path / "task.yaml").write_text(GOOD_TASK)
    assert load_task(tmp_path / "task.yaml")["general"]["task"] == "infer"
    assert parse_tensor("x:N,1,28,28:float32").shape == ["N", 1, 28, 28]


def spelled_out_safe_relpath(relpath: str) -> bool:
    """validate.is_safe_relpath's rule written plainly, part by part: the fast version must agree."""
    from hpcfair_vcs.validate import MAX_NAME_BYTES, MAX_PATH_BYTES

    if not relpath or relpath.startswith("/") or "\\" in relpath:
        return False
    if any(ord(char) < 32 or char == "\x7f" for char in relpath):
        return False
    if len(relpath.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        return False
    return all(part not in ("", ".", "..") and part.lower() != ".git"
               and len(part.encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES for part in relpath.split("/"))


@FUZZ
@given(st.text(string.ascii_letters[:6] + "./\\\n\x7f\x00" + "gGiItT" + "é€😀", max_size=24)
       | st.builds(lambda a, b: a + "/" + b, st.text("xé😀", min_size=50, max_size=300), st.text("ab./", max_size=8)))
def test_the_fast_path_check_agrees_with_the_rule_spelled_out(relpath):
    from hpcfair_vcs.validate import is_safe_relpath

    assert is_safe_relpath(relpath) == spelled_out_safe_relpath(relpath)
