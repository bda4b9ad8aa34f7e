"""`autointerp -l neuronpedia` against a local server answering `POST /api/features` as Neuronpedia does
(app/api/features/route.ts: found rows only, `index` a string; rows shaped as attrgraph_testing/np_server.py
says)."""

from __future__ import annotations

import json

import orjson
import pytest

from attrgraph_cli.autointerp import import_neuronpedia_api
from attrgraph_cli.io.neuronpedia_json import dumps
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.np_server import Reply, Server, js, neuron_row

try:  # the synthetic graphs moved to a test-support package
    from attrgraph_testing.synthetic import random_graph
except ImportError:  # pragma: no cover - before that move
    from attrgraph_cli.graph.synthetic import random_graph

MODEL, SET = "gemma-2-2b", "clt-hp"


def graph_file(tmp_path, scan=MODEL, source_set=SET):
    doc = orjson.loads(dumps(random_graph(n_links=200, n_layers=4, n_tokens=5, n_logits=3, seed=3)))
    doc["metadata"]["scan"] = scan
    if source_set:
        doc["metadata"]["feature_details"] = {"neuronpedia_source_set": source_set}
    for node in doc["nodes"]:
        if node["feature_type"] == "cross layer transcoder":
            node["clerp"] = ""  # unlabelled, as a freshly traced graph
    path = tmp_path / "g.json"
    path.write_bytes(orjson.dumps(doc))
    return path, doc


def feature_keys(doc):
    return sorted(
        {
            (int(n["layer"]), int(n["node_id"].split("_")[1]))
            for n in doc["nodes"]
            if n["feature_type"] == "cross layer transcoder"
        }
    )


@pytest.fixture
def np_srv(tmp_path, monkeypatch):
    srv = Server()
    srv.missing = set()
    srv.batches = []

    def features(seen):
        asked = json.loads(seen.body)
        srv.batches.append(len(asked))
        rows = []
        for item in asked:
            layer = int(item["layer"].split("-", 1)[0])
            if (layer, item["index"]) in srv.missing:
                continue
            rows.append(
                neuron_row(item["modelId"], item["layer"], item["index"], f"label {layer}/{item['index']}")
            )
        return js(rows)

    srv.routes[("POST", "/api/features")] = features
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", srv.url)
    monkeypatch.setenv("ATTRGRAPH_NET_RETRIES", "2")
    monkeypatch.delenv("NEURONPEDIA_API_KEY", raising=False)
    yield srv
    srv.close()


def run(*args: object) -> CliResult:
    return run_cli(*map(str, args))


