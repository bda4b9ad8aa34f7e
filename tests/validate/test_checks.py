"""Semantic checks: each rule fires where it should, with its path, on both the fast and precise paths."""

from __future__ import annotations

import json
import subprocess
import sys

import orjson
import pytest

from attrgraph_cli.validate import validate_bytes, validate_document, validate_graph
from attrgraph_testing.validate_helpers import feature_details, unique_graph, valid_document


def _both(doc: dict, **kw) -> list[list]:
    """Problems from the bytes path (fast when schema-valid) and from validate_document (precise)."""
    fast = validate_bytes(orjson.dumps(doc), "g.json", max_per_rule=None).sink.problems
    return [fast, validate_document(doc, **kw)]


def _by_rule(problems, rule: str) -> dict[str, str]:
    return {p.path: p.message for p in problems if p.rule == rule}


def _node(doc: dict, kind: str) -> int:
    return next(i for i, n in enumerate(doc["nodes"]) if n["feature_type"] == kind)


def test_valid_graph_has_no_problems() -> None:
    for problems in _both(valid_document()):
        assert problems == []


def test_link_to_unknown_node() -> None:
    doc = valid_document()
    doc["links"][42]["target"] = "99_1_0"
    doc["links"][7]["source"] = "nope"
    for problems in _both(doc):
        assert set(_by_rule(problems, "links.endpoint")) == {"links[42].target", "links[7].source"}
        assert all(p.severity == "error" for p in problems if p.rule == "links.endpoint")


def test_duplicate_node_ids_and_duplicate_links() -> None:
    doc = valid_document()
    doc["nodes"][5]["node_id"] = doc["nodes"][2]["node_id"]
    for problems in _both(doc):
        assert "nodes[5].node_id" in _by_rule(problems, "nodes.duplicate-id")
    doc = valid_document()
    doc["links"].append(dict(doc["links"][3]))
    for problems in _both(doc):
        dup = {p.path: p for p in problems if p.rule == "links.duplicate"}
        assert f"links[{len(doc['links']) - 1}]" in dup
        assert dup[f"links[{len(doc['links']) - 1}]"].severity == "warning"


def test_ctx_idx_outside_prompt() -> None:
    doc = valid_document()
    n_tokens = len(doc["metadata"]["prompt_tokens"])
    doc["nodes"][0]["ctx_idx"] = n_tokens
    doc["nodes"][1]["ctx_idx"] = -1
    for problems in _both(doc):
        assert set(_by_rule(problems, "nodes.ctx-idx")) == {"nodes[0].ctx_idx", "nodes[1].ctx_idx"}


@pytest.mark.parametrize(
    "clerp,ok",
    [
        ('Output " Austin" (p=0.452)', True),
        ('Output "\\"quoted\\"" (p=1.000)', True),
        ("Austin", False),
        ('Output " Austin" (p=1.7)', False),
        ('Output " Austin"', False),
    ],
)
def test_logit_clerp_form(clerp: str, ok: bool) -> None:
    doc = valid_document()
    i = _node(doc, "logit")
    doc["nodes"][i]["clerp"] = clerp
    for problems in _both(doc):
        assert (f"nodes[{i}].clerp" not in _by_rule(problems, "nodes.logit-clerp")) == ok


def test_no_logit_node() -> None:
    doc = valid_document()
    logits = {n["node_id"] for n in doc["nodes"] if n["feature_type"] == "logit"}
    doc["nodes"] = [n for n in doc["nodes"] if n["node_id"] not in logits]
    doc["links"] = [x for x in doc["links"] if x["target"] not in logits]
    for problems in _both(doc):
        assert _by_rule(problems, "graph.no-logit")


def test_error_node_at_impossible_layer() -> None:
    doc = valid_document()
    logit_layer = int(doc["nodes"][_node(doc, "logit")]["layer"])  # n_layers + 1
    errors = [i for i, n in enumerate(doc["nodes"]) if n["feature_type"] == "mlp reconstruction error"]
    doc["nodes"][errors[0]]["layer"] = "-1"
    doc["nodes"][errors[1]]["layer"] = str(logit_layer - 1)  # == n_layers: no such layer
    doc["nodes"][errors[2]]["layer"] = logit_layer - 2  # last real layer, as an int: fine
    for problems in _both(doc):
        assert set(_by_rule(problems, "nodes.impossible-layer")) == {
            f"nodes[{errors[0]}].layer",
            f"nodes[{errors[1]}].layer",
        }


