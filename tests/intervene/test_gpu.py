"""`attrgraph intervene` on a GPU (skipped where torch sees no CUDA device).

- the Dallas graph traced on the CPU, intervened on with the demo model on CUDA: the activation check
  passes, `--direct` ablations reproduce the edges (1e-4 relative), and CUDA and CPU measurements agree;
- the command with `--device cuda` end to end (JSON on stdout, settings record the device).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("circuit_tracer")
demo_model = pytest.importorskip("attrgraph_cli.demo_model")


from attrgraph_cli.graph.model import NodeKind  # noqa: E402
from attrgraph_cli.intervene import api  # noqa: E402
from attrgraph_cli.intervene.session import Settings  # noqa: E402
from attrgraph_testing.cli import run_cli  # noqa: E402
from attrgraph_testing.gpu_marks import gpu_marks  # noqa: E402

pytestmark = gpu_marks(torch)

DALLAS = "The capital of the state containing Dallas is"


@pytest.fixture(scope="module")
def models():
    from attrgraph_cli.models import ModelRequest, load_model

    return {d: load_model(ModelRequest(device=d)) for d in ("cpu", "cuda")}


@pytest.fixture(scope="module")
def dallas(models, tmp_path_factory):
    from attrgraph_cli.io import save_graph
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
    from attrgraph_cli.trace.writer import finish_trace

    graph = finish_trace(trace_prompt(models["cpu"], PromptJob(DALLAS), TraceOptions()))  # + trace record
    path = tmp_path_factory.mktemp("gpu") / "dallas.json"
    save_graph(graph, path)
    return path


def _graph(path):
    from attrgraph_cli.io import load_graph

    return load_graph(path)


def test_cuda_direct_ablations_reproduce_edges_and_match_cpu(models, dallas):
    graph = _graph(dallas)
    logit = int(np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)[0])
    e = graph.edges
    edges = {
        str(graph.nodes.ids[s]): float(w)
        for s, t, w in zip(e.source, e.target, e.weight, strict=True)
        if t == logit and graph.nodes.kind[s] == NodeKind.FEATURE
    }
    items = [api.Intervention(n, [api.ablate(n)]) for n in edges]
    results = {}
    for device, loaded in models.items():
        results[device] = api.run_interventions(
            graph, items, Settings(direct=True, device=device), loaded=loaded
        )
    for rec, w in zip(results["cuda"], edges.values(), strict=True):
        assert rec["settings"]["device"] == "cuda"
        assert rec["targets"][0]["measured_delta"] == pytest.approx(-w, rel=1e-4, abs=1e-6)
    cpu = [r["targets"][0]["measured_delta"] for r in results["cpu"]]
    cuda = [r["targets"][0]["measured_delta"] for r in results["cuda"]]
    np.testing.assert_allclose(cuda, cpu, rtol=1e-4, atol=1e-6)


def test_cuda_unconstrained_matches_cpu(models, dallas):
    graph = _graph(dallas)
    node = str(graph.nodes.ids[np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)[0]])
    out = {
        d: api.run_interventions(graph, [[api.scale(node, -2.0)]], Settings(device=d), loaded=m)[0]
        for d, m in models.items()
    }
    np.testing.assert_allclose(
        out["cuda"]["targets"][0]["measured_delta"], out["cpu"]["targets"][0]["measured_delta"], rtol=1e-4
    )
    assert [t for t, _ in out["cuda"]["top_after"]] == [t for t, _ in out["cpu"]["top_after"]]


def test_cli_on_cuda(dallas, tmp_path):
    graph = _graph(dallas)
    node = str(graph.nodes.ids[np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)[0]])
    result = run_cli(
        "intervene",
        str(dallas),
        "--ablate",
        node,
        "--device",
        "cuda",
        "--format",
        "json",
        "-o",
        str(tmp_path / "o.json"),
    )
    assert result.code == 0, result.stderr
    (rec,) = json.loads(result.stdout)["interventions"]
    assert rec["settings"]["device"] == "cuda" and rec["targets"][0]["measured_delta"] is not None
