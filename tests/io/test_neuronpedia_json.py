"""Neuronpedia graph JSON: reading every convention, round trips, schema validity of what we write."""

from __future__ import annotations

import copy
import json
import math

import jsonschema
import numpy as np
import orjson
import pytest

from attrgraph_cli.errors import GraphFormatError
from attrgraph_cli.graph import ids
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.io import detect_format, load_graph, save_graph
from attrgraph_cli.io.neuronpedia_json import document_to_graph, graph_to_document, read_json
from attrgraph_testing.synthetic import random_graph


def _node(node_id, feature, layer, ctx, ftype, clerp="", **more):
    node = {
        "node_id": node_id,
        "feature": feature,
        "layer": layer,
        "ctx_idx": ctx,
        "feature_type": ftype,
        "jsNodeId": more.pop("jsNodeId", node_id),
        "clerp": clerp,
    }
    node.update(more)
    return node


CLT = "cross layer transcoder"


def circuit_tracer_doc() -> dict:
    """A small document in circuit-tracer's own shape (schema_version 1, string layers, all viewer keys)."""
    nodes = [
        dict(
            _node("E_651_0", 0, "E", 0, "embedding", jsNodeId="E_651-0"),
            token_prob=0.0,
            is_target_logit=False,
            run_idx=0,
            reverse_ctx_idx=0,
            influence=0.9,
            activation=None,
        ),
        dict(
            _node(
                "3_1234_1", ids.cantor_pair(3, 1234), "3", 1, "cross layer transcoder", jsNodeId="3_1234-0"
            ),
            token_prob=0.0,
            is_target_logit=False,
            run_idx=0,
            reverse_ctx_idx=0,
            influence=0.25,
            activation=4.5,
        ),
        dict(
            _node("0_3_1", -1, "3", 1, "mlp reconstruction error", jsNodeId="3_1-0"),
            token_prob=0.0,
            is_target_logit=False,
            run_idx=0,
            reverse_ctx_idx=0,
            influence=0.5,
            activation=None,
        ),
        dict(
            _node("27_6342_1", 6342, "27", 1, "logit", 'Output " Austin" (p=0.412)', jsNodeId="L_6342-1"),
            token_prob=0.41234,
            is_target_logit=True,
            run_idx=0,
            reverse_ctx_idx=0,
            influence=None,
            activation=None,
        ),
    ]
    links = [
        {"source": "E_651_0", "target": "3_1234_1", "weight": 1.5},
        {"source": "3_1234_1", "target": "27_6342_1", "weight": -0.25},
        {"source": "0_3_1", "target": "27_6342_1", "weight": 0.125},
    ]
    return {
        "metadata": {
            "slug": "dallas",
            "scan": "gemma-2-2b",
            "transcoder_list": [],
            "prompt_tokens": ["<bos>", " Dallas"],
            "prompt": "<bos> Dallas",
            "node_threshold": 0.8,
            "schema_version": 1,
        },
        "qParams": {"pinnedIds": [], "supernodes": [], "linkType": "both", "clickedId": "", "sg_pos": ""},
        "nodes": nodes,
        "links": links,
    }


def test_reads_circuit_tracer_shape():
    g = document_to_graph(circuit_tracer_doc())
    assert g.nodes.kind.tolist() == [NodeKind.EMBEDDING, NodeKind.FEATURE, NodeKind.ERROR, NodeKind.LOGIT]
    assert g.nodes.layer.tolist() == [-1, 3, 3, 27]
    assert g.nodes.feature.tolist() == [651, 1234, -1, 6342]
    assert g.nodes.logit_token[3] == " Austin"
    assert g.nodes.logit_probability[3] == pytest.approx(0.41234)  # token_prob wins over the rounded clerp
    assert math.isnan(g.nodes.influence[3]) and math.isnan(g.nodes.activation[0])
    assert g.nodes.activation[1] == 4.5
    assert g.edges.source.tolist() == [0, 1, 2] and g.edges.target.tolist() == [1, 3, 3]
    assert not g.node_extra, g.node_extra  # nothing differs from what the writer derives


def test_logit_probability_from_clerp_when_no_token_prob():
    doc = circuit_tracer_doc()
    del doc["nodes"][3]["token_prob"]
    g = document_to_graph(doc)
    assert g.nodes.logit_probability[3] == pytest.approx(0.412)
    assert g.nodes.logit_token[3] == " Austin"


def test_error_id_conventions_and_int_layers():
    doc = circuit_tracer_doc()
    doc["nodes"][2]["node_id"] = "3_-1_1"  # older files: {layer}_-1_{pos}
    doc["links"][2]["source"] = "3_-1_1"
    for node in doc["nodes"]:
        if node["layer"] != "E":
            node["layer"] = int(node["layer"])
    g = document_to_graph(doc)
    assert g.nodes.kind[2] == NodeKind.ERROR
    assert (g.nodes.layer[2], g.nodes.position[2]) == (3, 1)
    assert g.nodes.layer.tolist() == [-1, 3, 3, 27]
    assert graph_to_document(g) == doc  # ids and int layers come back as they were


def test_legacy_and_cantor_feature_numbers():
    legacy = circuit_tracer_doc()
    del legacy["metadata"]["schema_version"]
    legacy["nodes"][1]["feature"] = 3 * 100_000 + 1234
    legacy["nodes"][1]["node_id"] = "feat-a"  # id not in {layer}_{index}_{pos} form: index from `feature`
    legacy["links"][0]["target"] = legacy["links"][1]["source"] = "feat-a"
    cantor = circuit_tracer_doc()
    cantor["nodes"][1]["node_id"] = "feat-a"
    cantor["links"][0]["target"] = cantor["links"][1]["source"] = "feat-a"
    assert document_to_graph(legacy).nodes.feature[1] == 1234
    assert document_to_graph(cantor).nodes.feature[1] == 1234
    assert graph_to_document(document_to_graph(legacy)) == legacy


