"""The metadata keys of models and datasets, what each holds, and how a given value is checked.

A value arrives as YAML text (``hpcfair meta set clf tags=[mnist, vision]``) or as a
Python value (the API, a task file) and leaves normalised: a list key given one string
holds a one-element list, a license is a normalised SPDX expression, an author is
``Name`` or ``Name <ORCID>``. docs/metadata.md is written from the same table.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import MetadataError
from .identifiers import orcid, spdx_expression

MAX_TEXT = 20_000
MAX_ITEMS = 200
AUTHOR = re.compile(r"(?P<name>[^<>]+?)\s*(?:<(?P<orcid>[^<>]+)>)?")


@dataclass(frozen=True)
class Key:
    name: str
    holds: str  # what the docs say it holds
    check: Callable[[str, Any], Any] | None  # None: recorded by hpcfair, not set by hand
    example: str


def _text(key: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # `citation=2024` parses as a number
    if not isinstance(value, str) or not value.strip():
        raise MetadataError(f"{key}: expected text, got {_shown(value)}")
    if len(value) > MAX_TEXT:
        raise MetadataError(f"{key}: {len(value)} characters, more than {MAX_TEXT}")
    return value.strip()


def _word(key: str, value: Any) -> str:
    text = _text(key, value)
    if "\n" in text or len(text) > 200:
        raise MetadataError(f"{key}: expected one short line, got {_shown(value)}")
    return text


def _words(key: str, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_ITEMS:
        raise MetadataError(f"{key}: {len(items)} items, more than {MAX_ITEMS}")
    out: list[str] = []
    for item in items:
        word = _word(key, item)
        if word not in out:
            out.append(word)
    return out


def author(key: str, value: Any) -> str:
    """``Name`` or ``Name <ORCID>`` (a mapping ``{name, orcid}`` too), the ORCID iD checked."""
    if isinstance(value, dict):
        if not set(value) <= {"name", "orcid"} or "name" not in value:
            raise MetadataError(f"{key}: an author mapping has name and orcid, got {sorted(value)}")
        value = f"{value['name']} <{value['orcid']}>" if value.get("orcid") else value["name"]
    match = AUTHOR.fullmatch(_word(key, value))
    if match is None:
        raise MetadataError(f"{key}: {_shown(value)} is not 'Name' or 'Name <ORCID>'")
    name = match.group("name").strip()
    if match.group("orcid") is None:
        return name
    return f"{name} <{orcid(match.group('orcid'))}>"


def split_author(text: str) -> tuple[str, str | None]:
    """(name, ORCID iD or None) of a stored author."""
    match = AUTHOR.fullmatch(text)
    return (match.group("name").strip(), match.group("orcid")) if match else (text, None)


def _authors(key: str, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(author(key, item) for item in items))


def _license(key: str, value: Any) -> str:
    return spdx_expression(_word(key, value))


def _metrics(key: str, value: Any) -> dict[str, float | int]:
    if not isinstance(value, dict) or not value:
        raise MetadataError(f"{key}: expected a mapping of names to numbers, such as {{accuracy: 0.97}}, "
                            f"got {_shown(value)}")
    out: dict[str, float | int] = {}
    for name, number in value.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise MetadataError(f"{key}.{name}: expected a finite number, got {_shown(number)}")
        out[_word(key, name)] = number
    return out


def _reference(key: str, value: Any) -> str:
    return _word(key, value)  # NAME[@VERSION] or a PID; ops/meta.py resolves it to a PID


KEYS: dict[str, Key] = {k.name: k for k in (
    Key("name", "the artifact's name (given at `add`; it names the artifact, so it does not change)", None,
        "encoder"),
    Key("description", "what it is, in prose", _text, "description='MNIST digit classifier'"),
    Key("tags", "keywords to find it by (a list)", _words, "tags=[mnist, vision]"),
    Key("authors", "who made it: 'Name' or 'Name <ORCID iD>' (a list)", _authors,
        "authors=['Ada Lovelace <0000-0002-1825-0097>']"),
    Key("license", "an SPDX license expression", _license, "license='MIT OR Apache-2.0'"),
    Key("task", "what a model does or a dataset serves", _word, "task=image-classification"),
    Key("domain", "the science it comes from", _word, "domain='materials science'"),
    Key("framework", "the framework a model was made with (recorded by conversion)", None, "torch"),
    Key("signature", "a model's inputs and outputs (recorded by conversion)", None, "x[N,784] float32"),
    Key("metrics", "measured quality, names to numbers", _metrics, "metrics={accuracy: 0.97, f1: 0.95}"),
    Key("training_dataset", "the dataset version it was trained on (NAME[@VERSION] or a PID; kept as a PID)",
        _reference, "training_dataset=digits@2"),
    Key("citation", "how to cite it (a reference or a DOI)", _text, "citation='doi:10.5281/zenodo.123'"),
    Key("funding", "grants that paid for it (a list)", _words, "funding=['NSF OAC-2114481']"),
)}
SETTABLE = [name for name, key in KEYS.items() if key.check is not None]


def check(key: str, value: Any) -> Any:
    """*value* for *key*, normalised.

    Raises:
        MetadataError: an unknown or read-only key, or a value the key does not hold.
    """
    spec = KEYS.get(key)
    if spec is None:
        raise MetadataError(f"unknown metadata key {key!r}", hint=f"the keys are {', '.join(SETTABLE)}")
    if spec.check is None:
        raise MetadataError(f"{key} is recorded by hpcfair and cannot be set by hand ({spec.holds})",
                            hint=f"the keys you can set are {', '.join(SETTABLE)}")
    return spec.check(key, value)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as YAML (``tags=[a, b]``, ``metrics={acc: 0.9}``), checked.

    Raises:
        MetadataError: no ``=``, YAML that does not parse, or what :func:`check` refuses.
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise MetadataError(f"{text!r} is not KEY=VALUE", hint="for example tags=[mnist, vision]")
    import yaml

    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise MetadataError(f"{key}: {raw!r} is not a YAML value",
                            hint="quote text with ', write lists as [a, b] and mappings as {k: v}") from None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and KEYS.get(key.strip()) \
            and KEYS[key.strip()].check in (_text, _word):
        value = raw.strip().strip("'\"") if not isinstance(value, str) else value  # 1.0 stays "1.0"
    return key.strip(), check(key.strip(), value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
