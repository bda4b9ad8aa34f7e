"""The schema-level verdict of `attrgraph validate` agrees with python-jsonschema on Neuronpedia's schema.

The msgspec structs are generated from schemas/*.json; these tests mutate valid documents in every way
the schema constrains and check that the fast path, the precise path and jsonschema (on both our copy and
the reference) agree on valid/invalid and on where the problems are.
"""

from __future__ import annotations

import copy
import json

import jsonschema
import orjson
import pytest

from attrgraph_cli.validate import validate_bytes, validate_document
from attrgraph_cli.validate.schema import (
    FEATURE_DETAILS_SCHEMA,
    GRAPH_SCHEMA,
    IGNORED_KEYWORDS,
    VALIDATION_KEYWORDS,
    fast_decoder,
    load_schema,
)
from attrgraph_testing.validate_helpers import feature_details, valid_document

MISSING = object()


def _set(doc: dict, path: tuple, value: object) -> dict:
    doc = copy.deepcopy(doc)
    target = doc
    for step in path[:-1]:
        target = target[step]
    if value is MISSING:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def _qk_doc() -> dict:
    doc = valid_document(60, seed=5)
    a, b = doc["nodes"][0]["node_id"], doc["nodes"][1]["node_id"]
    doc["nodes"][0]["qk_tracing_results"] = {
        "pair_wise_contributors": [[a, b, 0.5]],
        "top_q_marginal_contributors": [[a, 0.25]],
        "top_k_marginal_contributors": [[b, 0.125]],
    }
    doc["qk_only_nodes"] = {
        "9_9_0": {
            "node_id": "9_9_0",
            "feature_type": "lorsa",
            "layer": "9",
            "ctx_idx": 0,
            "jsNodeId": "x",
            "clerp": "",
        }
    }
    return doc


def _mutations() -> list[tuple[str, dict]]:
    base = valid_document(60, seed=5)
    qk = _qk_doc()
    out: list[tuple[str, dict]] = [("valid", base), ("valid qk", qk)]
    for key in ("metadata", "qParams", "nodes", "links"):
        out.append((f"no {key}", _set(base, (key,), MISSING)))
        out.append((f"{key} is a string", _set(base, (key,), "x")))
    for key in ("slug", "scan", "prompt_tokens", "prompt"):
        out.append((f"no metadata.{key}", _set(base, ("metadata", key), MISSING)))
        out.append((f"metadata.{key} is 3", _set(base, ("metadata", key), 3)))
    out.append(("prompt token is null", _set(base, ("metadata", "prompt_tokens", 0), None)))
    out.append(("node_threshold is a string", _set(base, ("metadata", "node_threshold"), "0.8")))
    out.append(("info.generator.name is 1", _set(base, ("metadata", "info"), {"generator": {"name": 1}})))
    out.append(("create_time_ms is true", _set(base, ("metadata", "info"), {"create_time_ms": True})))
    out.append(
        (
            "generation_settings.batch_size 1.5",
            _set(base, ("metadata", "generation_settings"), {"batch_size": 1.5}),
        )
    )
    out.append(
        (
            "generation_settings.batch_size 4.0",
            _set(base, ("metadata", "generation_settings"), {"batch_size": 4.0}),
        )
    )
    out.append(("pinnedIds has 3", _set(base, ("qParams", "pinnedIds"), [3])))
    out.append(("supernodes is an object", _set(base, ("qParams", "supernodes"), {})))
    out.append(("unknown top-level key", _set(base, ("interventions",), [{"anything": 1}])))
    node_fields = {
        "node_id": 5, "feature": "x", "layer": 1.5, "ctx_idx": "1", "feature_type": None,
        "jsNodeId": [], "clerp": 0, "influence": "high", "activation": False,
    }  # fmt: skip
    for key, bad in node_fields.items():
        out.append((f"node {key} wrong type", _set(base, ("nodes", 3, key), bad)))
        if key not in ("influence", "activation"):
            out.append((f"node without {key}", _set(base, ("nodes", 4, key), MISSING)))
    out.append(("node layer int", _set(base, ("nodes", 3, "layer"), 4)))
    out.append(("node feature null", _set(base, ("nodes", 3, "feature"), None)))
    out.append(("node ctx_idx 2.0", _set(base, ("nodes", 3, "ctx_idx"), 2.0)))
    out.append(("node influence null", _set(base, ("nodes", 3, "influence"), None)))
    out.append(("node is a list", _set(base, ("nodes", 3), [1])))
    for key, bad in (("source", 1), ("target", None), ("weight", "1")):
        out.append((f"link {key} wrong type", _set(base, ("links", 7, key), bad)))
        out.append((f"link without {key}", _set(base, ("links", 8, key), MISSING)))
    out.append(("link weight true", _set(base, ("links", 7, "weight"), True)))
    out.append(("link is null", _set(base, ("links", 9), None)))
    qk_path = ("nodes", 0, "qk_tracing_results")
    out.append(("qk without pairs", _set(qk, (*qk_path, "pair_wise_contributors"), MISSING)))
    out.append(("qk pair of 2", _set(qk, (*qk_path, "pair_wise_contributors", 0), ["a", "b"])))
    out.append(("qk marginal of 3", _set(qk, (*qk_path, "top_q_marginal_contributors", 0), ["a", 1, 2])))
    out.append(("qk is a list", _set(qk, qk_path, [])))
    out.append(("qk_only node without clerp", _set(qk, ("qk_only_nodes", "9_9_0", "clerp"), MISSING)))
    out.append(("qk_only node layer null", _set(qk, ("qk_only_nodes", "9_9_0", "layer"), None)))
    out.append(("qk_only_nodes is a list", _set(qk, ("qk_only_nodes",), [])))
    return out


