"""`trace --batch` of demo-model prompts: the Ray runner with 2 CPU workers vs the local runner, one run.

Both are whole `attrgraph trace --batch` processes on the same prompt file (the first N prompts of the demo
model's evaluation sets: two-hop, antonym, one-hop, addition), alternating order is not needed: each writes
into its own fresh folder. Rows:
1. the whole batch, wall time of the process (ratio = local / Ray: > 1 means Ray was faster), against the
   local runner at torch's default thread count and, as the control, at one thread like each Ray worker
   (on a busy shared machine torch's threads contend, which alone can make the default run several times
   slower);
2. the start-up of each: Ray's `ray.init` of a local instance plus its workers loading the model, against
   the local runner's one model load (from the batch reports);
3. the prompts alone (wall time minus start-up) against the one-thread local runner: what 2 workers buy
   once they are up.
`ATTRGRAPH_BENCH_RAY_N` changes the number of prompts (default 40).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKERS = 2


def _prompts(n: int) -> list[str]:
    from attrgraph_cli.demo_model import corpus

    sets = corpus.eval_sets()
    pool = [ex.prompt for name in ("two_hop", "antonym", "one_hop", "addition") for ex in sets[name][:10]]
    pool += [ex.prompt for ex in sets["one_hop"][10:]]
    return list(dict.fromkeys(pool))[:n]


def _batch(args: list[str], cwd: Path, threads: int | None = None) -> tuple[float, dict]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", "trace", *args, "--device", "cpu", "-q"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"attrgraph trace {' '.join(args)} failed: {proc.stderr.strip()[-400:]}")
    out = cwd / args[args.index("-o") + 1]
    return elapsed, json.loads((out / "batch-report.json").read_text())


def run() -> list[dict]:
    n = int(os.environ.get("ATTRGRAPH_BENCH_RAY_N", "40"))
    prompts = _prompts(n)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "prompts.txt").write_text("\n".join(prompts) + "\n")
        local_s, local = _batch(["--batch", "prompts.txt", "-o", "local"], tmp)
        one_s, one = _batch(["--batch", "prompts.txt", "-o", "local1"], tmp, threads=1)
        ray_args = ["--batch", "prompts.txt", "-o", "ray", "--runner", "ray", "--workers", str(WORKERS)]
        ray_s, on_ray = _batch(ray_args, tmp)
    runner = on_ray["runner"]
    ray_start = float(runner["all_ready_s"] or 0.0)
    local_start = float(local["model_load_s"])
    one_start = float(one["model_load_s"])
    done = sum(i["status"] == "done" for i in on_ray["items"])
    size = f"{len(prompts)} demo prompts, {WORKERS} CPU workers, {os.cpu_count()} CPUs on this machine"
    return [
        {
            "name": f"trace --batch {len(prompts)} prompts: ray vs local",
            "ours_s": ray_s,
            "peer": "local runner",
            "peer_s": local_s,
            "ratio": local_s / ray_s,
            "note": f"whole processes; {size}; {done} done on Ray; local: torch's default threads",
        },
        {
            "name": f"trace --batch {len(prompts)} prompts: ray vs local at 1 thread (control)",
            "ours_s": ray_s,
            "peer": "local runner, OMP_NUM_THREADS=1",
            "peer_s": one_s,
            "ratio": one_s / ray_s,
            "note": "each Ray CPU worker runs torch on 1 thread: this isolates what 2 workers buy",
        },
        {
            "name": "start-up: ray.init + workers' model loads vs one model load",
            "ours_s": ray_start,
            "peer": "local model load",
            "peer_s": local_start,
            "ratio": local_start / ray_start if ray_start else None,
            "note": f"ray.init of a local instance {runner['init_s']:.1f} s, then {WORKERS} workers ready",
        },
        {
            "name": f"the {len(prompts)} prompts alone (wall minus start-up)",
            "ours_s": ray_s - ray_start,
            "peer": "local runner, 1 thread",
            "peer_s": one_s - one_start,
            "ratio": (one_s - one_start) / (ray_s - ray_start),
            "note": "both still include their driver process's start (Python, imports)",
        },
    ]
