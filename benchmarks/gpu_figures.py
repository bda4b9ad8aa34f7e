"""GPU figures in one call: dashboards, trace and intervene on a gemma-2-2b-shaped random-weight model.

    python -m benchmarks.gpu_figures               # a CUDA GPU: gemma-2-2b's shapes, < 5 minutes on an H100
    python -m benchmarks.gpu_figures --scale tiny  # any machine (the CPU without CUDA): checks the script

The model has gemma-2-2b's architecture and shapes (26 layers, d_model 2304, 8 heads of 256, d_mlp 9216,
vocabulary 256,000) with random weights and a random 16,384-feature JumpReLU transcoder per layer, built in
memory with a local word-level tokenizer (nothing downloaded, `attrgraph_testing.tiny_model`). Each part runs
beside its peer on the same loaded model:

- trace: `trace_prompt` + JSON (prune, convert, validate) vs circuit-tracer's `attribute` +
  `create_graph_files`, same settings; phase times and peak GPU memory;
- intervene: `run_interventions` (`benchmarks.bench_intervene.bench`) vs a plain `feature_intervention`
  loop, frozen attention and `--direct`;
- dashboards: `compute_dashboards` for the traced graph's features vs their floor, the bare forward pass +
  transcoder encoders over the same tokens (`benchmarks.dashboard_limit`).

Without CUDA it refuses (exit 2) unless `--scale tiny`. The figures are printed and written to
`bench-results/gpu-figures.json` (`--out`). A part that would start after `--budget-s` seconds is skipped
and says so.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DALLAS = "The capital of the state containing Dallas is"

SCALES: dict[str, dict[str, Any]] = {
    "full": {
        "model": {
            "n_layers": 26,
            "d_model": 2304,
            "d_head": 256,
            "n_heads": 8,
            "n_key_value_heads": 4,
            "d_mlp": 9216,
            "d_vocab": 256_000,
            "d_transcoder": 16_384,
        },
        "dashboard_tokens": 32_768,
        "dashboard_features": 64,
        "interventions": 48,
        "repeats": 3,
    },
    "tiny": {
        "model": {
            "n_layers": 2,
            "d_model": 64,
            "d_head": 16,
            "n_heads": 4,
            "n_key_value_heads": 2,
            "d_mlp": 128,
            "d_vocab": 512,
            "d_transcoder": 256,
        },
        "dashboard_tokens": 512,
        "dashboard_features": 16,
        "interventions": 2,
        "repeats": 1,
    },
}


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _documents(n_docs: int, words_per_doc: int, seed: int = 0) -> list[str]:
    """Deterministic random texts over the local tokenizer's words."""
    import numpy as np

    from attrgraph_testing.tiny_model import WORDS

    words = list(WORDS)
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=words_per_doc)) for _ in range(n_docs)]


def build(scale: str, device: str, folder: Path) -> Any:
    """The loaded random gemma-2-shaped model (`models.LoadedModel`) and its build time."""
    from attrgraph_cli.models.request import ModelRequest, loaded_model
    from attrgraph_testing.tiny_model import build_gemma2_like, build_tokenizer

    build_tokenizer(folder)
    start = time.perf_counter()
    model = build_gemma2_like(folder, device, **SCALES[scale]["model"])
    _outside_vocabulary(model, len(model.tokenizer))
    _sync(device)
    seconds = time.perf_counter() - start
    loaded = loaded_model(model, ModelRequest(device=device), device, "gemma-2-2b-random", model.scan, {})
    return loaded, seconds


def _outside_vocabulary(model: Any, n_tokens: int) -> None:
    """Ids past the local tokenizer's words (the model keeps gemma's 256,000 logits, the compute that
    matters) get a zero unembedding column and a very low bias: never a top logit, so every logit node
    of a traced graph is a token the tokenizer can spell."""
    import torch

    with torch.no_grad():
        model.unembed.W_U[:, n_tokens:] = 0
        model.unembed.b_U[n_tokens:] = -1e4


