"""Quality (c), causal coherence: each supernode scaled to -1x its activation on the model, through
`attrgraph_cli.intervene.api` (the only part of `cluster` that imports torch, and only when asked).

Per supernode: `measured` = Σ_l p_l Δ_l, the change of the graph's target logits (demeaned, as `intervene`
measures it) weighted by their probabilities p_l in the graph (not renormalised: the same sum as
`intervene --check-supernodes`); `predicted` = the same sum over the graph's path-sum prediction for the
members scaled together (clamped: paths between members are cut); `members_predicted_sum` = the sum of the
members' own predictions (each alone scaled to -1x), equal to `predicted` when no member feeds another;
`same_sign` = measured and predicted agree in sign; `members_agree` = the share of members whose own
prediction has the sign of the supernode's.

Controls: `control_draws` sets drawn from *every active feature of the prompt* (circuit-tracer's unpruned
attribution, `intervene.active_pool`), not only the graph's nodes, one per member, scaled to -1x the same
way (frozen attention, as the supernode), of two kinds (`intervene.controls.matched_draws`): *place*,
matched on the member's layer and position, nearest in influence there; *influence*, nearest in influence
anywhere (a pruned graph keeps the most influential features, so at their places the others are far weaker).
`control_percentile` / `influence_control_percentile` = where the supernode's |measured| falls among the
draws' |Σ p_l Δ_l| (100: above every draw); `control_match` records how close each match got (summed
influence of the members and of the draws, match level per member). `beat_control` counts the supernodes
at or above the 95th percentile of both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.intervene.controls import matched_draws, percentile


def _weights(graph: AttributionGraph) -> dict[str, float]:
    from attrgraph_cli.cluster.influence import logit_weights

    w = logit_weights(graph)
    rows = np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)
    return {str(graph.nodes.ids[r]): float(w[r]) for r in rows}


def _weighted(record: dict[str, Any], weights: dict[str, float], key: str) -> float | None:
    total = 0.0
    for target in record["targets"]:
        w = weights.get(str(target.get("node")), 0.0)
        if w == 0.0:
            continue
        value = target.get(key)
        if value is None:
            return None
        total += w * float(value)
    return total


def _sign(x: float | None) -> int:
    return 0 if x is None or abs(x) < 1e-12 else (1 if x > 0 else -1)


def causal_scores(
    graph: AttributionGraph,
    groups: list[tuple[str, np.ndarray]],
    *,
    model: str | None = None,
    transcoders: str | None = None,
    device: str = "auto",
    seed: int = 0,
    control_draws: int = 30,
    pool: np.ndarray | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(set-level summary, one score dict per group) for `groups` = [(name, member rows)]. Controls: matched
    draws from every active feature of the prompt (`pool`, the clustering's candidates, is ignored: kept for
    callers)."""
    from attrgraph_cli.intervene.api import (
        Intervention,
        load_model_for,
        predicted_delta,
        run_interventions,
        scale,
    )

    loaded = load_model_for(graph, model=model, transcoders=transcoders, device=device)
    ids = graph.nodes.ids
    weights = _weights(graph)
    plan = [
        Intervention(f"cluster check {name}: x-1", [scale(f"node:{ids[r]}", -1.0) for r in rows])
        for name, rows in groups
    ]
    records = run_interventions(graph, plan, loaded=loaded)
    by_name = {r["name"]: r for r in records}
    controls = _matched_controls(graph, loaded, groups, control_draws, seed)
    per_group = []
    for (name, rows), ctrl in zip(groups, controls, strict=True):
        rec = by_name[f"cluster check {name}: x-1"]
        measured = _weighted(rec, weights, "measured_delta")
        predicted = _weighted(rec, weights, "predicted_delta")
        member_pred = []
        for r in rows:
            delta = predicted_delta(graph, [scale(f"node:{ids[r]}", -1.0)])
            member_pred.append(sum(weights.get(k, 0.0) * v for k, v in delta.items()))
        total_sign = _sign(sum(member_pred))
        effects = ctrl["place"].pop("effects")
        by_influence = ctrl["influence"].pop("effects")
        per_group.append(
            {
                "measured": measured,
                "predicted": predicted,
                "members_predicted_sum": float(sum(member_pred)),
                "same_sign": bool(_sign(measured) == _sign(predicted) != 0),
                "members_agree": (
                    float(np.mean([_sign(x) == total_sign for x in member_pred])) if total_sign else None
                ),
                "control_abs_measured": float(np.mean(effects)) if effects else None,
                "control_abs_p95": float(np.percentile(effects, 95)) if effects else None,
                "control_percentile": (
                    percentile(abs(measured), effects) if measured is not None and effects else None
                ),
                "influence_control_abs_measured": float(np.mean(by_influence)) if by_influence else None,
                "influence_control_percentile": (
                    percentile(abs(measured), by_influence) if measured is not None and by_influence else None
                ),
                "control_match": ctrl,
            }
        )
    measured_abs = [abs(g["measured"]) for g in per_group if g["measured"] is not None]
    control_abs = [g["control_abs_measured"] for g in per_group if g["control_abs_measured"] is not None]
    ranked = [g for g in per_group if g["control_percentile"] is not None]
    summary = {
        "model": loaded.model_name,
        "operation": "scale x-1 (every member of the supernode together)",
        "effect": "sum_l p_l * (demeaned logit change of target l), p_l the graph's logit probabilities",
        "checked": len(per_group),
        "same_sign_share": float(np.mean([g["same_sign"] for g in per_group])) if per_group else None,
        "mean_abs_measured": float(np.mean(measured_abs)) if measured_abs else None,
        "mean_abs_control": float(np.mean(control_abs)) if control_abs else None,
        # per supernode: |measured| at or above the 95th percentile of both its matched controls
        "beat_control": sum(
            1
            for g in ranked
            if g["control_percentile"] >= 95.0 and (g["influence_control_percentile"] or 0) >= 95.0
        ),
        "beat_place_control": sum(1 for g in ranked if g["control_percentile"] >= 95.0),
        "beat_influence_control": sum(1 for g in ranked if (g["influence_control_percentile"] or 0) >= 95.0),
        "with_control": len(ranked),
        "control_draws": control_draws,
        "control_pool": "all active features (unpruned attribution), matched on layer, position, influence",
    }
    return summary, per_group


