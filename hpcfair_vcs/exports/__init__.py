"""Standard descriptions of one artifact version: RO-Crate, Croissant, a model card, DataCite JSON.

Each format works on a :class:`Subject` (what ops/export.py gathers from the repository) and
knows nothing of the repository. Metadata may come from a remote: every value is written
through a serialiser (JSON, YAML) or escaped (Markdown), never pasted into syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ONTOLOGY = "https://hpc-fair.github.io/ontology#"


@dataclass
class DataFile:
    path: str  # where it is in the export, posix
    size: int
    sha256: str


@dataclass
class Subject:
    name: str
    kind: str  # model | dataset
    version: int
    pid: str
    created: str  # ISO 8601
    metadata: dict[str, Any]  # the schema's keys that hold something (metadata/schema.py)
    files: list[DataFile] = field(default_factory=list)  # the data, as exported
    folder: str | None = None  # a dataset folder's name in the export, when the data is a folder
    onnx: DataFile | None = None  # a model's ONNX form, exported beside it
    onnx_pid: str | None = None
    tool: str = "hpcfair"

    @property
    def year(self) -> int:
        return int(self.created[:4])