MUTATIONS = _mutations()
#: mutations that the schema accepts (draft-07: 4.0 is an integer; unknown keys are allowed)
SCHEMA_VALID = {
    "valid", "valid qk", "unknown top-level key", "node layer int", "node feature null", "node ctx_idx 2.0",
    "node influence null", "generation_settings.batch_size 4.0",
}  # fmt: skip


def _schema_paths_of_jsonschema(validator: jsonschema.Draft7Validator, doc: dict) -> set[str]:
    """Where jsonschema finds problems, as attrgraph's paths (a missing field: the field's own path)."""
    found = set()
    for error in validator.iter_errors(doc):
        steps = list(error.absolute_path)
        if error.validator == "required":
            steps.append(error.message.split("'")[1])
        path = ""
        for step in steps:
            path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else step)
        found.add(path or "$")
    return found


def _our_schema_paths(problems) -> set[str]:
    return {p.path.replace('["', ".").replace('"]', "") for p in problems if p.rule.startswith("schema.")}


@pytest.mark.parametrize("name,doc", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_schema_verdict_matches_jsonschema(name: str, doc: dict, neuronpedia_schema_path) -> None:
    reference = jsonschema.Draft7Validator(json.loads(neuronpedia_schema_path.read_text()))
    ours = jsonschema.Draft7Validator(load_schema(GRAPH_SCHEMA))
    expected = _schema_paths_of_jsonschema(reference, doc)
    assert _schema_paths_of_jsonschema(ours, doc) == expected  # our copy is compatible with the reference
    assert bool(expected) == (name not in SCHEMA_VALID), expected

    fast = validate_bytes(orjson.dumps(doc), "g.json", max_per_rule=None)
    precise = validate_document(doc)
    for problems in (fast.sink.problems, precise):
        schema_paths = _our_schema_paths(p for p in problems if p.rule != "schema.prefixItems")
        assert schema_paths == expected, name
    # the fast path only succeeds on schema-valid documents
    if fast.fast_path:
        assert not expected
    if name.startswith("valid"):
        assert fast.fast_path and not fast.sink.problems and not precise


def test_prefix_items_checked_though_draft7_ignores_them() -> None:
    doc = _qk_doc()
    doc["nodes"][0]["qk_tracing_results"]["pair_wise_contributors"] = [["a", 1, "0.5"]]
    assert jsonschema.Draft7Validator(load_schema(GRAPH_SCHEMA)).is_valid(doc)
    for problems in (validate_bytes(orjson.dumps(doc), "g.json").sink.problems, validate_document(doc)):
        tuple_problems = {p.path: p.expected for p in problems if p.rule == "schema.prefixItems"}
        assert tuple_problems == {
            "nodes[0].qk_tracing_results.pair_wise_contributors[0][1]": "string",
            "nodes[0].qk_tracing_results.pair_wise_contributors[0][2]": "number",
        }


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("index"),
        lambda d: d.pop("examples_quantiles"),
        lambda d: d.update(index="7"),
        lambda d: d["examples_quantiles"][0].pop("quantile_name"),
        lambda d: d["examples_quantiles"][0]["examples"][0].update(tokens=[1, 2, 3]),
        lambda d: d["examples_quantiles"][0]["examples"][0].pop("tokens_acts_list"),
        lambda d: d.update(top_logits=[1]),
        lambda d: None,
    ],
)
def test_feature_details_schema_verdict(mutate, shared_dir) -> None:
    doc = feature_details(7)
    mutate(doc)
    reference = json.loads((shared_dir / "reference" / "neuronpedia-feature-details-schema.json").read_text())
    expected = _schema_paths_of_jsonschema(jsonschema.Draft7Validator(reference), doc)
    ours = validate_bytes(orjson.dumps(doc), "7.json", kind=None, max_per_rule=None)
    assert ours.kind == "feature-details"
    assert _our_schema_paths(ours.sink.problems) == expected


def test_schemas_use_only_implemented_keywords() -> None:
    """A keyword the validators do not implement would be silently ignored: refuse it."""

    def walk(node: object) -> None:
        if isinstance(node, dict):
            assert set(node) <= VALIDATION_KEYWORDS | IGNORED_KEYWORDS | {"properties"}
            for key, value in node.items():
                if key == "properties":
                    for sub in value.values():
                        walk(sub)
                elif key in ("items", "additionalProperties"):
                    walk(value)

    for name in (GRAPH_SCHEMA, FEATURE_DETAILS_SCHEMA):
        walk(load_schema(name))


@pytest.mark.parametrize(
    ("name", "member"), [(GRAPH_SCHEMA, "nodes"), (FEATURE_DETAILS_SCHEMA, "examples_quantiles")]
)
def test_fast_decoders_accept_valid_documents_and_reject_wrong_types(name, member) -> None:
    """Both schemas get a msgspec decoder (the fast path), and it checks types, not just shapes."""
    import msgspec

    doc = valid_document() if name == GRAPH_SCHEMA else feature_details(7)
    decoder = fast_decoder(name)
    decoder.root.decode(orjson.dumps(doc))
    doc[member] = "not an array"
    with pytest.raises(msgspec.ValidationError, match=rf"Expected `array`, got `str` - at `\$\.{member}`"):
        decoder.root.decode(orjson.dumps(doc))


def test_our_schemas_are_the_reference_ones(shared_dir) -> None:
    for ours, theirs in (
        (GRAPH_SCHEMA, "neuronpedia-graph-schema.json"),
        (FEATURE_DETAILS_SCHEMA, "neuronpedia-feature-details-schema.json"),
    ):
        assert load_schema(ours) == json.loads((shared_dir / "reference" / theirs).read_text())
