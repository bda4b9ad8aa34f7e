"""The extension contract: schemas checked by validate, legacy keys migrated once, the stage seam."""

from __future__ import annotations

import json

import orjson
import pytest

from attrgraph_cli.extension import (
    PARTS,
    append_intervention,
    set_feature,
)
from attrgraph_cli.io import save_graph
from attrgraph_cli.io.neuronpedia_json import graph_to_document
from attrgraph_cli.resources import resource_path
from attrgraph_cli.stages import StageOutcome, run_stage
from attrgraph_cli.stages.pipeline import StageCheckFailed
from attrgraph_cli.validate.engine import validate_bytes, validate_document
from attrgraph_testing.synthetic import random_graph


@pytest.fixture
def small():
    return random_graph(n_links=300, n_layers=4, n_tokens=5, n_logits=3, seed=1)


def _errors(doc):
    return [p for p in validate_document(doc) if p.severity == "error"]


def _record(**more):
    record = {
        "name": "ablate",
        "kind": "intervention",
        "spec": [{"op": "set", "nodes": ["x"], "value": 0.0}],
        "settings": {"freeze_attention": True},
        "targets": [{"token": "Austin", "measured_delta": -1.5, "predicted_delta": -1.4}],
        "top_before": [["Austin", 0.5]],
        "top_after": [["Dallas", 0.4]],
    }
    record.update(more)
    return record


def test_every_part_has_a_schema_file_that_is_draft7():
    from jsonschema import Draft7Validator

    for name in PARTS.values():
        Draft7Validator.check_schema(json.loads(resource_path("schemas", "extension", name).read_text()))


def test_well_formed_parts_validate_on_both_paths(small):
    node_id = str(small.nodes.ids[int((small.nodes.kind == 1).argmax())])
    layer, index = (
        int(small.nodes.layer[small.index_of(node_id)]),
        int(small.nodes.feature[small.index_of(node_id)]),
    )
    set_feature(small, layer, index, {"label": "Texas", "source": "heuristic", "score": 0.9, "density": 0.01})
    append_intervention(small, _record(spec=[{"op": "set", "nodes": [node_id], "value": 0.0}]))
    doc = graph_to_document(small)
    assert not _errors(doc)
    fast = validate_bytes(orjson.dumps(doc), "g.json")
    assert fast.fast_path and not [p for p in fast.sink.problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("part", "value", "path"),
    [
        (
            "interventions",
            [{"name": "x", "kind": "intervention", "settings": {}, "targets": []}],
            "attrgraph.interventions[0]",
        ),
        (
            "features",
            {
                "0_1": {
                    "layer": 0,
                    "index": 1,
                    "label": "a",
                    "source": "heuristic",
                    "details": {"examples_quantiles": [{"quantile_name": "top", "examples": "nope"}]},
                }
            },
            'attrgraph.features["0_1"].details.examples_quantiles[0].examples',
        ),
        ("history", [{"stage": "x"}], "attrgraph.history[0]"),
        ("supernodes", {"method": 3, "groups": []}, "attrgraph.supernodes.method"),
    ],
)
def test_malformed_part_is_an_error_with_path_and_rule(small, part, value, path):
    doc = graph_to_document(small)
    doc["attrgraph"] = {"version": 1, part: value}
    for problems in (validate_document(doc), validate_bytes(orjson.dumps(doc), "g.json").sink.problems):
        errors = [p for p in problems if p.severity == "error"]
        assert {(p.rule, p.path) for p in errors} == {(f"extension.{part}", path)}


def test_unknown_part_is_a_warning_and_a_non_object_extension_an_error(small):
    doc = graph_to_document(small)
    doc["attrgraph"] = {"version": 1, "future": {}}
    problems = validate_document(doc)
    assert [(p.rule, p.severity) for p in problems if p.rule.startswith("extension")] == [
        ("extension.unknown-part", "warning")
    ]
    doc["attrgraph"] = [1]
    assert [p.rule for p in _errors(doc)] == ["extension.type"]


def test_feature_key_must_match_its_entry(small):
    doc = graph_to_document(small)
    doc["attrgraph"] = {"features": {"1_2": {"layer": 3, "index": 2, "label": "", "source": "table"}}}
    assert [p.rule for p in _errors(doc)] == ["extension.features-key"]


def test_run_stage_records_history_and_refuses_to_write_an_invalid_graph(small, tmp_path):
    source = tmp_path / "g.json"
    save_graph(small, source)

    def label_everything(graph):
        graph.nodes.label[graph.nodes.kind == 1] = "x"
        return StageOutcome(graph, {"labelled": len(graph.nodes)})

    out = tmp_path / "out.json"
    run_stage("demo", source, out, label_everything, {"k": 1})
    run_stage("demo2", out, out, lambda g: StageOutcome(g), {})
    doc = orjson.loads(out.read_bytes())
    stages = [r["stage"] for r in doc["attrgraph"]["history"]]
    assert stages == ["demo", "demo2"]
    first = doc["attrgraph"]["history"][0]
    assert first["settings"] == {"k": 1} and first["details"] == {"labelled": len(small.nodes)}
    assert first["inputs"][0]["role"] == "graph" and len(first["inputs"][0]["sha256"]) == 64

    def break_it(graph):
        append_intervention(graph, {"name": "no spec"})
        return StageOutcome(graph)

    before = out.read_bytes()
    with pytest.raises(StageCheckFailed, match=r"\[extension.interventions\] attrgraph.interventions\[0\]"):
        run_stage("broken", out, out, break_it, {})
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json", "out.json"]
    with pytest.raises(StageCheckFailed, match=r"^broken produced an invalid graph"):
        run_stage("broken", out, out, break_it, {})  # the stage's own fault: named as such


def test_an_input_that_was_already_invalid_is_named_as_the_cause(small, tmp_path):
    """A stage that only carries an input's invalid part through says the input is at fault."""
    doc = graph_to_document(small)
    doc.setdefault("attrgraph", {})["features"] = {"0_1": {"label": 7}}  # hand-edited, no layer/index
    source = tmp_path / "g.json"
    source.write_bytes(orjson.dumps(doc))
    out = tmp_path / "out.json"
    with pytest.raises(StageCheckFailed) as caught:
        run_stage("demo", source, out, lambda g: StageOutcome(g), {})
    message = str(caught.value)
    assert message.startswith("the input graph is invalid, nothing written by demo: [extension.features]")
    assert "\n" not in message and not out.exists()


def test_trace_and_convert_history_records_share_one_shape():
    schema = json.loads(resource_path("schemas", "extension", "history.schema.json").read_text())
    required = set(schema["items"]["required"])
    from attrgraph_cli.stages.provenance import stage_record

    assert required <= set(stage_record("x", {}, [], "t", 0.0))


def test_validate_cli_reports_malformed_extension(small, tmp_path, cli):
    doc = graph_to_document(small)
    doc["attrgraph"] = {"interventions": [{"name": "x"}]}
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps(doc))
    result = cli("validate", path, fresh=True)
    assert result.code == 1
    assert "attrgraph.interventions[0]" in result.stdout + result.stderr
