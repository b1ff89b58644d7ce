"""The catalog: ranked words, exact filters, kept current by every change, rebuilt when lost, text stays text."""

from __future__ import annotations

import json
import os

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.repo import Repo

from .conftest import write

ADA = "0000-0002-1825-0097"


def names(result) -> list[str]:
    return [v.artifact for v in result.versions]


@pytest.fixture
def catalogued(repo, cli):
    """Three artifacts with metadata: 'mnist' (a model), 'digits' (a dataset), 'notes' (a dataset)."""
    for name, data in (("mnist.bin", b"m"), ("digits.csv", "1\n"), ("notes.txt", "n\n")):
        write(repo / name, data)
    cli("add", "mnist.bin", "--kind", "model", "--no-convert", "--tag", "prod")
    cli("add", "digits.csv", "notes.txt")
    cli("meta", "set", "mnist", "description=handwritten digit classifier", "tags=[vision]", "task=classification",
        f"authors=['Ada Lovelace <{ADA}>']", "license=MIT OR Apache-2.0")
    cli("meta", "set", "digits", "description=the MNIST digits as CSV, for mnist models", "tags=[vision, tabular]",
        "license=CC-BY-4.0", "domain=computer vision", "authors=[Alan Turing]")
    cli("meta", "set", "notes", "description=lab notes on the digits dataset", "tags=[tabular]")
    return repo


def test_words_are_ranked_and_filters_are_exact(catalogued):
    assert names(api.search("mnist")) == ["mnist", "digits"]  # the name outranks a description
    found = names(api.search("digit"))  # words are matched by their beginning
    assert found[0] == "digits" and sorted(found) == ["digits", "mnist", "notes"]
    assert names(api.search("vision digits")) == ["digits"]
    assert names(api.search("cc-by")) == ["digits"]
    assert names(api.search("lovelace")) == ["mnist"]
    assert names(api.search(tags=["vision", "tabular"])) == ["digits"]
    assert names(api.search(tags=["prod"])) == ["mnist"]  # a version tag counts too
    assert names(api.search("digits", tags=["vision"], kind="dataset")) == ["digits"]
    assert names(api.search(task="classification")) == ["mnist"]
    assert names(api.search(license="apache-2.0")) == ["mnist"]  # one id of the expression
    assert names(api.search(license="MIT")) == ["mnist"] and names(api.search(license="CC-BY")) == []
    assert names(api.search(author="alan turing")) == ["digits"] and names(api.search(author=ADA)) == ["mnist"]
    limited = api.search("digit", limit=1)
    assert names(limited) == ["digits"] and limited.total == 3


def test_every_change_shows_at_once(catalogued, cli):
    cli("meta", "set", "notes", "task=classification")
    assert names(api.search(task="classification")) == ["mnist", "notes"]
    cli("tag", "notes", "paper")
    assert names(api.search(tags=["paper"])) == ["notes"]
    cli("remove", "notes")
    assert "notes" not in names(api.search())
    write(catalogued / "digits.csv", "2\n")
    cli("add", "digits.csv")
    assert api.search("digits").versions[0].number == 2
    assert cli.json("search", "--license", "MIT")["total"] == 1


def test_a_lost_corrupt_or_stale_catalog_is_rebuilt_and_loses_nothing(catalogued, cli):
    path = catalogued / ".hpcfair" / "catalog.db"
    before = names(api.search("digit"))
    os.unlink(path)
    assert names(api.search("digit")) == before and path.exists()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.unlink(f"{path}{suffix}")
    path.write_bytes(b"this is not a database" * 100)
    assert names(api.search("digit")) == before
    with Repo(catalogued) as r:  # a ref written behind the catalog's back (an older hpcfair, a killed process)
        ref = r.refs.get("notes")
        ref.tags["stale"] = ref.head
        r.refs.on_change = None
        r.refs.write(ref, ref.head)
    assert names(api.search(tags=["stale"])) == ["notes"]
    assert cli.json("index", "rebuild")["artifacts"] == 3
    assert names(api.search("digit")) == before


def test_metadata_text_stays_text(repo, cli):
    """Metadata is untrusted (it may come from a remote): SQL and FTS syntax in it are only words."""
    write(repo / "x.bin", b"x")
    cli("add", "x.bin")
    evil = "'); DROP TABLE artifacts; -- \"NEAR(a b)\" OR * ^"
    cli("meta", "set", "x", f"description={json.dumps(evil)}")
    assert names(api.search("drop table")) == ["x"]
    assert names(api.search('" OR NEAR( *')) == ["x"]  # the query's syntax is words too
    assert names(api.search()) == ["x"]


def test_add_finds_the_same_bytes_through_the_catalog(repo):
    write(repo / "a.bin", b"same bytes")
    write(repo / "b.bin", b"same bytes")
    api.add(["a.bin"])
    assert api.add(["b.bin"]).items[0].duplicate_of.artifact == "a"
