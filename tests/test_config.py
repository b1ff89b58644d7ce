"""Layered configuration: defaults < user < repo < local < env < arguments; unknown keys rejected."""

from __future__ import annotations

import pytest

from hpcfair_vcs import config
from hpcfair_vcs.errors import ConfigError
from hpcfair_vcs.repo import Repo


def test_defaults(repo):
    with Repo(repo) as r:
        assert r.config["core"]["link_types"] == ["reflink", "copy"]
        assert r.config["core"]["lock_timeout"] == 60.0


def test_precedence(repo, isolated_env, monkeypatch):
    user = config.user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text("core:\n  lock_timeout: 5\n  link_types: [symlink]\n")
    (repo / ".hpcfair" / "config.yaml").write_text("core:\n  lock_timeout: 6\n")
    (repo / ".hpcfair" / "config.local.yaml").write_text("core:\n  lock_timeout: 7\n")
    loaded = config.load(repo / ".hpcfair")
    assert loaded["core"] == {"lock_timeout": 7.0, "link_types": ["symlink"], "remote": None}
    monkeypatch.setenv("HPCFAIR_LOCK_TIMEOUT", "8")
    assert config.load(repo / ".hpcfair")["core"]["lock_timeout"] == 8.0
    monkeypatch.setenv("HPCFAIR_LINK_TYPES", "hardlink,copy")
    assert config.load(repo / ".hpcfair")["core"]["link_types"] == ["hardlink", "copy"]
    assert config.load(repo / ".hpcfair", {"core": {"lock_timeout": 9}})["core"]["lock_timeout"] == 9.0


@pytest.mark.parametrize("text, words", [
    ("nope: {}\n", "unknown section 'nope'"),
    ("core:\n  colour: red\n", "unknown key core.colour"),
    ("core:\n  lock_timeout: -1\n", "core.lock_timeout must be a positive number"),
    ("core:\n  link_types: [teleport]\n", "core.link_types must be a list"),
    ("core: 3\n", "must be a mapping"),
    ("- a\n- b\n", "expected a mapping"),
    ("core:\n  lock_timeout: [\n", "line"),
])
def test_invalid_files_name_the_file_and_key(repo, text, words):
    (repo / ".hpcfair" / "config.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        config.load(repo / ".hpcfair")
    assert words in str(err.value) and "config.yaml" in str(err.value)


def test_bad_env_value(monkeypatch):
    monkeypatch.setenv("HPCFAIR_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="environment"):
        config.load(None)