def test_round_trip_keeps_unknown_keys_labels_supernodes():
    doc = circuit_tracer_doc()
    doc["extra_top"] = {"interventions": [1, 2, 3]}
    doc["metadata"]["info"] = {"creator_name": "me", "custom": [1, {"a": None}]}
    doc["metadata"]["mystery"] = 7
    doc["qParams"]["supernodes"] = [["capital", "3_1234_1", "0_3_1"]]
    doc["qParams"]["pinnedIds"] = ["3_1234_1"]
    doc["qParams"]["customQ"] = "x"
    doc["nodes"][1]["clerp"] = "Texas </script><img src=x onerror=alert(1)>"
    doc["nodes"][1]["qk_tracing_results"] = {"pair_wise_contributors": []}
    doc["nodes"][0]["jsNodeId"] = "weird"
    doc["nodes"][2]["run_idx"] = 3
    doc["links"][1]["extra_link_key"] = {"k": 1}
    g = document_to_graph(copy.deepcopy(doc))
    assert g.supernodes == [["capital", "3_1234_1", "0_3_1"]]
    assert g.nodes.label[1].startswith("Texas")
    assert graph_to_document(g) == doc
    # and through bytes, twice
    again = orjson.loads(orjson.dumps(graph_to_document(document_to_graph(orjson.loads(orjson.dumps(doc))))))
    assert again == doc


def test_round_trip_random_graph_file(tmp_path):
    g = random_graph(n_links=5000, seed=3)
    g.qparams["supernodes"] = [["group", g.nodes.ids[0], g.nodes.ids[1]]]
    path = tmp_path / "g.json"
    save_graph(g, path)
    doc = orjson.loads(path.read_bytes())
    g2 = load_graph(path)
    assert np.array_equal(g2.nodes.ids, g.nodes.ids)
    assert np.array_equal(g2.nodes.kind, g.nodes.kind)
    assert np.array_equal(g2.nodes.layer, g.nodes.layer)
    assert np.array_equal(g2.nodes.feature, g.nodes.feature)
    assert np.array_equal(g2.nodes.label, g.nodes.label)
    assert np.allclose(g2.nodes.influence, g.nodes.influence, equal_nan=True)
    assert np.array_equal(g2.edges.source, g.edges.source)
    assert np.array_equal(g2.edges.weight, g.edges.weight)
    assert g2.supernodes == g.supernodes
    path2 = tmp_path / "g2.json"
    save_graph(g2, path2)
    assert orjson.loads(path2.read_bytes()) == doc


def test_written_files_validate_against_neuronpedia_schema(tmp_path, neuronpedia_schema_path):
    schema = json.loads(neuronpedia_schema_path.read_text())
    validator = jsonschema.Draft7Validator(schema)
    for graph in (random_graph(n_links=800, seed=1), document_to_graph(circuit_tracer_doc())):
        path = tmp_path / "out.json"
        save_graph(graph, path)
        errors = list(validator.iter_errors(json.loads(path.read_text())))
        assert not errors, errors[0].message


def test_written_nodes_have_the_viewer_keys(tmp_path):
    g = random_graph(n_links=300, seed=2)
    path = tmp_path / "v.json"
    save_graph(g, path)
    doc = json.loads(path.read_text())
    viewer_keys = {
        "node_id",
        "feature",
        "layer",
        "ctx_idx",
        "feature_type",
        "token_prob",
        "is_target_logit",
        "run_idx",
        "reverse_ctx_idx",
        "jsNodeId",
        "clerp",
        "influence",
        "activation",
    }
    for node in doc["nodes"]:
        assert viewer_keys <= node.keys()
    assert sum(node["is_target_logit"] for node in doc["nodes"]) == 1
    assert set(doc["qParams"]) >= {"pinnedIds", "supernodes", "linkType", "clickedId", "sg_pos"}


@pytest.mark.trace
def test_circuit_tracer_pydantic_model_accepts_our_file(tmp_path):
    graph_models = pytest.importorskip("circuit_tracer.frontend.graph_models")
    g = random_graph(n_links=300, seed=4)
    path = tmp_path / "ct.json"
    save_graph(g, path)
    model = graph_models.Model.model_validate_json(path.read_bytes())
    assert len(model.nodes) == len(g.nodes) and len(model.links) == len(g.edges)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["links"][0].update(source="nope"), "links[0].source 'nope' is not the id of any node"),
        (lambda d: d["links"][1].pop("weight"), "links[1].weight is None, expected a number"),
        (lambda d: d["nodes"][1].pop("node_id"), "nodes[1].node_id is missing"),
        (lambda d: d["nodes"][1].update(layer="x", node_id="q"), "layer 'x'"),
        (lambda d: d.pop("nodes"), "missing top-level key 'nodes'"),
        (lambda d: d.update(links={}), "'links' is an object, expected an array"),
    ],
)
def test_malformed_documents_explain_themselves(mutate, message):
    doc = circuit_tracer_doc()
    mutate(doc)
    with pytest.raises(GraphFormatError) as info:
        document_to_graph(doc)
    assert message in str(info.value)


def test_sniffs_json_by_content_not_suffix(tmp_path):
    path = tmp_path / "graph.data"
    path.write_bytes(b"\n  " + orjson.dumps(circuit_tracer_doc()))
    assert detect_format(path) == "neuronpedia-json"
    assert len(load_graph(path).nodes) == 4
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(circuit_tracer_doc()))
    assert len(read_json(bom).nodes) == 4
