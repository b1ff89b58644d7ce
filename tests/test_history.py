"""log, show, tag, remove, and PIDs."""

from __future__ import annotations

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import ArtifactNotFoundError, InvalidNameError, VersionNotFoundError
from hpcfair_vcs.repo import Repo

from .conftest import write


@pytest.fixture
def three_versions(repo):
    for content in (b"1", b"22", b"333"):
        write(repo / "m.pt", content)
        api.add(["m.pt"])
    return repo


def test_log_newest_first_with_parent_chain(three_versions):
    versions = api.log("m").versions
    assert [v.number for v in versions] == [3, 2, 1]
    assert [v.size for v in versions] == [3, 2, 1]
    assert versions[0].parent == versions[1].pid and versions[2].parent is None


def test_log_of_everything(three_versions):
    write(three_versions / "other.csv", "x")
    api.add(["other.csv"])
    versions = api.log().versions
    assert versions[0].artifact == "other" and len(versions) == 4


@pytest.mark.parametrize("spec, number", [("m", 3), ("m@1", 1), ("m@v2", 2), ("m@latest", 3)])
def test_show_version_specs(three_versions, spec, number):
    assert api.show(spec).number == number


def test_pid_is_content_derived_unique_and_resolvable(three_versions):
    info = api.show("m@2")
    assert info.pid.startswith("hpcfair:") and len(info.pid) == len("hpcfair:") + 64
    assert api.show(info.pid).number == 2
    assert api.show(info.pid[:16]).number == 2
    assert api.show(info.pid.removeprefix("hpcfair:")[:10]).artifact == "m"
    with Repo(three_versions) as r:
        from hpcfair_vcs.storage.records import VersionRecord

        record = r.records.get(info.pid.removeprefix("hpcfair:"), VersionRecord)
        assert record.record_id() == info.pid.removeprefix("hpcfair:")
    pids = {v.pid for v in api.log("m").versions}
    assert len(pids) == 3


def test_unknown_names_versions_and_tags(three_versions):
    with pytest.raises(ArtifactNotFoundError):
        api.show("nope")
    with pytest.raises(VersionNotFoundError, match="1 to 3"):
        api.show("m@9")
    with pytest.raises(VersionNotFoundError):
        api.show("m@no-such-tag")
    with pytest.raises(ArtifactNotFoundError):
        api.show("hpcfair:" + "0" * 64)
    with pytest.raises(ArtifactNotFoundError):
        api.log("nope")


def test_tags_move_and_delete(three_versions):
    assert api.tag("m@1", "prod").moved_from is None
    assert api.show("m@prod").number == 1
    moved = api.tag("m@3", "prod")
    assert moved.moved_from == 1 and api.show("m@prod").number == 3
    assert api.tag("m", "paper").version == 3
    deleted = api.tag("m", "prod", delete=True)
    assert deleted.deleted and deleted.version == 3
    with pytest.raises(VersionNotFoundError):
        api.show("m@prod")
    with pytest.raises(VersionNotFoundError):
        api.tag("m", "prod", delete=True)
    with pytest.raises(InvalidNameError):
        api.tag("m@1", "v3")


def test_remove_keeps_data_and_history_records(three_versions):
    root = three_versions
    pid = api.show("m@1").pid
    result = api.remove("m")
    assert result.versions == 3 and result.pointer_removed
    assert (root / "m.pt").read_bytes() == b"333"
    assert not (root / "m.pt.hpcfair").exists()
    with pytest.raises(ArtifactNotFoundError):
        api.show("m")
    assert api.show(pid).artifact == "m"  # the PID stays resolvable
    with pytest.raises(ArtifactNotFoundError):
        api.remove("m")
    # the path can be tracked again from scratch
    assert api.add(["m.pt"]).items[0].version == 1


def test_search_words_tags_and_kind(repo):
    write(repo / "models" / "enc.pt", b"1")
    write(repo / "data" / "table.csv", "a\n")
    api.add(["models/enc.pt"], description="MNIST encoder", authors=["Ada Lovelace"], tags=["prod"])
    api.add(["data/table.csv"], license="CC-BY-4.0")
    assert [v.artifact for v in api.search("mnist").versions] == ["enc"]
    assert [v.artifact for v in api.search("lovelace encoder").versions] == ["enc"]
    assert api.search("mnist missing-word").versions == []
    assert [v.artifact for v in api.search("cc-by").versions] == ["table"]
    assert [v.artifact for v in api.search(tags=["prod"]).versions] == ["enc"]
    assert [v.artifact for v in api.search(kind="dataset").versions] == ["table"]
    assert len(api.search().versions) == 2
    assert api.search(framework="torch").versions == []
