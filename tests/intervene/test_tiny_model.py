"""`attrgraph intervene` on a tiny random-weight model (attrgraph_testing/tiny_model.py): exactness, model
resolution.

- `--direct` single-feature interventions reproduce the graph's edges to every logit (1e-4 relative);
- the empty intervention is the plain forward pass;
- the model is found from the graph's trace record (a local folder) with no --model;
- another tiny model (other seed) given with --model is refused: one line, exit 2, nothing written.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("circuit_tracer")


from attrgraph_cli.graph.model import NodeKind  # noqa: E402
from attrgraph_cli.intervene import api  # noqa: E402
from attrgraph_cli.intervene.session import Settings  # noqa: E402
from attrgraph_testing.cli import run_cli
from attrgraph_testing.tiny_model import build_tiny_model  # noqa: E402

pytestmark = [pytest.mark.trace, pytest.mark.xdist_group("trace")]

PROMPT = "The capital of the state containing Dallas is"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-iv") / "model", enc_bias=-1.0)


@pytest.fixture(scope="module")
def loaded(tiny):
    from attrgraph_cli.models import ModelRequest, load_model

    return load_model(ModelRequest(model=str(tiny.folder), device="cpu"))


@pytest.fixture(scope="module")
def graph_path(loaded, tmp_path_factory):
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
    from attrgraph_cli.trace.writer import finish_trace

    path = tmp_path_factory.mktemp("tiny-graph") / "g.json"
    finish_trace(trace_prompt(loaded, PromptJob(PROMPT), TraceOptions(max_n_logits=3)), path)  # as trace does
    return path


@pytest.fixture
def graph(graph_path):
    from attrgraph_cli.io import load_graph

    return load_graph(graph_path)


def edges_to_logits(graph) -> dict[str, dict[str, float]]:
    """Feature node id -> {logit node id: edge weight} for features with at least one edge to a logit."""
    nodes, e = graph.nodes, graph.edges
    out: dict[str, dict[str, float]] = {}
    for s, t, w in zip(e.source, e.target, e.weight, strict=True):
        if nodes.kind[t] == NodeKind.LOGIT and nodes.kind[s] == NodeKind.FEATURE:
            out.setdefault(str(nodes.ids[s]), {})[str(nodes.ids[t])] = float(w)
    return out


def test_direct_ablations_reproduce_edges_to_every_logit(graph, loaded):
    edges = edges_to_logits(graph)
    assert len(edges) >= 3 and len(np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)) >= 2
    chosen = sorted(edges, key=lambda n: -max(abs(w) for w in edges[n].values()))[:8]
    records = api.run_interventions(
        graph,
        [api.Intervention(n, [api.ablate(n)]) for n in chosen],
        Settings(direct=True, device="cpu"),
        loaded=loaded,
    )
    compared = 0
    for nid, rec in zip(chosen, records, strict=True):
        for t in rec["targets"]:
            w = edges[nid].get(t["node"])
            if w is None:  # pruned edge: nothing to compare with
                continue
            assert t["measured_delta"] == pytest.approx(-w, rel=1e-4, abs=1e-6), (nid, t["node"])
            assert t["predicted_delta"] == pytest.approx(-w, rel=1e-9), (nid, t["node"])
            compared += 1
    assert compared >= len(chosen)


def test_empty_intervention_is_the_plain_forward_pass(graph, loaded):
    import torch

    (rec,) = api.run_interventions(graph, [[]], Settings(device="cpu"), loaded=loaded)
    with torch.no_grad():
        plain = loaded.model(loaded.model.ensure_tokenized(PROMPT))[0, -1].double().numpy()
    assert all(t["logit_after"] == t["logit_before"] for t in rec["targets"])
    ids = [loaded.tokenizer.convert_tokens_to_ids(t) for t, _ in rec["top_before"]]
    np.testing.assert_allclose([rec["targets"][0]["logit_before"]], [plain.max()], atol=1e-5)
    assert ids[0] == int(plain.argmax()) and rec["top_after"] == rec["top_before"]


def test_cli_finds_the_local_model_from_the_trace_record(graph_path, graph, tmp_path):
    edges = edges_to_logits(graph)
    nid = max(edges, key=lambda n: max(abs(w) for w in edges[n].values()))
    out = tmp_path / "out.json"
    result = run_cli(
        "intervene", str(graph_path), "--ablate", nid, "--direct", "--format", "json", "-o", str(out)
    )
    assert result.code == 0, result.stderr
    (rec,) = json.loads(result.stdout)["interventions"]
    assert rec["model"] == "tiny-random"
    for t in rec["targets"]:
        if t["node"] in edges[nid]:
            assert t["measured_delta"] == pytest.approx(-edges[nid][t["node"]], rel=1e-4, abs=1e-6)
    history = json.loads(out.read_text())["attrgraph"]["history"][-1]
    assert history["stage"] == "intervene" and "recorded" in history["details"]["model_origin"]


def test_cli_refuses_another_model(graph_path, tmp_path):
    other = build_tiny_model(tmp_path / "other", enc_bias=-1.0, seed=1)
    out = tmp_path / "out.json"
    result = run_cli(
        "intervene", str(graph_path), "--model", str(other.folder), "--set", "x=1", "-o", str(out)
    )
    assert result.code == 2  # the spec is checked first: no model loaded for a bad spec
    args = ["intervene", str(graph_path), "--model", str(other.folder), "-o", str(out)]
    result = run_cli(*args)
    assert result.code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error: node ") and "has activation" in lines[0]
    assert not out.exists()


def test_cli_refuses_a_model_with_other_layers(graph_path, tmp_path):
    deeper = build_tiny_model(tmp_path / "deeper", n_layers=3, enc_bias=-1.0)
    out = tmp_path / "out.json"
    result = run_cli("intervene", str(graph_path), "--model", str(deeper.folder), "-o", str(out))
    assert result.code == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "logit nodes sit at layer 3, i.e. a 2-layer model, but the model has 3 layers" in line
    assert not out.exists()
