"""`attrgraph trace` side by side with circuit-tracer, on the embedded demo model (or a tiny random one).

1. overhead: our `trace_prompt` + write (prune, convert, validate, JSON) vs circuit-tracer's `attribute` +
   `create_graph_files` (prune + JSON), same loaded model, same settings, alternating, best of N;
2. batch: one `attrgraph trace --batch` of 20 prompts vs 20 separate `attrgraph trace` processes;
3. end to end: fresh processes `attrgraph trace` then `attrgraph render` of the Dallas prompt (budget 60 s).

`ATTRGRAPH_BENCH_TRACE_N` changes the batch size (default 20) and `ATTRGRAPH_BENCH_TRACE_REPEATS` the
repeats of (1) (default 10: one run is ~0.1 s, so a few ms of noise is several percent).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from attrgraph_cli.errors import AttrgraphError

DALLAS = "The capital of the state containing Dallas is"
PROMPTS = [
    DALLAS,
    "The capital of Texas is",
    "Paris is the capital of",
    "Berlin is a city in",
    "The quick brown fox jumps over the",
    "The small cat was in the",
    "One two three four five",
    "The river was in a",
    "The city of Dallas is in",
    "The blue house and the red",
]


def _model_args(tmp: Path) -> tuple[list[str], str]:
    """CLI arguments choosing the model: the demo model when it is installed, else a tiny random model."""
    try:
        from attrgraph_cli import demo_model

        demo_model.demo_model_dir()  # raises when its files are not built yet
        return [], "embedded demo model"
    except (ImportError, AttributeError, AttrgraphError):
        pass
    from attrgraph_testing.tiny_model import build_tiny_model

    dims = {"n_layers": 4, "d_model": 128, "d_transcoder": 1024, "n_ctx": 64, "enc_bias": -2.0}
    model = build_tiny_model(tmp / "tiny", **dims)
    return ["--model", str(model.folder)], "tiny random model (4 layers, d_model 128, 1,024 features/layer)"


def _cli(*args: str, cwd: Path) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"attrgraph {' '.join(args[:3])} failed: {proc.stderr.strip()[-400:]}")
    return elapsed


def bench_overhead(model_args: list[str], what: str, tmp: Path, repeats: int) -> dict:
    from circuit_tracer import attribute
    from circuit_tracer.utils.create_graph_files import create_graph_files

    from attrgraph_cli.models import ModelRequest, load_model
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
    from attrgraph_cli.trace.writer import write_outputs

    model = model_args[1] if model_args else None
    loaded = load_model(ModelRequest(model=model, device="cpu"))
    options = TraceOptions()
    if model is None:
        from attrgraph_cli.demo_model import demo_model_dir

        tokenizer_dir = str(demo_model_dir())
    else:
        tokenizer_dir = str(Path(model) / "tokenizer")
    ours, peer = [], []
    for i in range(repeats + 1):  # the first round warms both up and is not counted
        start = time.perf_counter()
        result = trace_prompt(loaded, PromptJob(DALLAS), options)
        write_outputs(result, json_path=tmp / "ours.json")
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        graph = attribute(
            DALLAS,
            loaded.model,
            max_n_logits=options.max_n_logits,
            desired_logit_prob=options.desired_logit_prob,
            batch_size=options.batch_size,
            max_feature_nodes=options.max_feature_nodes,
        )
        # circuit-tracer reloads the tokenizer by cfg.tokenizer_name: point it at the files on disk
        graph.cfg.tokenizer_name = tokenizer_dir
        create_graph_files(graph, slug="peer", output_path=str(tmp), scan=loaded.scan)
        t_peer = time.perf_counter() - start
        if i:
            ours.append(t_ours)
            peer.append(t_peer)
    del loaded  # free the model while torch is still loaded (its __del__ needs it)
    gc.collect()
    o, p = min(ours), min(peer)
    overhead = o / p - 1
    verdict = "within" if overhead <= 0.05 else "OVER"
    return {
        "name": "trace: one prompt, in-process (attribute + prune + JSON)",
        "ours_s": o,
        "peer": "circuit-tracer attribute + create_graph_files",
        "peer_s": p,
        "ratio": p / o,
        "note": f"overhead {overhead:+.1%} ({verdict} the 5% budget, ours validates too); best of {repeats}; "
        f"{what}; {len(result.graph.nodes)} nodes, {len(result.graph.edges)} links",
    }


def bench_batch(model_args: list[str], what: str, tmp: Path, n: int) -> dict:
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(n)]
    listing = tmp / "prompts.jsonl"
    rows = [json.dumps({"prompt": p, "slug": f"p{i}"}) for i, p in enumerate(prompts)]
    listing.write_text("\n".join(rows) + "\n")
    batch_s = _cli("trace", "--batch", str(listing), "-o", str(tmp / "batch"), "-q", *model_args, cwd=tmp)
    separate_s = 0.0
    for i, p in enumerate(prompts):
        separate_s += _cli("trace", p, "-o", str(tmp / "sep" / f"p{i}.json"), "-q", *model_args, cwd=tmp)
    return {
        "name": f"trace: batch of {n} prompts",
        "ours_s": batch_s,
        "peer": f"{n} separate `attrgraph trace` processes",
        "peer_s": separate_s,
        "ratio": separate_s / batch_s,
        "note": f"one model load instead of {n}; {what}",
    }


def bench_end_to_end(model_args: list[str], what: str, tmp: Path) -> dict:
    t_trace = _cli("trace", DALLAS, "-o", str(tmp / "dallas.json"), "-q", *model_args, cwd=tmp)
    t_render = _cli("render", str(tmp / "dallas.json"), "-o", str(tmp / "dallas.html"), cwd=tmp)
    total = t_trace + t_render
    size = (tmp / "dallas.html").stat().st_size
    return {
        "name": "trace -> render, Dallas prompt, fresh processes, CPU",
        "ours_s": total,
        "peer": "budget",
        "peer_s": 60.0,
        "ratio": 60.0 / total,
        "note": f"trace {t_trace:.1f} s + render {t_render:.1f} s; HTML {size / 1e3:.0f} kB; "
        f"{'within' if total < 60 else 'OVER'} the 60 s budget; {what}",
    }


def run() -> list[dict]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    n = int(os.environ.get("ATTRGRAPH_BENCH_TRACE_N", "20"))
    repeats = int(os.environ.get("ATTRGRAPH_BENCH_TRACE_REPEATS", "10"))
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as name:
        tmp = Path(name)
        model_args, what = _model_args(tmp)
        rows = [bench_end_to_end(model_args, what, tmp)]
        rows.append(bench_overhead(model_args, what, tmp, repeats))
        rows.append(bench_batch(model_args, what, tmp, n))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
