"""The quality scores of a supernode set as rows of text (the terminal table and the PDF share them)."""

from __future__ import annotations

from typing import Any

#: the grouping scores, in the order they are shown
GROUPING_KEYS = ("coupling_modularity", "within", "between", "contrast", "wiring_modularity")


def fmt_value(value: Any, digits: int = 3) -> str:
    """A score as text: 3 decimals for floats, "–" for missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def quality_rows(scores: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(score, ours, baseline / control, ratio) rows of `attrgraph.supernodes.scores` as cluster writes it."""
    rows: list[tuple[str, str, str, str]] = []
    cov = scores["coverage"]
    control = cov.get("random_control", {})
    for key in ("replacement", "completeness"):
        rows.append(
            (
                f"coverage: {key} (all features {fmt_value(cov['all_features'][key])})",
                fmt_value(cov["supernodes"][key]),
                f"{fmt_value(control.get(key))} (random same-size)",
                "",
            )
        )
    pinned = cov.get("pinned_subgraph")
    if isinstance(pinned, dict):
        rows.append(
            ("coverage: replacement of the pinned subgraph", fmt_value(pinned.get("replacement")), "", "")
        )
    grouping = scores.get("grouping")
    if grouping:
        ours, base, ratio = grouping["ours"], grouping["baseline"], grouping["ratio"]
        control = "layer/position" + (": the same grouping" if grouping.get("same_as_baseline") else "")
        for key in GROUPING_KEYS:
            rows.append(
                (
                    f"grouping: {key}",
                    fmt_value(ours.get(key)),
                    f"{fmt_value(base.get(key))} ({control})",
                    fmt_value(ratio.get(key), 2),
                )
            )
        best = grouping.get("best_possible")
        if isinstance(best, dict):
            rows.append(
                (
                    f"grouping: best possible contrast, any {ours.get('groups')} groups (all tried)",
                    fmt_value(best.get("contrast")),
                    "",
                    "",
                )
            )
    causal = scores.get("causal")
    if causal:
        rows.append(
            (
                "causal: |measured effect| of x-1 (mean)",
                fmt_value(causal.get("mean_abs_measured")),
                f"{fmt_value(causal.get('mean_abs_control'))} (matched at layer+position, mean)",
                "",
            )
        )
        if isinstance(causal.get("beat_control"), int) and causal.get("with_control"):
            rows.append(
                (
                    "causal: supernodes at ≥ 95th percentile of both matched controls",
                    f"{causal['beat_control']} of {causal['with_control']}",
                    "",
                    "",
                )
            )
        rows.append(
            ("causal: measured and predicted agree in sign", fmt_value(causal.get("same_sign_share")), "", "")
        )
    return rows


def group_rows(scores: Any) -> list[tuple[str, str]]:
    """A supernode's scores as short (name, value) pairs (size, layers, influence, similarity, causal)."""
    if not isinstance(scores, dict):
        return []
    rows = []
    for key, label in (("size", "size"), ("influence_share", "influence"), ("mean_similarity", "similarity")):
        if key in scores:
            rows.append((label, fmt_value(scores[key])))
    layers = scores.get("layers")
    if isinstance(layers, list) and len(layers) == 2:
        rows.append(("layers", f"{layers[0]}–{layers[1]}" if layers[0] != layers[1] else str(layers[0])))
    causal = scores.get("causal")
    if isinstance(causal, dict):
        rows.append(("x−1 measured", fmt_value(causal.get("measured"))))
        rows.append(("predicted", fmt_value(causal.get("predicted"))))
        rows.append(("members agree", fmt_value(causal.get("members_agree"), 2)))
    return rows
