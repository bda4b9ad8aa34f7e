"""The LLM explainer on the bounded client (issue 23): no credential across origins, the cache keyed by
endpoint and under XDG_CACHE_HOME, a whole-request deadline, a capped back-off, bad options refused."""

from __future__ import annotations

import time

import pytest

from attrgraph_cli.autointerp.explain_llm import LLMSettings, explain_all
from attrgraph_cli.errors import AttrgraphError
from attrgraph_testing.autointerp_fixtures import city_details
from attrgraph_testing.cli import run_cli
from attrgraph_testing.np_server import Reply, Server, js

try:  # the synthetic graphs moved to a test-support package
    from attrgraph_testing.synthetic import random_graph
except ImportError:  # pragma: no cover - before that move
    from attrgraph_cli.graph.synthetic import random_graph

KEY = "sk-secret-llm-456"
ITEM = {(1, 1): city_details(1)}


def answer(text: str) -> Reply:
    return js({"choices": [{"message": {"content": text}}]})


@pytest.fixture
def two():
    a, b = Server(), Server()
    yield a, b
    a.close()
    b.close()


def settings(url: str, cache, **kw) -> LLMSettings:
    base = dict(api_key_env="ATTRGRAPH_TEST_KEY", concurrency=1, retries=2, timeout=2.0, backoff=0.01)
    return LLMSettings(url + "/v1", "m", cache_dir=cache, **(base | kw))


def test_redirect_to_another_origin_sends_nothing_there(two, tmp_path, monkeypatch):
    a, evil = two
    monkeypatch.setenv("ATTRGRAPH_TEST_KEY", KEY)
    a.routes[("POST", "/v1/chat/completions")] = Reply(
        302, b"", {"Location": evil.url + "/v1/chat/completions"}
    )
    evil.routes[("POST", "/v1/chat/completions")] = answer("attacker label")
    evil.routes[("GET", "/v1/chat/completions")] = answer("attacker label")
    run = explain_all(ITEM, settings(a.url, tmp_path / "c"))
    assert not run.labels and "another origin" in run.errors[(1, 1)]
    assert evil.seen == []  # neither the key nor the prompt left the named origin
    assert a.seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_cache_is_keyed_by_endpoint(two, tmp_path):
    a, b = two
    a.routes[("POST", "/v1/chat/completions")] = answer("label from A")
    b.routes[("POST", "/v1/chat/completions")] = answer("label from B")
    cache = tmp_path / "c"
    assert explain_all(ITEM, settings(a.url, cache)).labels == {(1, 1): "label from A"}
    again = explain_all(ITEM, settings(b.url, cache))
    assert again.labels == {(1, 1): "label from B"} and len(b.seen) == 1  # A's answer is not reused for B
    assert explain_all(ITEM, settings(a.url, cache)).cached == 1  # control: the same endpoint hits


def test_a_dripping_server_is_bounded_by_the_timeout(two, tmp_path):
    a, _ = two
    body = b'{"choices": [{"message": {"content": "' + b"x" * 60 + b'"}}]}'
    a.routes[("POST", "/v1/chat/completions")] = Reply(200, body, drip=0.3)  # ~27 s to send in full
    started = time.monotonic()
    run = explain_all(ITEM, settings(a.url, tmp_path / "c", timeout=0.5, retries=2))
    elapsed = time.monotonic() - started
    assert not run.labels and "timed out" in run.errors[(1, 1)]
    assert elapsed < 8, elapsed  # two tries of 0.5 s and a short back-off, not the 27 s drip


def test_back_off_is_capped(two, tmp_path):
    a, _ = two
    a.routes[("POST", "/v1/chat/completions")] = js({"error": "down"}, 503)
    started = time.monotonic()
    run = explain_all(ITEM, settings(a.url, tmp_path / "c", timeout=0.3, retries=6, backoff=0.2))
    # uncapped: 0.2 * (1 + 2 + 4 + 8 + 16) = 6.2 s of back-off; capped at max(back-off, timeout) = 0.3 s
    assert time.monotonic() - started < 5.0
    assert len(a.seen) == 6 and "503" in run.errors[(1, 1)]


@pytest.mark.parametrize("timeout", [float("inf"), 1e20, float("nan")])
def test_absurd_timeouts_refused(timeout, tmp_path):
    with pytest.raises(AttrgraphError):
        LLMSettings("http://127.0.0.1:9/v1", "m", timeout=timeout)


@pytest.mark.parametrize(
    "endpoint",
    ["http://exa mple/v1", "http://h/\x1b]8;;x\x07", "ht!tp://x", "file:///etc/passwd", "http://h:99999"],
)
def test_bad_endpoints_refused(endpoint):
    with pytest.raises(AttrgraphError):
        LLMSettings(endpoint, "m")


@pytest.mark.parametrize(
    "args",
    [
        ["--llm-timeout", "1e20"],
        ["--llm-timeout", "inf"],
        ["--endpoint", "http://h/\x1b[31mred"],
        ["--endpoint", "not a url"],
    ],
)
def test_cli_refuses_bad_llm_options_in_one_line(args, tmp_path):
    from attrgraph_cli.io import save_graph

    graph = tmp_path / "g.json"
    save_graph(random_graph(n_links=100, n_layers=3, n_tokens=4, seed=1), graph)
    base = ["autointerp", str(graph), "-o", str(tmp_path / "o.json"), "--explainer", "llm"]
    if "--endpoint" not in args:
        base += ["--endpoint", "http://127.0.0.1:9/v1"]
    result = run_cli(*base + args)
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.code == 2 and len(lines) == 1 and lines[0].startswith("attrgraph: error:"), result.output
    assert "\x1b" not in result.output and not (tmp_path / "o.json").exists()


def test_default_cache_under_xdg(tmp_path, monkeypatch, two):
    from attrgraph_cli.io import save_graph

    a, _ = two
    a.routes[("POST", "/v1/chat/completions")] = answer("Texas cities")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    graph = tmp_path / "g.json"
    save_graph(random_graph(n_links=60, n_layers=3, n_tokens=4, seed=1), graph)
    result = run_cli(
        "autointerp",
        str(graph),
        "-o",
        str(tmp_path / "o.json"),
        "--explainer",
        "llm",
        "--endpoint",
        a.url + "/v1",
        "-l",
        str(_details_folder(tmp_path, graph)),
        "-q",
        "--no-dashboards",
    )
    assert result.code == 0, result.output
    assert list((tmp_path / "xdg" / "attrgraph" / "llm-labels").glob("*.json"))


def _details_folder(tmp_path, graph_path):
    """Feature-details files for every feature of the graph (so the LLM has dashboards to read)."""
    import json

    from attrgraph_cli.graph.ids import feature_number
    from attrgraph_testing.autointerp_fixtures import write_sources  # noqa: F401 - the fixtures' module

    doc = json.loads(graph_path.read_text())
    folder = tmp_path / "details"
    folder.mkdir()
    for node in doc["nodes"]:
        if node["feature_type"] == "cross layer transcoder":
            layer, index = int(node["layer"]), int(node["node_id"].split("_")[1])
            d = city_details(index)
            d["index"] = feature_number(layer, index, doc["metadata"].get("schema_version") or 1)
            (folder / f"{d['index']}.json").write_text(json.dumps(d))
    return folder
