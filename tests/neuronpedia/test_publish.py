"""`attrgraph publish` against a local server answering as Neuronpedia's upload routes do
(app/api/graph/signed-put/route.ts, then a PUT to the signed URL, then app/api/graph/save-to-db/route.ts)."""

from __future__ import annotations

import json

import orjson
import pytest

from attrgraph_cli.io.neuronpedia_json import dumps
from attrgraph_cli.neuronpedia.publish import PublishRefused, plan
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.np_server import Reply, Server, js

try:  # the synthetic graphs moved to a test-support package
    from attrgraph_testing.synthetic import random_graph
except ImportError:  # pragma: no cover - before that move
    from attrgraph_cli.graph.synthetic import random_graph

MODEL, SLUG = "gemma-2-2b", "my-traced-graph"


def graph_file(tmp_path, slug=SLUG):
    doc = orjson.loads(dumps(random_graph(n_links=200, n_layers=4, n_tokens=5, n_logits=3, seed=3)))
    doc["metadata"]["scan"], doc["metadata"]["slug"] = MODEL, slug
    path = tmp_path / "g.json"
    path.write_bytes(orjson.dumps(doc))
    return path, doc


@pytest.fixture
def np_srv(tmp_path, monkeypatch):
    srv = Server()
    signed = f"{srv.url}/s3/neuronpedia-attrib/user-graphs/u1/{SLUG}-1700000000000.json"
    srv.routes[("POST", "/api/graph/signed-put")] = js(
        {"url": signed + "?X-Amz-Signature=abc", "key": "user-graphs/u1/x.json", "putRequestId": "clxput0001"}
    )
    srv.routes[("PUT", f"/s3/neuronpedia-attrib/user-graphs/u1/{SLUG}-1700000000000.json")] = Reply(
        200, b"", {}
    )
    srv.routes[("POST", "/api/graph/save-to-db")] = js(
        {"message": "Graph saved to database", "url": f"{srv.url}/{MODEL}/graph?slug={SLUG}"}
    )
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", srv.url)
    monkeypatch.setenv("NEURONPEDIA_API_KEY", "np-key-789")
    monkeypatch.setenv("ATTRGRAPH_NET_RETRIES", "1")
    yield srv
    srv.close()


def run(*args: object) -> CliResult:
    return run_cli(*map(str, args))


def test_upload_sequence_and_link(np_srv, tmp_path):
    path, doc = graph_file(tmp_path)
    result = run("publish", path)
    assert result.code == 0, result.output
    assert result.stdout.strip() == f"{np_srv.url}/{MODEL}/graph?slug={SLUG}"
    first, put, save = np_srv.seen
    assert (first.method, first.path) == ("POST", "/api/graph/signed-put")
    sent = json.loads(first.body)
    assert sent["filename"] == f"{SLUG}.json" and sent["contentLength"] == len(put.body)
    assert first.headers["x-api-key"] == "np-key-789"
    assert put.method == "PUT" and "x-api-key" not in put.headers  # the signed URL needs no key
    assert json.loads(put.body)["metadata"]["slug"] == SLUG
    assert (save.method, save.path, json.loads(save.body)) == (
        "POST",
        "/api/graph/save-to-db",
        {"putRequestId": "clxput0001"},
    )
    assert "signed-put" in result.stderr and "save-to-db" in result.stderr  # it says what it sends


def test_invalid_graph_refused_before_any_request(np_srv, tmp_path):
    path, doc = graph_file(tmp_path)
    doc["links"].append(
        {"source": doc["nodes"][0]["node_id"], "target": doc["nodes"][1]["node_id"], "weight": "x"}
    )
    path.write_bytes(orjson.dumps(doc))
    result = run("publish", path)
    assert result.code != 0 and "error" in result.output
    assert np_srv.seen == []


def test_slug_neuronpedia_refuses_is_refused_here(np_srv, tmp_path):
    path, _ = graph_file(tmp_path, slug="my.graph")
    result = run("publish", path)
    assert result.code == 1 and "metadata.slug" in result.output and np_srv.seen == []


def test_size_limits():
    with pytest.raises(PublishRefused):
        plan(b"{}", "tiny.json", "http://x")
    with pytest.raises(PublishRefused):
        plan(b" " * (100 * 1024 * 1024 + 1), "huge.json", "http://x")


def test_dry_run_sends_nothing(np_srv, tmp_path):
    path, _ = graph_file(tmp_path)
    result = run("publish", path, "--dry-run")
    assert result.code == 0 and "would send" in result.stderr and np_srv.seen == []


def test_no_api_key_sends_nothing(np_srv, tmp_path, monkeypatch):
    monkeypatch.delenv("NEURONPEDIA_API_KEY")
    path, _ = graph_file(tmp_path)
    result = run("publish", path)
    assert result.code == 2 and "NEURONPEDIA_API_KEY" in result.output and np_srv.seen == []


@pytest.mark.parametrize(
    ("route", "reply", "said"),
    [
        (
            ("POST", "/api/graph/signed-put"),
            js({"error": "This endpoint requires authorization."}, 401),
            "API key",
        ),
        (
            ("POST", "/api/graph/save-to-db"),
            js({"error": "ERR_MODEL_DOES_NOT_EXIST"}, 400),
            "ERR_MODEL_DOES_NOT_EXIST",
        ),
        (
            ("POST", "/api/graph/signed-put"),
            Reply(200, b"<html>login</html>", {"Content-Type": "text/html"}),
            "HTML",
        ),
        (
            ("POST", "/api/graph/signed-put"),
            js({"url": "file:///etc/passwd", "putRequestId": "x1"}),
            "http or https",
        ),
    ],
)
def test_server_refusals_are_one_line(np_srv, tmp_path, route, reply, said):
    np_srv.routes[route] = reply
    path, _ = graph_file(tmp_path)
    result = run("publish", path)
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("attrgraph: error:")]
    assert result.code == 2 and len(errors) == 1 and said in errors[0], result.output
