"""Results are typed all the way down, and their --json form is what it was when parts were dicts."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from hpcfair_vcs import results
from hpcfair_vcs.results import (AddedItem, ConversionOutcome, ConvertResult, Parity, ProvenanceInfo, Result,
                                 SignatureInfo, TensorInfo, VersionInfo)

# The mappings with no fixed keys (see results.py): what a user, a tool or an activity puts there.
OPEN_MAPPINGS = {
    ("VersionInfo", "metadata"), ("ProvenanceInfo", "generated_by"), ("ProvenanceInfo", "parameters"),
    ("ProvenanceInfo", "results"), ("RuntimeInfo", "platform"), ("RuntimeInfo", "packages"),
    ("RuntimeInfo", "hardware"), ("RuntimeInfo", "hyperparameters"), ("DerivedResult", "checks"),
    ("ConversionOutcome", "about"), ("RemoteInfo", "options"), ("InferResult", "arrays"),
    ("LoadedResult", "description"), ("MetaResult", "metadata"), ("LineageNode", "attributes"),
    ("ContainerInfo", "packages"), ("ImageInfo", "pins"),
}


def result_classes():
    return [cls for cls in vars(results).values()
            if isinstance(cls, type) and issubclass(cls, Result) and dataclasses.is_dataclass(cls)]


def test_no_result_nests_an_untyped_dict_beyond_the_open_mappings():
    untyped = []
    for cls in result_classes():
        hints = typing.get_type_hints(cls, vars(results))
        for f in dataclasses.fields(cls):
            text = repr(hints[f.name])
            typed_values = "Info" in text  # dict[str, OutputInfo]
            if "dict[" in text and not typed_values and (cls.__name__, f.name) not in OPEN_MAPPINGS:
                untyped.append(f"{cls.__name__}.{f.name}: {text}")
    assert untyped == []


def converted() -> ConvertResult:
    signature = SignatureInfo([TensorInfo("x", ["N", 3], "float32")], [TensorInfo("y", ["N", 1], "float32")])
    parity = Parity(max_abs=1e-7, max_rel=2e-7, tolerance=1e-4, seed=0, batch=4, inputs=["random"], outputs=1)
    return ConvertResult(source="m@1", source_pid="hpcfair:ab", framework="torch", converter="torch",
                         converter_version="2", artifact="m.onnx", version=1, pid="hpcfair:cd", oid="e" * 64,
                         size=10, signature=signature, parity=parity)


def test_a_conversion_outcome_is_flat_in_json_as_before():
    result = converted()
    assert ConversionOutcome("converted", result).to_dict() == {"status": "converted", **result.to_dict()}
    assert result.to_dict()["signature"] == {"inputs": [{"name": "x", "shape": ["N", 3], "dtype": "float32"}],
                                             "outputs": [{"name": "y", "shape": ["N", 1], "dtype": "float32"}]}
    assert ConversionOutcome("skipped", message="no inputs", hint="--input").to_dict() == {
        "status": "skipped", "reason": "no inputs", "hint": "--input"}
    failed = ConversionOutcome("failed", message="bad", hint="h", error="ParityError", exit_code=3,
                               about={"path": "m.pt"})
    assert failed.to_dict() == {"status": "failed", "error": "ParityError", "message": "bad", "hint": "h",
                                "exit_code": 3, "path": "m.pt"}
    item = AddedItem(path="m.pt", artifact="m", kind="model", version=1, pid="p", oid="o", size=1, nfiles=1,
                     pointer="m.pt.hpcfair", new_version=True, new_objects=1, conversion=failed)
    assert item.to_dict()["conversion"]["exit_code"] == 3
    assert results.AddResult([item]).exit_code == 3


def test_parts_read_as_attributes_and_by_their_json_keys():
    outcome = ConversionOutcome("converted", converted())
    assert outcome.result.parity.max_rel == 2e-7 and outcome.result.signature.inputs[0].shape == ["N", 3]
    assert outcome["status"] == "converted" and outcome["parity"]["max_rel"] == 2e-7  # as when it was a dict
    assert "oid" in outcome and outcome.get("nothing", 5) == 5
    with pytest.raises(KeyError):
        outcome["nothing"]


def test_absent_provenance_and_parity_print_as_empty_objects():
    info = VersionInfo(artifact="a", number=1, pid="p", kind="model", oid="o", size=1, nfiles=1, path="a",
                       created="now", parent=None)
    assert info.provenance is None and info.to_dict()["provenance"] == {}
    onnx = dataclasses.replace(converted(), parity=None)
    assert onnx.to_dict()["parity"] == {}
    made = ProvenanceInfo("convert", ["m@1"], ["e" * 64], {"converter": "torch"})
    assert "runtime" not in made.to_dict()  # no runtime record: no key, as before


def test_parity_from_a_foreign_record_is_none_not_a_crash():
    assert Parity.from_dict({"max_abs": 0.1}) is None
    assert Parity.from_dict(None) is None
    assert SignatureInfo.from_dict({"inputs": [{"name": "x"}]}).inputs == [TensorInfo("x", [], "float32")]
