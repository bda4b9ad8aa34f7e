"""Legacy keys of older files moved into the `attrgraph` extension once, on load (extension/migrate.py)."""

from __future__ import annotations

import orjson
import pytest

from attrgraph_cli.extension import feature_key, features, history, interventions, migrate
from attrgraph_cli.io import load_graph, save_graph
from attrgraph_cli.io.neuronpedia_json import graph_to_document
from attrgraph_cli.validate.engine import validate_document
from attrgraph_testing.synthetic import random_graph


@pytest.fixture
def small():
    return random_graph(n_links=300, n_layers=4, n_tokens=5, n_logits=3, seed=1)


def _errors(doc):
    return [p for p in validate_document(doc) if p.severity == "error"]


def test_legacy_keys_are_migrated_once(small, tmp_path):
    small.nodes.label[small.nodes.kind == 1] = ""  # no clerp: the label comes from the details
    node = int((small.nodes.kind == 1).argmax())
    layer, index, nid = (
        int(small.nodes.layer[node]),
        int(small.nodes.feature[node]),
        str(small.nodes.ids[node]),
    )
    doc = graph_to_document(small)
    doc["metadata"]["info"] = {
        "attrgraph": {
            "convert": {
                "version": "0.0.9",
                "source": "g.pt",
                "source_format": "circuit-tracer-pt",
                "settings": {"node_threshold": 0.8},
                "time": "2026-01-01T00:00:00+00:00",
            },
            "renamed_error_nodes": {"a": "b"},
        }
    }
    doc["feature_details"] = {
        f"{layer}_{index}": {
            "index": index,
            "examples_quantiles": [
                {"quantile_name": "top", "examples": [{"tokens": ["a", "b"], "tokens_acts_list": [0, 2]}]}
            ],
            "top_logits": ["x"],
            "explanations": [{"description": "the letter b"}],
        },
    }
    doc["interventions"] = [
        {
            "name": "zero it",
            "set": {nid: 0},
            "top_logits_before": [["x", 0.5]],
            "top_logits_after": [["y", 0.25]],
        }
    ]
    path = tmp_path / "old.json"
    path.write_bytes(orjson.dumps(doc))
    graph = load_graph(path)
    assert "feature_details" not in graph.extra and "interventions" not in graph.extra
    assert graph.metadata["info"]["attrgraph"] == {"renamed_error_nodes": {"a": "b"}}
    [record] = history(graph)
    assert record["stage"] == "convert" and record["attrgraph_version"] == "0.0.9"
    assert record["started"].startswith("2026-01-01") and record["inputs"][0]["name"] == "g.pt"
    entry = features(graph)[feature_key(layer, index)]
    assert entry["label"] == "the letter b" and entry["source"] == "feature-details"
    assert entry["details"]["top_logits"] == ["x"]
    [iv] = interventions(graph)
    assert iv["spec"] == [{"op": "set", "nodes": [nid], "value": 0.0, "text": f"{nid}=0"}]
    assert iv["top_after"] == [["y", 0.25]]
    out = tmp_path / "new.json"
    save_graph(graph, out)
    written = orjson.loads(out.read_bytes())
    assert not _errors(written)
    again = migrate(load_graph(out))  # idempotent: nothing is duplicated
    assert len(history(again)) == 1 and len(interventions(again)) == 1