def _matched_controls(
    graph: AttributionGraph, loaded: Any, groups: list[tuple[str, np.ndarray]], n_draws: int, seed: int
) -> list[dict[str, Any]]:
    """Per group: |Σ p_l Δ_l| of each matched control draw (`effects`) and how close the match is."""
    with _one_thread_for_small_cpu_models(loaded):
        return _draw_and_measure(graph, loaded, groups, n_draws, seed)


@contextmanager
def _one_thread_for_small_cpu_models(loaded: Any) -> Iterator[None]:
    """Hundreds of tiny forward passes: on CPU, a small model (d_model <= 1024) runs them faster on one
    thread (the demo model: 0.06 s against 1.3 s per intervention with 2 threads on 2 busy cores)."""
    import torch

    cfg = getattr(loaded.model, "cfg", None)
    small = str(loaded.device) == "cpu" and getattr(cfg, "d_model", 1 << 30) <= 1024
    before = torch.get_num_threads()
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _draw_and_measure(
    graph: AttributionGraph, loaded: Any, groups: list[tuple[str, np.ndarray]], n_draws: int, seed: int
) -> list[dict[str, Any]]:
    from attrgraph_cli.intervene.active_pool import active_feature_pool, members_in_pool, pool_index
    from attrgraph_cli.intervene.measure import weighted
    from attrgraph_cli.intervene.records import target_delta
    from attrgraph_cli.intervene.session import Session, Settings
    from attrgraph_cli.intervene.spec import Site

    nodes = graph.nodes
    session = Session(graph, loaded, Settings(device=str(loaded.device))).start()
    assert session.acts is not None and session.base is not None
    pool = active_feature_pool(loaded, graph.prompt)
    index = pool_index(pool)
    rng = np.random.default_rng(seed)
    out = []
    for _, rows in groups:
        sites = [(int(nodes.layer[r]), int(nodes.position[r]), int(nodes.feature[r])) for r in rows]
        members, exclude = members_in_pool(pool, index, sites, np.nan_to_num(nodes.influence[rows]))
        group = {}
        for kind, place in (("place", True), ("influence", False)):
            drawn = matched_draws(pool, members, exclude, n_draws, rng, place=place)
            effects = []
            for draw in drawn.draws:
                values = [
                    (Site(layer, pos, feat, None), -float(session.acts[layer, pos, feat]))
                    for layer, pos, feat in (pool.key[i] for i in draw)
                ]
                after = session.run(values, generate=False)
                deltas = [target_delta(t, session.base.logits, after.logits) for t in session.targets]
                value = weighted(session, deltas)
                if value is not None:
                    effects.append(abs(value))
            group[kind] = {"effects": effects, **drawn.summary()}
        out.append(group)
    return out