def test_unparsable_layer() -> None:
    doc = valid_document()
    doc["nodes"][0]["layer"] = "L3"
    for problems in _both(doc):
        assert "nodes[0].layer" in _by_rule(problems, "nodes.layer")


def test_influence_range_and_missing_values() -> None:
    doc = valid_document()
    feature = _node(doc, "cross layer transcoder")
    doc["nodes"][0]["influence"] = 1.5
    doc["nodes"][1]["influence"] = -0.1
    del doc["nodes"][feature + 2]["influence"]
    del doc["nodes"][feature + 3]["activation"]
    for problems in _both(doc):
        assert set(_by_rule(problems, "nodes.influence-range")) == {
            "nodes[0].influence",
            "nodes[1].influence",
        }
        missing = [p for p in problems if p.rule.endswith("-missing") and p.rule.startswith("nodes.")]
        assert {p.path for p in missing} == {
            f"nodes[{feature + 2}].influence",
            f"nodes[{feature + 3}].activation",
        }
        assert all(p.severity == "warning" for p in missing)


def test_nan_and_infinity_tokens_are_reported_by_path() -> None:
    """Python's json writes NaN/Infinity, which is not JSON: each is reported, and so is the bad value."""
    doc = valid_document()
    doc["links"][3]["weight"] = float("nan")
    doc["nodes"][0]["activation"] = float("inf")
    text = json.dumps(doc)  # allow_nan=True by default
    assert "NaN" in text and "Infinity" in text
    result = validate_bytes(text.encode(), "g.json")
    problems = result.sink.problems
    assert not result.fast_path
    assert set(_by_rule(problems, "json.non-standard-number")) == {"links[3].weight", "nodes[0].activation"}
    assert "links[3].weight" in _by_rule(problems, "links.weight-not-finite")
    assert "nodes[0].activation" in _by_rule(problems, "nodes.activation-not-finite")


def test_overflowing_number_is_not_finite() -> None:
    """`1e999` is valid JSON syntax but not a finite float (the precise path reports it)."""
    text = orjson.dumps(valid_document()).replace(b'"weight":', b'"weight":1e999,"w0":', 1)
    problems = validate_bytes(text, "g.json").sink.problems
    assert "links[0].weight" in _by_rule(problems, "links.weight-not-finite")


def test_many_problems_are_capped_per_rule_and_counted() -> None:
    doc = valid_document(3000)
    for link in doc["links"]:
        link["target"] = "gone"
    result = validate_bytes(orjson.dumps(doc), "g.json", max_per_rule=5)
    kept = [p for p in result.sink.problems if p.rule == "links.endpoint"]
    assert len(kept) == 5
    assert result.sink.counts["links.endpoint"] == len(doc["links"])
    assert result.sink.omitted()["links.endpoint"] == len(doc["links"]) - 5


def test_supernodes_and_pins() -> None:
    doc = valid_document()
    real = doc["nodes"][0]["node_id"]
    doc["qParams"]["supernodes"] = [["group", real, "ghost"], "not a list"]
    doc["qParams"]["pinnedIds"] = [real, "ghost2"]
    for problems in _both(doc):
        assert "qParams.supernodes[1]" in _by_rule(problems, "qparams.supernode")
        assert set(_by_rule(problems, "qparams.unknown-node")) == {
            "qParams.supernodes[0][2]",
            "qParams.pinnedIds[1]",
        }


@pytest.mark.parametrize("entries", [[[{"": None}, "x"], ["group", "y"]], "abc", {"a": 1}, [[["n"], "x"]]])
def test_supernode_metadata_check_survives_any_qparams_supernodes(entries) -> None:
    """Found by the fuzz suite: a supernode "name" that is an object or array crashed validate
    ("unexpected TypeError: unhashable type: 'dict'") while it matched names against the metadata."""
    doc = valid_document()
    doc["qParams"]["supernodes"] = entries
    groups = [{"name": "group", "origin": "auto"}]
    doc["attrgraph"] = {"version": 1, "supernodes": {"method": "m", "groups": groups}}
    for problems in _both(doc):
        assert [p for p in problems if p.severity == "error"], problems  # the entries are reported, not fatal


