"""The layers of docs/architecture.md hold: import-linter checks every import, at the top of a module or
inside a function, against the contracts in pyproject.toml; a back-edge fails the suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.fspath(root)}
    return subprocess.run([os.fspath(LINT), "--config", os.fspath(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True)


def test_the_package_keeps_its_layers():
    proc = lint(ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "7 kept, 0 broken" in proc.stdout


def test_an_import_up_the_layers_inside_a_function_fails(tmp_path):
    """What the contract is for: a lazy import that dodges the layers is caught like any other."""
    shutil.copytree(ROOT / "hpcfair_vcs", tmp_path / "hpcfair_vcs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    store = tmp_path / "hpcfair_vcs" / "storage" / "store.py"
    store.write_text(store.read_text() + "\n\ndef _report():\n    from ..cli import _common  # noqa: F401\n")
    proc = lint(tmp_path)
    assert proc.returncode != 0 and "hpcfair layers BROKEN" in proc.stdout, proc.stdout[-3000:]
    assert "hpcfair_vcs.storage.store -> hpcfair_vcs.cli._common" in proc.stdout


def test_the_module_map_in_the_docs_lists_the_layers_in_their_order():
    """docs/architecture.md says "a module imports only modules listed below it": its top-level
    entries must appear in the contract's order (siblings of one layer in any order)."""
    import re
    import tomllib

    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    layer_of = {name.strip().removeprefix("hpcfair_vcs."): index
                for index, layer in enumerate(contract["layers"]) for name in layer.split("|")}
    doc = (ROOT / "docs" / "architecture.md").read_text()
    block = doc.split("## Module map", 1)[1].split("```")[1]
    listed = [m.group(1) for m in re.finditer(r"^  ([A-Za-z_]+)(?:\.py|/)\s", block, re.MULTILINE)]
    assert set(listed) == set(layer_of) - {"__main__"}, set(listed) ^ (set(layer_of) - {"__main__"})
    indexes = [layer_of[name] for name in listed]
    assert indexes == sorted(indexes), list(zip(listed, indexes))
