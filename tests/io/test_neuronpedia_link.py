"""A Neuronpedia graph link as an input graph, against a local server with Neuronpedia's route shapes
(attrgraph_testing/np_server.py names the source file of each shape)."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import quote

import orjson
import pytest

from attrgraph_cli.io.neuronpedia_json import dumps
from attrgraph_cli.io.neuronpedia_link import LinkError, parse_link
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.np_server import Reply, Server, graph_metadata_row, js

try:  # the synthetic graphs moved to a test-support package
    from attrgraph_testing.synthetic import random_graph
except ImportError:  # pragma: no cover - before that move
    from attrgraph_cli.graph.synthetic import random_graph

MODEL, SLUG = "gemma-2-2b", "dallas-austin"


def graph_doc() -> dict:
    doc = orjson.loads(dumps(random_graph(n_links=200, n_layers=4, n_tokens=5, n_logits=3, seed=3)))
    doc["metadata"]["scan"] = MODEL
    doc["metadata"]["slug"] = SLUG
    return doc


@pytest.fixture
def np_env(tmp_path, monkeypatch):
    """A Neuronpedia on 127.0.0.1 serving one graph, an empty XDG cache, the env pointing at both."""
    srv = Server()
    doc = graph_doc()
    srv.graph = doc
    stored = f"{srv.url}/bucket/{SLUG}.json"
    srv.routes[("GET", f"/api/graph/{MODEL}/{SLUG}")] = js(
        graph_metadata_row(srv.url, MODEL, SLUG, stored, "clt-hp")
    )
    srv.routes[("GET", f"/bucket/{SLUG}.json")] = Reply(200, orjson.dumps(doc))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", srv.url)
    monkeypatch.delenv("NEURONPEDIA_API_KEY", raising=False)
    yield srv
    srv.close()


def features(doc):
    return [n for n in doc["nodes"] if n["feature_type"] == "cross layer transcoder"]


def view_link(srv) -> tuple[str, list[str], list[list[str]], list[list[str]]]:
    feats = features(srv.graph)
    pins = [feats[0]["node_id"], feats[1]["node_id"]]
    supernodes = [["Texas", feats[2]["node_id"], feats[3]["node_id"]], ["say a capital", feats[4]["node_id"]]]
    f = feats[5]
    clerps = [[f"{f['layer']}_{f['feature']}_{f['ctx_idx']}", "Cities (say Austin)"]]
    link = (
        f"{srv.url}/{MODEL}/graph?slug={SLUG}&pinnedIds={','.join(pins)}"
        f"&supernodes={quote(json.dumps(supernodes))}&clerps={quote(json.dumps(clerps))}"
        "&pruningThreshold=0.6&densityThreshold=0.99"
    )
    return link, pins, supernodes, clerps


def run(*args: object) -> CliResult:
    return run_cli(*map(str, args))


def test_parse_link_forms(monkeypatch):
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", "http://np.local:8080")
    short = parse_link("np:gemma-2-2b/my-graph")
    assert (short.base, short.model, short.slug) == ("http://np.local:8080", "gemma-2-2b", "my-graph")
    full = parse_link("https:/www.neuronpedia.org/gemma-2-2b/graph?slug=s1&pinnedIds=a,b")  # Path-collapsed
    assert (full.base, full.model, full.slug, full.pinned) == (
        "https://www.neuronpedia.org",
        "gemma-2-2b",
        "s1",
        ["a", "b"],
    )
    for bad in (
        "https://www.neuronpedia.org/gemma-2-2b/graph",  # no slug
        "https://www.neuronpedia.org/gemma-2-2b/other?slug=x",
        "https://h/gemma-2-2b/graph?slug=x&supernodes=%5B1%5D",  # supernodes not string arrays
        "https://h/gemma-2-2b/graph?slug=x&clerps=notjson",
        "https://h/gemma-2-2b/graph?slug=x&pruningThreshold=inf",
        "file:///etc/passwd",
    ):
        with pytest.raises((LinkError, Exception)) as err:
            parse_link(bad)
        assert "\n" not in str(err.value)


def test_convert_link_applies_the_view(np_env, tmp_path):
    link, pins, supernodes, clerps = view_link(np_env)
    out = tmp_path / "g.json"
    result = run("convert", link, "-o", out)
    assert result.code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["qParams"]["pinnedIds"] == pins
    assert doc["qParams"]["supernodes"] == supernodes
    assert doc["qParams"]["pruningThreshold"] == 0.6 and doc["qParams"]["densityThreshold"] == 0.99
    target = next(n for n in doc["nodes"] if f"{n['layer']}_{n['feature']}_{n['ctx_idx']}" == clerps[0][0])
    assert target["clerp"] == "Cities (say Austin)"
    assert doc["metadata"]["info"]["neuronpedia_graph_page"] == f"{np_env.url}/{MODEL}/graph?slug={SLUG}"
    assert doc["metadata"]["feature_details"]["neuronpedia_source_set"] == "clt-hp"
    assert run("validate", out).code == 0
    # control: the same graph converted from the stored file has none of the view
    plain = tmp_path / "plain.json"
    (tmp_path / "stored.json").write_bytes(orjson.dumps(np_env.graph))
    assert run("convert", tmp_path / "stored.json", "-o", plain).code == 0
    assert json.loads(plain.read_text())["qParams"]["pinnedIds"] == []


def test_second_use_is_served_from_the_cache(np_env, tmp_path):
    assert run("convert", f"np:{MODEL}/{SLUG}", "-o", tmp_path / "a.json").code == 0
    n = len(np_env.seen)
    assert n == 2  # metadata, then the stored JSON
    np_env.close()  # offline now
    result = run("convert", f"np:{MODEL}/{SLUG}", "-o", tmp_path / "b.json")
    assert result.code == 0, result.output
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    a.pop("attrgraph"), b.pop("attrgraph")  # the history's times differ
    assert a == b
    for command in (["validate"], ["cluster", "-o", str(tmp_path / "c.json")]):  # every reader takes it
        result = run(command[0], f"np:{MODEL}/{SLUG}", *command[1:])
        assert result.code == 0, result.output


@pytest.mark.slow
def test_render_link_to_pdf_shows_pins_and_supernodes(np_env, tmp_path):
    link, pins, supernodes, clerps = view_link(np_env)
    pdf = tmp_path / "fig.pdf"
    result = run("render", link, "-o", pdf)
    assert result.code == 0, result.output
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Texas" in text and "say a capital" in text
    assert "Cities (say Austin)" in text


FAILURES = {
    "metadata 404": lambda s: s.routes.pop(("GET", f"/api/graph/{MODEL}/{SLUG}")),
    "metadata is an HTML page": lambda s: s.routes.__setitem__(
        ("GET", f"/api/graph/{MODEL}/{SLUG}"),
        Reply(200, b"<html>Cloudflare</html>", {"Content-Type": "text/html"}),
    ),
    "metadata malformed": lambda s: s.routes.__setitem__(
        ("GET", f"/api/graph/{MODEL}/{SLUG}"), Reply(200, b'{"url": ')
    ),
    "metadata wrong shape": lambda s: s.routes.__setitem__(("GET", f"/api/graph/{MODEL}/{SLUG}"), js([1, 2])),
    "stored url is file:": lambda s: s.routes.__setitem__(
        ("GET", f"/api/graph/{MODEL}/{SLUG}"),
        js(graph_metadata_row(s.url, MODEL, SLUG, "file:///etc/passwd", None)),
    ),
    "stored url is ftp:": lambda s: s.routes.__setitem__(
        ("GET", f"/api/graph/{MODEL}/{SLUG}"),
        js(graph_metadata_row(s.url, MODEL, SLUG, "ftp://x/y.json", None)),
    ),
    "graph json truncated": lambda s: s.routes.__setitem__(
        ("GET", f"/bucket/{SLUG}.json"), Reply(200, orjson.dumps(s.graph)[:500])
    ),
    "graph json not a graph": lambda s: s.routes.__setitem__(
        ("GET", f"/bucket/{SLUG}.json"), js({"nodes": 5})
    ),
    "graph json 500s": lambda s: s.routes.__setitem__(
        ("GET", f"/bucket/{SLUG}.json"), js({"error": "x"}, 500)
    ),
    "redirect elsewhere": lambda s: s.routes.__setitem__(
        ("GET", f"/api/graph/{MODEL}/{SLUG}"), Reply(302, b"", {"Location": "http://127.0.0.2:9/steal"})
    ),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failures_are_one_line_exit_2_nothing_written_cache_clean(np_env, tmp_path, monkeypatch, case):
    monkeypatch.setenv("ATTRGRAPH_NET_RETRIES", "1")
    good_meta = np_env.routes.get(("GET", f"/api/graph/{MODEL}/{SLUG}"))
    good_graph = np_env.routes.get(("GET", f"/bucket/{SLUG}.json"))
    FAILURES[case](np_env)
    out = tmp_path / "g.json"
    result = run("convert", f"np:{MODEL}/{SLUG}", "-o", out)
    assert result.code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error: "), result.output
    assert not out.exists()
    # the cache is not poisoned: the fixed server's graph is fetched and used
    np_env.routes[("GET", f"/api/graph/{MODEL}/{SLUG}")] = good_meta
    np_env.routes[("GET", f"/bucket/{SLUG}.json")] = good_graph
    result = run("convert", f"np:{MODEL}/{SLUG}", "-o", out)
    assert result.code == 0, result.output
    assert json.loads(out.read_text())["metadata"]["slug"] == SLUG


def test_timeout_one_line(np_env, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTRGRAPH_NET_TIMEOUT", "0.3")
    monkeypatch.setenv("ATTRGRAPH_NET_RETRIES", "1")
    np_env.routes[("GET", f"/bucket/{SLUG}.json")] = Reply(200, orjson.dumps(np_env.graph), delay=2.0)
    result = run("convert", f"np:{MODEL}/{SLUG}", "-o", tmp_path / "g.json")
    assert result.code == 2 and "timed out" in result.output
    assert not (tmp_path / "g.json").exists()


def test_network_error_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ATTRGRAPH_NET_RETRIES", "1")
    result = run("render", f"np:{MODEL}/{SLUG}", "-o", tmp_path / "x.html")
    assert result.code == 2 and "cannot reach" in result.output
    assert not (tmp_path / "x.html").exists()


def test_too_large_graph_refused(np_env, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTRGRAPH_NET_MAX_MB", "0.001")
    result = run("convert", f"np:{MODEL}/{SLUG}", "-o", tmp_path / "g.json")
    assert result.code == 2 and "too large" in result.output


def test_a_local_file_is_never_a_link(np_env, tmp_path, monkeypatch):
    """A file path argument makes no request, even with a Neuronpedia configured (the control above
    shows the same server is reachable)."""
    f = tmp_path / "g.json"
    f.write_bytes(orjson.dumps(np_env.graph))
    assert run("render", f, "-o", tmp_path / "g.html").code == 0
    assert run("validate", f).code == 0
    assert np_env.seen == []


def test_a_raw_pasted_link_keeps_its_labels_exactly(np_env, tmp_path, cli):
    """Through the real command line (a Path argument would fold `//`): raw JSON, spaces, `//` in a label."""

    f = features(np_env.graph)[0]
    fid = f"{f['layer']}_{f['feature']}_{f['ctx_idx']}"
    link = f"{np_env.url}/{MODEL}/graph?slug={SLUG}&clerps=" + json.dumps([[fid, "see a // b"]])
    out = tmp_path / "g.json"
    proc = cli("convert", link, "-o", out, fresh=True, timeout=120)
    assert proc.code == 0, proc.stderr
    node = next(n for n in json.loads(out.read_text())["nodes"] if n["node_id"] == f["node_id"])
    assert node["clerp"] == "see a // b"
