"""`attrgraph intervene` side by side with the same calls straight to circuit-tracer, on the demo model.

N single-feature ablations of the Dallas graph's feature nodes, one loaded model (GPU when there is one):
- ours: `intervene.api.run_interventions` (baseline forward + activation checks against the graph, one
  `feature_intervention` per intervention, predictions from the graph's edges, records with top-k);
- peer: a plain loop, `model(ids)` once for the baseline and `model.feature_intervention(ids, [(l, p, f,
  0.0)], ...)` per feature with the same arguments.
Alternating, best of `ATTRGRAPH_BENCH_INTERVENE_REPEATS` (default 9); N = `ATTRGRAPH_BENCH_INTERVENE_N`
(default 48: the graph's feature nodes, cycled). Rows for frozen attention (circuit-tracer's default) and
`--direct` (every layer constrained). On CPU both sides run torch on one thread (on a shared 2-core
machine torch's two threads contend with other jobs and wall times scatter by ±50%) and the budget verdict
uses the median over rounds of ours/peer CPU time (`time.process_time`, each round runs both back to back,
ABBA); wall times (best of, and the median of per-round ratios) are in the note. On a GPU the verdict uses
wall time (best of).
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import time
from collections.abc import Iterator

DALLAS = "The capital of the state containing Dallas is"


def _graph(loaded):
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
    from attrgraph_cli.trace.writer import finish_trace

    return finish_trace(trace_prompt(loaded, PromptJob(DALLAS), TraceOptions()))


def _peer(model, ids, sites, constrained, freeze) -> None:
    import torch

    with torch.no_grad():
        model(ids)
        for layer, pos, feat in sites:
            model.feature_intervention(
                ids,
                [(layer, pos, feat, 0.0)],
                constrained_layers=constrained,
                freeze_attention=freeze,
                return_activations=False,
            )


def bench(loaded, graph, n: int, repeats: int, direct: bool, what: str = "demo model") -> dict:
    from attrgraph_cli.graph.model import NodeKind
    from attrgraph_cli.intervene import api
    from attrgraph_cli.intervene.session import Settings

    nodes = graph.nodes
    features = [i for i in range(len(nodes)) if nodes.kind[i] == NodeKind.FEATURE]
    rows = [features[k % len(features)] for k in range(n)]  # the graph's features, cycled to N
    items = [api.Intervention(str(nodes.ids[r]), [api.ablate(str(nodes.ids[r]))]) for r in rows]
    sites = [(int(nodes.layer[r]), int(nodes.position[r]), int(nodes.feature[r])) for r in rows]
    settings = Settings(direct=direct, device=loaded.device)
    constrained = settings.layer_range(loaded.n_layers)
    ids = loaded.model.ensure_tokenized(DALLAS)
    on_cpu = str(loaded.device) == "cpu"

    def ours_run() -> None:
        assert len(api.run_interventions(graph, items, settings, loaded=loaded)) == len(items)

    def peer_run() -> None:
        _peer(loaded.model, ids, sites, constrained, True)

    wall: dict[str, list[float]] = {"ours": [], "peer": []}
    cpu: dict[str, list[float]] = {"ours": [], "peer": []}
    for i in range(repeats + 1):  # the first round warms both up and is not counted; ABBA order
        order = (("ours", ours_run), ("peer", peer_run))
        for side, fn in order if i % 2 == 0 else order[::-1]:
            start, cpu_start = time.perf_counter(), time.process_time()
            fn()
            if i:
                wall[side].append(time.perf_counter() - start)
                cpu[side].append(time.process_time() - cpu_start)
    o, p = min(wall["ours"]), min(wall["peer"])
    paired = statistics.median(a / b for a, b in zip(wall["ours"], wall["peer"], strict=True)) - 1
    cpu_overhead = statistics.median(a / b for a, b in zip(cpu["ours"], cpu["peer"], strict=True)) - 1
    # on CPU with one torch thread the process's CPU time is the work itself, which other jobs on a shared
    # machine do not stretch as they stretch wall time: the verdict uses it; on a GPU, wall time
    overhead = cpu_overhead if on_cpu else o / p - 1
    mode = "--direct" if direct else "frozen attention"
    import torch

    threads = f" ({torch.get_num_threads()} torch thread(s))" if on_cpu else ""
    return {
        "name": f"intervene: {len(items)} single-feature ablations, {mode}",
        "ours_s": o,
        "peer": "circuit-tracer feature_intervention loop",
        "peer_s": p,
        "ratio": p / o,
        "note": f"overhead {overhead:+.1%} {'(median of per-round CPU-time ratios)' if on_cpu else 'wall'} "
        f"({'within' if overhead <= 0.05 else 'OVER'} the 5% budget); wall {o / p - 1:+.1%}, median of "
        f"per-round wall ratios {paired:+.1%}; ours also checks activations, "
        f"predicts from edges, writes records; best of {repeats}, ABBA; {what} on "
        f"{loaded.device}{threads}; {len(graph.nodes)} nodes",
    }


@contextlib.contextmanager
def _one_thread(device: str) -> Iterator[None]:
    """torch on one thread on CPU for the duration (restored after)."""
    import torch

    before = torch.get_num_threads()
    if str(device) == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run() -> list[dict]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from attrgraph_cli.models import ModelRequest, load_model

    n = int(os.environ.get("ATTRGRAPH_BENCH_INTERVENE_N", "48"))
    repeats = int(os.environ.get("ATTRGRAPH_BENCH_INTERVENE_REPEATS", "9"))
    loaded = load_model(ModelRequest(device="auto"))
    try:
        graph = _graph(loaded)
        with _one_thread(loaded.device):
            rows = [bench(loaded, graph, n, repeats, direct) for direct in (False, True)]
    finally:
        del loaded  # free the model while torch is still loaded (its __del__ needs it)
        gc.collect()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