def trace(loaded: Any, tokenizer_dir: Path, out: Path, device: str) -> tuple[dict, Any]:
    """Ours (trace_prompt + JSON) then the peer (attribute + create_graph_files); the graph, recorded."""
    import torch
    from circuit_tracer import attribute
    from circuit_tracer.utils.create_graph_files import create_graph_files

    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
    from attrgraph_cli.trace.writer import finish_trace, write_outputs

    options = TraceOptions()
    trace_prompt(loaded, PromptJob(DALLAS), TraceOptions(max_feature_nodes=64))  # warm-up, not counted
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    _sync(device)
    start = time.perf_counter()
    result = trace_prompt(loaded, PromptJob(DALLAS), options)
    write_outputs(result, json_path=out / "ours.json")
    _sync(device)
    ours = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None
    start = time.perf_counter()
    graph = attribute(
        DALLAS,
        loaded.model,
        max_n_logits=options.max_n_logits,
        desired_logit_prob=options.desired_logit_prob,
        batch_size=options.batch_size,
        max_feature_nodes=options.max_feature_nodes,
        verbose=False,
    )
    graph.cfg.tokenizer_name = str(tokenizer_dir)  # circuit-tracer reloads the tokenizer by this name
    create_graph_files(graph, slug="peer", output_path=str(out), scan=loaded.scan)
    _sync(device)
    peer = time.perf_counter() - start
    del graph
    figures = {
        "ours_s": round(ours, 3),
        "peer": "circuit-tracer attribute + create_graph_files",
        "peer_s": round(peer, 3),
        "overhead": f"{ours / peer - 1:+.1%} (one run each, after a small warm-up trace)",
        "phases_s": {k: round(v, 3) for k, v in result.timings.items()},
        "peak_gpu_memory_gib": None if peak is None else round(peak, 2),
        "active_features": int(result.raw.active_features.shape[0]),
        "attributed_features": int(result.raw.selected_features.shape[0]),
        "nodes": len(result.graph.nodes),
        "links": len(result.graph.edges),
    }
    return figures, finish_trace(result)


def intervene(loaded: Any, graph: Any, scale: str) -> list[dict]:
    from benchmarks.bench_intervene import bench

    n, repeats = SCALES[scale]["interventions"], SCALES[scale]["repeats"]
    what = f"random gemma-2-shaped model ({scale})"
    return [bench(loaded, graph, n, repeats, direct, what) for direct in (False, True)]


def dashboards(loaded: Any, graph: Any, scale: str, device: str) -> dict:
    import numpy as np

    from attrgraph_cli.autointerp.dashboards import compute_dashboards, contexts
    from attrgraph_cli.graph.model import NodeKind
    from benchmarks.dashboard_limit import limit_seconds

    nodes = graph.nodes
    rows = np.flatnonzero(nodes.kind == NodeKind.FEATURE)[: SCALES[scale]["dashboard_features"]]
    features = [(int(nodes.layer[r]), int(nodes.feature[r])) for r in rows]
    tokens = SCALES[scale]["dashboard_tokens"]
    docs = _documents(max(8, tokens // 200), 250)
    model, tokenizer = loaded.model, loaded.model.tokenizer
    same = list(contexts(tokenizer, docs, 64, tokens))
    limit_seconds(model, features, same[:4], device)  # warm-up
    _sync(device)
    run = compute_dashboards(
        model, tokenizer, features, docs, device=device, max_tokens=tokens, progress=False
    )
    floor, _ = limit_seconds(model, features, same, device)
    return {
        "ours_s": round(run.seconds, 3),
        "peer": "floor: bare forward (to the last feature layer) + transcoder encoders, same tokens",
        "peer_s": round(floor, 3),
        "ratio_ours_to_floor": round(run.seconds / floor, 2),
        "budget": "within 2x of the floor: " + ("met" if run.seconds <= 2 * floor else "MISSED"),
        "tokens": run.n_tokens,
        "tokens_per_s": round(run.n_tokens / run.seconds),
        "features": len(features),
        "layers": len({layer for layer, _ in features}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gpu_figures", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--out", type=Path, default=Path("bench-results") / "gpu-figures.json")
    parser.add_argument(
        "--budget-s", type=float, default=270.0, help="skip parts that would start after this"
    )
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("gpu_figures: torch is not installed (pip install -e '.[trace]')", file=sys.stderr)
        return 2
    if torch.cuda.is_available():
        device = "cuda"
    elif args.scale == "tiny":
        device = "cpu"
    else:
        print(
            "gpu_figures: needs a CUDA GPU (torch sees none); `--scale tiny` runs a small model on the CPU "
            "to check the script",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "scale": args.scale,
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "model": SCALES[args.scale]["model"],
    }

    def report() -> None:
        figures["total_s"] = round(time.perf_counter() - started, 1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=1, default=str))

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        loaded, figures["build_model_s"] = build(args.scale, device, tmp / "tok")
        figures["trace"], graph = trace(loaded, tmp / "tok", tmp, device)
        report()
        for name in ("intervene", "dashboards"):
            if time.perf_counter() - started > args.budget_s:
                figures[name] = f"skipped: {args.budget_s:.0f} s budget spent before it started"
                continue
            if name == "intervene":
                figures[name] = intervene(loaded, graph, args.scale)
            else:
                figures[name] = dashboards(loaded, graph, args.scale, device)
            report()
        loaded = graph = None  # free the model while torch is still loaded
        gc.collect()
    report()
    print(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