def test_qk_contributors_must_resolve() -> None:
    doc = valid_document()
    a = doc["nodes"][0]["node_id"]
    doc["nodes"][0]["qk_tracing_results"] = {
        "pair_wise_contributors": [[a, "qk_9", 0.5]],
        "top_q_marginal_contributors": [["missing", 0.2]],
        "top_k_marginal_contributors": [],
    }
    doc["qk_only_nodes"] = {"qk_9": {"node_id": "qk_9", "feature_type": "lorsa", "layer": "1", "ctx_idx": 0,
                                     "jsNodeId": "qk_9", "clerp": ""}}  # fmt: skip
    for problems in _both(doc):
        assert set(_by_rule(problems, "nodes.qk-unknown-node")) == {
            "nodes[0].qk_tracing_results.top_q_marginal_contributors[0][0]"
        }


def test_feature_details_index_must_match_file_name() -> None:
    doc = feature_details(7)
    assert validate_document(doc, file_name="features/7.json") == []
    wrong = validate_document(doc, file_name="features/8.json")
    assert [p.rule for p in wrong] == ["features.index-name"]
    assert wrong[0].severity == "error" and "8" in wrong[0].expected
    named = validate_document(doc, file_name="features/feature.json", kind="feature-details")
    assert [(p.rule, p.severity) for p in named] == [("features.file-name", "warning")]


def test_feature_details_semantics() -> None:
    doc = feature_details(7)
    doc["examples_quantiles"][0]["examples"][0]["tokens_acts_list"] = [1.0, float("nan")]
    del doc["top_logits"]
    rules = {p.rule: p.path for p in validate_document(doc, file_name="7.json")}
    assert rules["features.example-length"] == "examples_quantiles[0].examples[0].tokens_acts_list"
    assert rules["features.activation-not-finite"] == "examples_quantiles[0].examples[0].tokens_acts_list[1]"
    assert rules["features.top_logits-missing"] == "top_logits"


def test_validate_graph_on_an_attribution_graph() -> None:
    graph = unique_graph(500, seed=2)
    assert validate_graph(graph) == []
    graph.nodes.influence[0] = 3.0
    assert [p.rule for p in validate_graph(graph)] == ["nodes.influence-range"]


def test_array_document_is_invalid_not_a_crash() -> None:
    problems = validate_document([1, 2])
    assert [(p.path, p.rule) for p in problems] == [("$", "schema.type")]


def test_validating_json_does_not_import_torch(tmp_path) -> None:
    path = tmp_path / "g.json"
    path.write_bytes(orjson.dumps(valid_document()))
    code = (
        "import sys\nfrom attrgraph_cli.cli import app\n"
        f'try:\n    app(["validate", {str(path)!r}])\n'
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_recorded_n_layers_bounds_features_too() -> None:
    doc = valid_document()
    feature = _node(doc, "cross layer transcoder")
    doc["metadata"]["n_layers"] = 3
    doc["nodes"][feature]["layer"] = "3"
    for problems in _both(doc):
        found = _by_rule(problems, "nodes.impossible-layer")
        assert f"nodes[{feature}].layer" in found


def test_metadata_rules() -> None:
    doc = valid_document()
    doc["metadata"]["node_threshold"] = 80
    del doc["metadata"]["schema_version"]
    del doc["metadata"]["info"]
    for problems in _both(doc):
        rules = {p.rule: p for p in problems}
        assert rules["metadata.node-threshold"].severity == "error"
        assert rules["metadata.schema-version-missing"].severity == "warning"
        assert rules["metadata.info-missing"].path == "metadata.info"


def test_self_loop_is_a_warning() -> None:
    doc = valid_document()
    doc["links"][0]["target"] = doc["links"][0]["source"]
    for problems in _both(doc):
        assert [(p.path, p.severity) for p in problems if p.rule == "links.self-loop"] == [
            ("links[0]", "warning")
        ]


@pytest.mark.parametrize(
    "where, value, ok",
    [("n_layers", 26, True), ("n_layers", 10**12, False), ("n_layers", 0, False), ("info", 2**62, False)],
)
def test_n_layers_must_be_possible(where: str, value: int, ok: bool) -> None:
    """An absurd n_layers sized the report's layout (render failed with an int32 overflow); validate
    said nothing."""
    doc = valid_document()
    if where == "info":
        doc["metadata"].setdefault("info", {})["n_layers"] = value
    else:
        doc["metadata"]["n_layers"] = value
    for problems in _both(doc):
        found = _by_rule(problems, "metadata.n-layers")
        assert (found == {}) == ok, found
