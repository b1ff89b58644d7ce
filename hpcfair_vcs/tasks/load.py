"""Reading a task config from a YAML file (keeping each key's line) or a dict."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import PathNotFoundError, TaskConfigError
from .schema import validate


def load(config: str | os.PathLike | dict[str, Any], expected_task: str | None = None) -> dict[str, dict[str, Any]]:
    """A checked config from a file path or a dict.

    Raises:
        PathNotFoundError: no such file.
        TaskConfigError: malformed YAML, a duplicate key, or anything the schema refuses.
    """
    if isinstance(config, dict):
        return validate(config, {}, "the task config", expected_task)
    path = Path(config)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PathNotFoundError(f"task config {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskConfigError(f"{path}: cannot read it: {exc}") from None
    doc, lines = parse(text, os.fspath(path))
    return validate(doc if doc is not None else {}, lines, os.fspath(path), expected_task)


def parse(text: str, source: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    """The YAML document and the line of every mapping key, by key path."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TaskConfigError(f"{where}: not valid YAML: {problem}",
                              hint="check the indentation and the ':' after each key") from None
    lines: dict[tuple[str, ...], int] = {}
    _walk(root, (), lines, source)
    return doc, lines


def _walk(node: Any, path: tuple[str, ...], lines: dict[tuple[str, ...], int], source: str) -> None:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise TaskConfigError(f"{source}:{line}: {'.'.join((*path, key))}: duplicate key")
        seen.add(key)
        lines[(*path, key)] = line
        _walk(value_node, (*path, key), lines, source)