def test_labels_details_not_found_and_a_second_run_without_requests(np_srv, tmp_path, monkeypatch):
    monkeypatch.setattr(import_neuronpedia_api, "BATCH", 8)
    path, doc = graph_file(tmp_path)
    keys = feature_keys(doc)
    np_srv.missing = {keys[0], keys[1]}
    out = tmp_path / "l.json"
    result = run("autointerp", path, "-l", "neuronpedia", "-o", out, "--no-dashboards", "-q")
    assert result.code == 0, result.output
    assert f"{len(keys) - 2} of {len(keys)} features found, 2 not found" in result.output
    first = len(np_srv.requests("POST", "/api/features"))
    assert first == -(-len(keys) // 8) and max(np_srv.batches) <= 8
    labelled = json.loads(out.read_text())
    feats = labelled["attrgraph"]["features"]
    layer, index = keys[2]
    entry = feats[f"{layer}_{index}"]
    assert entry["label"] == f"label {layer}/{index}"  # the np_max-act-logits explanation, not the older one
    assert entry["source"] == "neuronpedia" and entry["explainer"].startswith("np_max-act-logits")
    details = entry["details"]
    assert details["examples_quantiles"][0]["examples"][0]["tokens"][-1] == " Austin"
    assert details["top_logits"] == [" Austin", " Dallas", " Houston"]
    assert len(details["histogram"]["edges"]) == len(details["histogram"]["counts"]) + 1
    assert entry["density"] == pytest.approx(0.0123)
    node = next(n for n in labelled["nodes"] if n["node_id"].startswith(f"{layer}_{index}_"))
    assert node["clerp"] == f"label {layer}/{index}"
    assert run("validate", out).code == 0
    # second run: everything (found and not found) comes from the cache
    result = run("autointerp", path, "-l", "neuronpedia", "-o", tmp_path / "l2.json", "--no-dashboards", "-q")
    assert result.code == 0, result.output
    assert len(np_srv.requests("POST", "/api/features")) == first
    assert "0 requests" in result.output


def test_resumes_after_a_failed_batch(np_srv, tmp_path, monkeypatch):
    monkeypatch.setattr(import_neuronpedia_api, "BATCH", 4)
    monkeypatch.setattr(import_neuronpedia_api, "CONCURRENCY", 1)
    path, doc = graph_file(tmp_path)
    keys = feature_keys(doc)
    good = np_srv.routes[("POST", "/api/features")]
    calls = []

    def fail_third(seen):
        calls.append(1)
        return js({"message": "Unknown Error"}, 500) if len(calls) >= 3 else good(seen)

    np_srv.routes[("POST", "/api/features")] = fail_third
    out = tmp_path / "l.json"
    result = run("autointerp", path, "-l", "neuronpedia", "-o", out, "--no-dashboards", "-q")
    assert result.code == 2 and not out.exists()
    np_srv.routes[("POST", "/api/features")] = good
    np_srv.batches.clear()
    result = run("autointerp", path, "-l", "neuronpedia", "-o", out, "--no-dashboards", "-q")
    assert result.code == 0, result.output
    assert sum(np_srv.batches) == len(keys) - 8  # the two batches that succeeded are not asked again


def test_unknown_scan_is_a_clear_error_without_a_request(np_srv, tmp_path):
    path, _ = graph_file(tmp_path, scan="my-private-model/x", source_set=None)
    result = run("autointerp", path, "-l", "neuronpedia", "-o", tmp_path / "l.json", "--no-dashboards", "-q")
    assert result.code == 1 and "no Neuronpedia source set" in result.output
    assert np_srv.seen == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, b"<!doctype html><title>502</title>", {"Content-Type": "text/html"}),
        Reply(200, b"[{"),
        js({"rows": []}),
        js({"message": "x"}, 503),
    ],
    ids=["html", "malformed", "wrong-shape", "503"],
)
def test_bad_answers_are_one_line_exit_2_nothing_written(np_srv, tmp_path, reply):
    path, _ = graph_file(tmp_path)
    np_srv.routes[("POST", "/api/features")] = reply
    out = tmp_path / "l.json"
    result = run("autointerp", path, "-l", "neuronpedia", "-o", out, "--no-dashboards", "-q")
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.code == 2 and len(lines) == 1 and lines[0].startswith("attrgraph: error:"), result.output
    assert not out.exists()
    assert not list((tmp_path / "cache").rglob("refs/*"))  # nothing cached from a bad answer


def test_api_key_sent_to_that_server_only(np_srv, tmp_path, monkeypatch):
    monkeypatch.setenv("NEURONPEDIA_API_KEY", "np-key-123")
    path, _ = graph_file(tmp_path)
    assert (
        run("autointerp", path, "-l", "neuronpedia", "-o", tmp_path / "l.json", "--no-dashboards", "-q").code
        == 0
    )
    assert {s.headers.get("x-api-key") for s in np_srv.seen} == {"np-key-123"}


def test_hostile_rows_do_not_crash_and_are_clipped(np_srv, tmp_path):
    path, doc = graph_file(tmp_path)
    keys = feature_keys(doc)

    def hostile(seen):
        asked = json.loads(seen.body)
        rows = []
        for n, item in enumerate(asked):
            row = {"modelId": item["modelId"], "layer": item["layer"], "index": str(item["index"])}
            kind = n % 5
            if kind == 0:
                row.update(explanations=5, activations="x", pos_str={"a": 1}, frac_nonzero="big")
            elif kind == 1:
                row.update(explanations=[{"description": "<script>alert(1)</script>\x1b[31m" + "y" * 5000}])
            elif kind == 2:
                row.update(
                    activations=[
                        {"tokens": ["a", "b"], "values": [1.0]},
                        {"tokens": ["a"], "values": ["x"]},
                    ]
                )
            elif kind == 3:
                row.update(freq_hist_data_bar_values=[2.0, 1.0], freq_hist_data_bar_heights=[-1, 3])
            else:
                row.update(explanations=[None, {"description": 7}, {"description": "ok label"}])
            rows.append(row)
        rows.append("not a row")
        return js(rows)

    np_srv.routes[("POST", "/api/features")] = hostile
    out = tmp_path / "l.json"
    result = run("autointerp", path, "-l", "neuronpedia", "-o", out, "--no-dashboards", "-q")
    assert result.code in (0, 1), result.output
    assert "unexpected" not in result.output and "Traceback" not in result.output
    if out.exists():
        assert run("validate", out).code == 0
        labels = [e["label"] for e in json.loads(out.read_text())["attrgraph"]["features"].values()]
        assert all(len(label) <= 500 for label in labels)
    assert len(keys) > 5
