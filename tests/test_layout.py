"""The on-disk layout drawn in repo.py and docs/architecture.md is the one init creates."""

from __future__ import annotations

import os
import re
from pathlib import Path

import hpcfair_vcs.repo as repo_mod
from hpcfair_vcs import api

from .conftest import write

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def drawn_tree(text: str) -> set[str]:
    """Paths from a box-drawing tree that starts at '.hpcfair/'."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == ".hpcfair/")
    base = len(lines[start]) - len(lines[start].lstrip())
    paths, stack = set(), []
    for line in lines[start + 1:]:
        match = re.match(r"^([ │]*)[├└]── (\S+)", line)
        if not match:
            break
        depth = (len(match.group(1)) - base) // 4
        stack[depth:] = [match.group(2).rstrip("/")]
        paths.add("/".join(stack))
    return paths


def actual_tree(control: Path) -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(control):
        rel = os.path.relpath(folder, control)
        for name in dirs + files:
            path = name if rel == "." else f"{rel}/{name}"
            if path.count("/") < 2 or path.startswith(("files/sha256", "refs/artifacts")):
                found.add(path)
    return {p for p in found if not re.search(r"/[0-9a-f]{2}($|/)|\.json$|state\.db-|catalog\.db-|^owners/[0-9a-f]{16}$", p)}


def test_docstring_tree_matches_a_new_git_repository(make_repo):
    root = make_repo(git=True)
    write(root / "m.pt", b"x")
    api.add(["m.pt"])
    assert drawn_tree(repo_mod.__doc__) == actual_tree(root / ".hpcfair")


def test_architecture_doc_draws_the_same_tree():
    assert drawn_tree(DOC.read_text()) == drawn_tree(repo_mod.__doc__)


def test_local_config_is_private(make_repo):
    root = make_repo()
    assert (root / ".hpcfair" / "config.local.yaml").stat().st_mode & 0o777 == 0o600


def test_docs_tasks_lists_every_key_of_the_schema():
    from hpcfair_vcs.tasks.schema import GROUPS, TASK_FIELDS

    text = (Path(__file__).resolve().parents[1] / "docs" / "tasks.md").read_text()
    keys = {f"`{group}.{key}`" for group, fields in GROUPS.items() for key in fields}
    keys |= {f"`task.{key}`" for fields in TASK_FIELDS.values() for key in fields}
    keys |= {f"### task: {task}" for task in TASK_FIELDS}
    assert {k for k in keys if k not in text} == set()
