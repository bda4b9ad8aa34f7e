"""The LLM explainer against a stub OpenAI-compatible server on 127.0.0.1, started inside the tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from attrgraph_cli.autointerp.explain_llm import LLMSettings, build_prompt, explain_all, parse_label
from attrgraph_cli.io import load_graph, save_graph
from attrgraph_testing.autointerp_fixtures import city_details, say_details, write_sources
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.synthetic import random_graph

KEY = "sk-test-secret-123"


class Stub:
    """A chat-completions server whose behaviour the test sets: ok, junk, slow, flaky (500 then ok)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.answer = "This feature fires on Texas cities."
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.auth: set[str] = set()
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with stub.lock:
                    stub.requests += 1
                    n = stub.requests
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                    stub.auth.add(self.headers.get("Authorization", ""))
                counted = [True]

                def answered() -> None:
                    """The request leaves the count before its answer is sent: a client may send its next
                    request the moment it has read this answer, before this thread runs again."""
                    if counted[0]:
                        counted[0] = False
                        with stub.lock:
                            stub.in_flight -= 1

                try:
                    time.sleep(0.05)
                    if stub.mode == "slow":
                        time.sleep(1.0)
                    answered()
                    if stub.mode == "flaky" and n % 2 == 1:
                        self.send_response(500)
                        self.end_headers()
                        return
                    if stub.mode == "junk":
                        payload = b"<html>not json</html>"
                    else:
                        assert body["messages"][-1]["role"] == "user"
                        payload = json.dumps({"choices": [{"message": {"content": stub.answer}}]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    answered()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def stub():
    server = Stub()
    yield server
    server.close()


def settings(stub: Stub, tmp_path: Path, **kw) -> LLMSettings:
    base = dict(api_key_env="ATTRGRAPH_TEST_KEY", concurrency=2, retries=3, timeout=5.0, backoff=0.01)
    return LLMSettings(stub.url, "stub-model", cache_dir=tmp_path / "cache", **(base | kw))


ITEMS = {(1, k): (city_details(k) if k % 2 else say_details(k)) for k in range(6)}


def test_prompt_and_label_parsing():
    prompt = build_prompt(say_details(1))
    assert "<<is>>" in prompt and "Austin" in prompt and "Top logits" in prompt
    assert parse_label("This feature fires on Texas cities.") == "Texas cities"
    assert parse_label('Label: "say Austin"\nbecause ...') == "say Austin"
    assert parse_label("one two three four five six seven eight") == "one two three four five six"
    assert parse_label("   ") is None and parse_label(None) is None


def test_labels_concurrency_limit_key_from_env_and_cache(stub, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTRGRAPH_TEST_KEY", KEY)
    run = explain_all(ITEMS, settings(stub, tmp_path))
    assert run.labels == {k: "Texas cities" for k in ITEMS} and not run.errors
    assert stub.requests == len(ITEMS) and 1 <= stub.max_in_flight <= 2
    assert stub.auth == {f"Bearer {KEY}"}
    assert not any(KEY in p.read_text() for p in (tmp_path / "cache").iterdir())
    again = explain_all(ITEMS, settings(stub, tmp_path))  # a rerun costs nothing
    assert again.labels == run.labels and again.cached == len(ITEMS) and stub.requests == len(ITEMS)


def test_retries_with_back_off_after_a_server_error(stub, tmp_path):
    stub.mode = "flaky"
    run = explain_all({(1, 1): ITEMS[(1, 1)]}, settings(stub, tmp_path, concurrency=1))
    assert run.labels == {(1, 1): "Texas cities"} and stub.requests == 2


def test_timeouts_are_retried_then_reported(stub, tmp_path):
    stub.mode = "slow"
    run = explain_all({(1, 1): ITEMS[(1, 1)]}, settings(stub, tmp_path, timeout=0.3, retries=2))
    assert not run.labels and "timed out" in run.errors[(1, 1)] and "after 2 tries" in run.errors[(1, 1)]
    assert stub.requests == 2


def test_junk_is_not_retried(stub, tmp_path):
    stub.mode = "junk"
    run = explain_all({(1, 1): ITEMS[(1, 1)]}, settings(stub, tmp_path))
    assert "junk" in run.errors[(1, 1)] and stub.requests == 1


def test_unreachable_endpoint(tmp_path):
    dead = LLMSettings("http://127.0.0.1:9", "m", retries=1, timeout=1.0, cache_dir=tmp_path)
    run = explain_all({(1, 1): ITEMS[(1, 1)]}, dead)
    assert "cannot reach" in run.errors[(1, 1)] or "connection" in run.errors[(1, 1)]


@pytest.fixture()
def labelled_inputs(tmp_path):
    graph = random_graph(n_links=300, seed=4)
    graph.nodes.label[graph.nodes.kind == 1] = ""
    path = tmp_path / "g.json"
    save_graph(graph, path)
    from attrgraph_cli.autointerp.targets import graph_targets

    keys = list(graph_targets(graph))
    return path, write_sources(tmp_path / "src", keys)["details"], keys


def _cli(stub, path, details, out, tmp_path, *extra) -> CliResult:
    args = ["autointerp", str(path), "-l", str(details), "-o", str(out), "--explainer", "llm"]
    args += ["--endpoint", stub.url, "--llm-model", "stub", "--llm-cache", str(tmp_path / "c"), *extra]
    return run_cli(*args)


def test_command_with_llm_labels(stub, tmp_path, labelled_inputs):
    path, details, keys = labelled_inputs
    out = tmp_path / "o.json"
    result = _cli(stub, path, details, out, tmp_path)
    assert result.code == 0, result.stderr
    feats = load_graph(out).extra["attrgraph"]["features"]
    assert {v["label"] for v in feats.values()} == {"Texas cities"}
    assert {v["source"] for v in feats.values()} == {"llm"}
    assert load_graph(out).extra["attrgraph"]["history"][-1]["details"]["llm"]["labelled"] == len(keys) - 1


def test_command_with_a_failing_endpoint_keeps_heuristic_labels_and_says_so(stub, tmp_path, labelled_inputs):
    path, details, keys = labelled_inputs
    stub.mode = "junk"
    out = tmp_path / "o.json"
    result = _cli(stub, path, details, out, tmp_path, "--llm-retries", "1")
    assert result.code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("attrgraph: warning: llm")]
    assert len(warning) == 1 and "junk" in warning[0] and "keep their heuristic labels" in warning[0]
    feats = load_graph(out).extra["attrgraph"]["features"]
    assert {v["source"] for v in feats.values()} == {"heuristic"}
    assert all("junk" in v["llm_error"] for v in feats.values())
