"""`attrgraph trace` on a GPU: skipped where torch sees no CUDA device.

- the tiny random model traced on CUDA gives the CPU graph.

The figures on a gemma-2-2b-shaped random model (trace phase times, peak memory, beside circuit-tracer) are
a benchmark, not a test: `python -m benchmarks.gpu_figures`.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("circuit_tracer")

from attrgraph_testing.gpu_marks import gpu_marks  # noqa: E402
from attrgraph_testing.tiny_model import build_tiny_model  # noqa: E402

pytestmark = gpu_marks(torch)

PROMPT = "The capital of the state containing Dallas is"


def test_cuda_trace_matches_cpu(tmp_path):
    from attrgraph_cli.models import ModelRequest, load_model
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt

    tiny = build_tiny_model(tmp_path / "tiny")
    graphs = {}
    for device in ("cpu", "cuda"):
        loaded = load_model(ModelRequest(model=str(tiny.folder), device=device))
        graphs[device] = trace_prompt(loaded, PromptJob(PROMPT), TraceOptions(max_feature_nodes=None)).raw
    a, b = graphs["cpu"].adjacency_matrix, graphs["cuda"].adjacency_matrix.cpu()
    assert a.shape == b.shape
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-3, atol=1e-4)
