"""`attrgraph trace` on a GPU: skipped where torch sees no CUDA device.

- the tiny random model traced on CUDA gives the CPU graph;
- a gemma-2-2b-shaped model with random weights and random 16k-feature transcoders per layer (what the real
  one costs, with no download): the default trace of the Dallas prompt, its phase times and peak memory
  printed (run with `-s`) and written to `bench-results/trace-gpu.json`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("circuit_tracer")

from gpu_marks import gpu_marks  # noqa: E402

from attrgraph_testing.tiny_model import build_gemma2_like, build_tiny_model, build_tokenizer  # noqa: E402

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


@pytest.mark.slow
def test_gemma2_2b_shaped_random_model_figures(tmp_path):
    from attrgraph_cli.models.request import ModelRequest, loaded_model
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt

    build_tokenizer(tmp_path / "tok")
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    model = build_gemma2_like(tmp_path / "tok", "cuda")
    load_s = time.perf_counter() - start
    loaded = loaded_model(model, ModelRequest(device="cuda"), "cuda", "gemma-2-2b-random", model.scan, {})
    result = trace_prompt(loaded, PromptJob(PROMPT), TraceOptions())
    figures = {
        "gpu": torch.cuda.get_device_name(0),
        "build_model_s": round(load_s, 2),
        "wall_time_s": {k: round(v, 3) for k, v in result.timings.items()},
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "active_features": int(result.raw.active_features.shape[0]),
        "attributed_features": int(result.raw.selected_features.shape[0]),
        "nodes": len(result.graph.nodes),
        "links": len(result.graph.edges),
    }
    print(json.dumps(figures, indent=1))
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "trace-gpu.json").write_text(json.dumps(figures, indent=1))
    assert figures["attributed_features"] == min(7500, figures["active_features"])
    assert figures["links"] > 0
