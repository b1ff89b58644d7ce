"""Tree manifests: canonical bytes and refusal of paths that escape."""

from __future__ import annotations

import json

import pytest

from hpcfair_vcs.errors import CorruptObjectError
from hpcfair_vcs.storage.tree import is_safe_relpath, is_valid_oid, parse_tree, tree_bytes, tree_oid


def test_bytes_are_sorted_and_independent_of_insertion_order():
    one = tree_bytes({"b": "2" * 64, "a/c": "1" * 64})
    two = tree_bytes({"a/c": "1" * 64, "b": "2" * 64})
    assert one == two
    assert [e["relpath"] for e in json.loads(one)] == ["a/c", "b"]
    assert tree_oid(one).endswith(".dir") and is_valid_oid(tree_oid(one))


@pytest.mark.parametrize("relpath", ["../x", "/etc/passwd", "a/../../b", "a//b", "", "./a", "a\\b"])
def test_unsafe_paths_are_refused(relpath):
    assert not is_safe_relpath(relpath)
    data = json.dumps([{"relpath": relpath, "sha256": "1" * 64}]).encode()
    with pytest.raises(CorruptObjectError):
        parse_tree(data, "x.dir")


@pytest.mark.parametrize("data", [b"not json", b"{}", b'[{"relpath": "a", "sha256": "zz"}]',
                                  b'[{"relpath": "a", "sha256": "' + b"1" * 64 + b'.dir"}]', b"[1]"])
def test_malformed_manifests_are_refused(data):
    with pytest.raises(CorruptObjectError):
        parse_tree(data, "x.dir")


def test_round_trip():
    entries = {"a": "1" * 64, "d/e/f.bin": "2" * 64}
    assert parse_tree(tree_bytes(entries)) == entries
