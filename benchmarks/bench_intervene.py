"""`attrgraph intervene` side by side with the same calls straight to circuit-tracer, on the demo model.

N single-feature ablations of the Dallas graph's feature nodes, one loaded model (GPU when there is one):
- ours: `intervene.api.run_interventions` (baseline forward + activation checks against the graph, one
  `feature_intervention` per intervention, predictions from the graph's edges, records with top-k);
- peer: a plain loop, `model(ids)` once for the baseline and `model.feature_intervention(ids, [(l, p, f,
  0.0)], ...)` per feature with the same arguments.
Alternating, best of `ATTRGRAPH_BENCH_INTERVENE_REPEATS` (default 5); N = `ATTRGRAPH_BENCH_INTERVENE_N`
(default 20, capped by the graph's features). Rows for frozen attention (circuit-tracer's default) and
`--direct` (every layer constrained).
"""

from __future__ import annotations

import gc
import os
import time

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


def bench(loaded, graph, n: int, repeats: int, direct: bool) -> dict:
    from attrgraph_cli.graph.model import NodeKind
    from attrgraph_cli.intervene import api
    from attrgraph_cli.intervene.session import Settings

    nodes = graph.nodes
    rows = [i for i in range(len(nodes)) if nodes.kind[i] == NodeKind.FEATURE][:n]
    items = [api.Intervention(str(nodes.ids[r]), [api.ablate(str(nodes.ids[r]))]) for r in rows]
    sites = [(int(nodes.layer[r]), int(nodes.position[r]), int(nodes.feature[r])) for r in rows]
    settings = Settings(direct=direct, device=loaded.device)
    constrained = settings.layer_range(loaded.n_layers)
    ids = loaded.model.ensure_tokenized(DALLAS)
    ours, peer = [], []
    for i in range(repeats + 1):  # the first round warms both up and is not counted
        start = time.perf_counter()
        records = api.run_interventions(graph, items, settings, loaded=loaded)
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        _peer(loaded.model, ids, sites, constrained, True)
        t_peer = time.perf_counter() - start
        if i:
            ours.append(t_ours)
            peer.append(t_peer)
    assert len(records) == len(items)
    o, p = min(ours), min(peer)
    overhead = o / p - 1
    mode = "--direct" if direct else "frozen attention"
    return {
        "name": f"intervene: {len(items)} single-feature ablations, {mode}",
        "ours_s": o,
        "peer": "circuit-tracer feature_intervention loop",
        "peer_s": p,
        "ratio": p / o,
        "note": f"overhead {overhead:+.1%} ({'within' if overhead <= 0.05 else 'OVER'} the 5% budget; ours "
        f"also checks activations, predicts from edges, writes records); best of {repeats}; demo model on "
        f"{loaded.device}; {len(graph.nodes)} nodes",
    }


def run() -> list[dict]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from attrgraph_cli.models import ModelRequest, load_model

    n = int(os.environ.get("ATTRGRAPH_BENCH_INTERVENE_N", "20"))
    repeats = int(os.environ.get("ATTRGRAPH_BENCH_INTERVENE_REPEATS", "5"))
    loaded = load_model(ModelRequest(device="auto"))
    try:
        graph = _graph(loaded)
        rows = [bench(loaded, graph, n, repeats, direct) for direct in (False, True)]
    finally:
        del loaded  # free the model while torch is still loaded (its __del__ needs it)
        gc.collect()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
