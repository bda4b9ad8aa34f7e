"""Network only when asked: `trace`, `render` and `validate` of a file, and the report itself, open no
socket. Each command runs in a child process whose sitecustomize records (and refuses) every IP connect
and DNS lookup; the control is a Neuronpedia link under the same guard, which is recorded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

try:  # the synthetic graphs moved to a test-support package
    from attrgraph_testing.synthetic import random_graph
except ImportError:  # pragma: no cover - before that move
    from attrgraph_cli.graph.synthetic import random_graph

from attrgraph_cli.io import save_graph
from attrgraph_testing.paths import REPO

GUARD = """
import os, socket
_log = os.environ["NET_GUARD_LOG"]
def _note(what):
    with open(_log, "a") as f:
        f.write(what + "\\n")
_connect = socket.socket.connect
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _note(f"connect {address}")
        raise OSError("network disabled by the test guard")
    return _connect(self, address)
socket.socket.connect = connect
socket.socket.connect_ex = lambda self, address: (_note(f"connect_ex {address}"), 111)[1]
_gai = socket.getaddrinfo
def getaddrinfo(host, *a, **k):
    _note(f"getaddrinfo {host}")
    raise socket.gaierror("network disabled by the test guard")
socket.getaddrinfo = getaddrinfo
"""


@pytest.fixture
def guarded(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "net.log"
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(site), str(REPO)]),
        NET_GUARD_LOG=str(log),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        ATTRGRAPH_NEURONPEDIA_URL="http://neuronpedia.invalid",
        ATTRGRAPH_NET_RETRIES="1",
    )

    def run(*args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        if log.exists():
            log.unlink()
        proc = subprocess.run(
            [sys.executable, "-m", "attrgraph_cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return proc, (log.read_text().splitlines() if log.exists() else [])

    return run


@pytest.fixture
def graph_json(tmp_path):
    path = tmp_path / "g.json"
    save_graph(random_graph(n_links=300, n_layers=4, n_tokens=5, seed=2), path)
    return path


def test_file_commands_and_reports_open_no_socket(guarded, graph_json, tmp_path):
    for args in (
        ["validate", str(graph_json)],
        ["convert", str(graph_json), "-o", str(tmp_path / "c.json")],
        ["render", str(graph_json), "-o", str(tmp_path / "r.html")],
        ["render", str(graph_json), "-o", str(tmp_path / "r.svg")],
    ):
        proc, attempts = guarded(*args)
        assert proc.returncode == 0, proc.stderr
        assert attempts == [], (args, attempts)


def test_control_a_link_is_seen_by_the_guard(guarded, tmp_path):
    proc, attempts = guarded("convert", "np:gemma-2-2b/some-graph", "-o", str(tmp_path / "x.json"))
    assert proc.returncode == 2 and proc.stderr.startswith("attrgraph: error:")
    assert attempts, "the guard saw no request: it would not catch one either"
    assert not (tmp_path / "x.json").exists()


@pytest.mark.slow
def test_pdf_report_and_trace_open_no_socket(guarded, graph_json, tmp_path):
    proc, attempts = guarded("render", str(graph_json), "-o", str(tmp_path / "r.pdf"))
    assert proc.returncode == 0 and attempts == [], (proc.stderr, attempts)
    proc, attempts = guarded("trace", "The capital of Texas is", "-o", str(tmp_path / "t.json"))
    assert proc.returncode == 0 and attempts == [], (proc.stderr[-2000:], attempts)
