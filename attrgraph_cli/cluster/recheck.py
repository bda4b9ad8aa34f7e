"""`cluster --causal` on a file whose supernodes were all kept: run the causal check on the kept ones.

Without this, a second `cluster --causal` on a clustered file made no new supernode and so checked
nothing. The scores go where the engine puts those of new supernodes (`attrgraph.supernodes`: each
group's `scores.causal`, the set's `scores.causal` with `"supernodes": "kept"`).
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import numpy as np

from attrgraph_cli.graph.model import AttributionGraph


def kept_supernodes(graph: AttributionGraph) -> list[SimpleNamespace]:
    """The file's supernodes as (name, member rows); members that are not nodes of the graph are left out."""
    out = []
    for name, *members in graph.supernodes:
        rows = []
        for member in members:
            try:
                rows.append(graph.index_of(member))
            except KeyError:
                pass
        out.append(SimpleNamespace(name=name, rows=np.asarray(rows, dtype=np.int64)))
    return out


def nothing_left(graph: AttributionGraph, kept: list[SimpleNamespace], min_influence: float) -> bool:
    """Every feature outside the kept supernodes is below the influence floor (or there is none): a run
    on this file can only keep what it has. False when influence cannot be measured (e.g. overflow)."""
    from attrgraph_cli.cluster.influence import node_influence
    from attrgraph_cli.graph.model import NodeKind

    feats = np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)
    rest = np.setdiff1d(feats, np.concatenate([s.rows for s in kept]) if kept else [])
    if not len(feats) or not len(rest):
        return bool(len(feats))
    with np.errstate(over="ignore", invalid="ignore"):
        influence = node_influence(graph)
    if not np.isfinite(influence[feats]).all():
        return False
    top = float(influence[feats].max())
    return top > 0 and bool((influence[rest] / top < min_influence).all())


def causal_on_kept(graph: AttributionGraph, kept: list[Any], opts: Any) -> dict[str, Any] | None:
    """Check the kept supernodes (those with members in the graph) on the model; None when there are none.

    Returns {"summary": set-level scores, "groups": [(name, per-supernode scores)]}."""
    from attrgraph_cli.cluster.causal import causal_scores
    from attrgraph_cli.extension import set_supernode_set, supernode_set

    groups = [(s.name, s.rows) for s in kept if len(s.rows)]
    if not groups:
        return None
    summary, per_group = causal_scores(
        graph, groups, model=opts.model, transcoders=opts.transcoders, device=opts.device, seed=opts.seed
    )
    summary = {**summary, "supernodes": "kept"}
    record = copy.deepcopy(supernode_set(graph))
    if not isinstance(record.get("groups"), list):  # supernodes made elsewhere (e.g. on Neuronpedia)
        named = [{"name": n, "origin": "human"} for n, _ in groups]
        record = {"method": "kept from the file", "groups": named}
    by_name = dict(zip((name for name, _ in groups), per_group, strict=True))
    for group in record.get("groups", []):
        if isinstance(group, dict) and group.get("name") in by_name:
            scores = group.get("scores") if isinstance(group.get("scores"), dict) else {}
            group["scores"] = {**scores, "causal": by_name[group["name"]]}
    scores = record.get("scores") if isinstance(record.get("scores"), dict) else {}
    record["scores"] = {**scores, "causal": summary}
    set_supernode_set(graph, record)
    return {"summary": summary, "groups": list(by_name.items())}
