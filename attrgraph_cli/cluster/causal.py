"""Quality (c), causal coherence: each supernode scaled to -1x its activation on the model, through
`attrgraph_cli.intervene.api` (the only part of `cluster` that imports torch, and only when asked).

Per supernode: `measured` = Σ_l w_l Δ_l, the change of the graph's target logits (demeaned, as `intervene`
measures it) weighted by their probabilities w_l; `predicted` = the same sum over the graph's path-sum
prediction for the members scaled together (clamped: paths between members are cut);
`members_predicted_sum` = the sum of the members' own predictions (each alone scaled to -1x), equal to
`predicted` when no member feeds another (e.g. all in one layer);
`same_sign` = measured and predicted agree in sign; `members_agree` = the share of members whose own
prediction has the sign of the supernode's; `control` = mean |measured| of random same-size sets drawn
from `pool` (the clustering's candidates: features above the influence floor) less the supernode's own
members, scaled the same way (`control_draws` draws, seeded).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attrgraph_cli.graph.model import AttributionGraph, NodeKind


def _weights(graph: AttributionGraph) -> dict[str, float]:
    from attrgraph_cli.cluster.influence import logit_weights

    w = logit_weights(graph)
    total = float(w.sum()) or 1.0
    rows = np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)
    return {str(graph.nodes.ids[r]): float(w[r]) / total for r in rows}


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
    control_draws: int = 3,
    pool: np.ndarray | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(set-level summary, one score dict per group) for `groups` = [(name, member rows)]; the random
    controls come from `pool` (default: every feature) less the group's members."""
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
    rng = np.random.default_rng(seed)
    features = np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE) if pool is None else np.asarray(pool)
    plan: list[Intervention] = []
    for name, rows in groups:
        plan.append(Intervention(f"cluster check {name}: x-1", [scale(f"node:{ids[r]}", -1.0) for r in rows]))
        pool = np.setdiff1d(features, rows)
        for d in range(control_draws if len(pool) >= len(rows) else 0):
            draw = rng.choice(pool, size=len(rows), replace=False)
            plan.append(
                Intervention(f"control {d} for {name}", [scale(f"node:{ids[r]}", -1.0) for r in draw])
            )
    records = run_interventions(graph, plan, loaded=loaded)
    by_name = {r["name"]: r for r in records}
    per_group = []
    for name, rows in groups:
        rec = by_name[f"cluster check {name}: x-1"]
        measured = _weighted(rec, weights, "measured_delta")
        predicted = _weighted(rec, weights, "predicted_delta")
        member_pred = []
        for r in rows:
            delta = predicted_delta(graph, [scale(f"node:{ids[r]}", -1.0)])
            member_pred.append(sum(weights.get(k, 0.0) * v for k, v in delta.items()))
        total_sign = _sign(sum(member_pred))
        controls = [
            _weighted(by_name[key], weights, "measured_delta")
            for key in (f"control {d} for {name}" for d in range(control_draws))
            if key in by_name
        ]
        controls = [abs(c) for c in controls if c is not None]
        per_group.append(
            {
                "measured": measured,
                "predicted": predicted,
                "members_predicted_sum": float(sum(member_pred)),
                "same_sign": bool(_sign(measured) == _sign(predicted) != 0),
                "members_agree": (
                    float(np.mean([_sign(x) == total_sign for x in member_pred])) if total_sign else None
                ),
                "control_abs_measured": float(np.mean(controls)) if controls else None,
            }
        )
    measured_abs = [abs(g["measured"]) for g in per_group if g["measured"] is not None]
    control_abs = [g["control_abs_measured"] for g in per_group if g["control_abs_measured"] is not None]
    summary = {
        "model": loaded.model_name,
        "operation": "scale x-1 (every member of the supernode together)",
        "checked": len(per_group),
        "same_sign_share": float(np.mean([g["same_sign"] for g in per_group])) if per_group else None,
        "mean_abs_measured": float(np.mean(measured_abs)) if measured_abs else None,
        "mean_abs_control": float(np.mean(control_abs)) if control_abs else None,
        # per supernode: |measured| above the mean |measured| of its own random same-size controls
        "beat_control": sum(
            1
            for g in per_group
            if g["measured"] is not None
            and g["control_abs_measured"] is not None
            and abs(g["measured"]) > g["control_abs_measured"]
        ),
        "with_control": sum(1 for g in per_group if g["control_abs_measured"] is not None),
        "control_draws": control_draws,
        "control_pool": "all features" if pool is None else "candidates",
    }
    return summary, per_group
