"""The terminal report of a `cluster` run: the supernodes, then the quality table."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from attrgraph_cli.cluster.engine import GROUPING_KEYS, ClusterResult
from attrgraph_cli.graph.model import AttributionGraph


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def quality_rows(scores: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(score, ours, baseline / control, ratio) rows."""
    rows: list[tuple[str, str, str, str]] = []
    cov = scores["coverage"]
    control = cov.get("random_control", {})
    for key in ("replacement", "completeness"):
        rows.append(
            (
                f"coverage: {key} (all features {_f(cov['all_features'][key])})",
                _f(cov["supernodes"][key]),
                f"{_f(control.get(key))} (random same-size)",
                "",
            )
        )
    grouping = scores.get("grouping")
    if grouping:
        ours, base, ratio = grouping["ours"], grouping["baseline"], grouping["ratio"]
        for key in GROUPING_KEYS:
            rows.append(
                (
                    f"grouping: {key}",
                    _f(ours.get(key)),
                    f"{_f(base.get(key))} (layer/position)",
                    _f(ratio.get(key), 2),
                )
            )
    causal = scores.get("causal")
    if causal:
        rows.append(
            (
                "causal: |measured effect| of x-1 (mean)",
                _f(causal.get("mean_abs_measured")),
                f"{_f(causal.get('mean_abs_control'))} (random same-size)",
                "",
            )
        )
        rows.append(
            ("causal: measured and predicted agree in sign", _f(causal.get("same_sign_share")), "", "")
        )
    return rows


def print_result(graph: AttributionGraph, result: ClusterResult, console: Console | None = None) -> None:
    """Print the supernodes and the quality table (names come from files: printed as plain text)."""
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    table = Table(title=f"supernodes ({len(result.new)} new, {len(result.kept)} kept)")
    causal = any("causal" in s.scores for s in result.new)
    cols = ["name", "origin", "size", "layers", "positions", "influence", "similarity"]
    for col in cols + (["measured", "predicted", "members agree"] if causal else []):
        table.add_column(col)
    for s in (*result.kept, *result.new):
        sc = s.scores
        layers = sc.get("layers") or ["", ""]
        table.add_row(
            escape(s.name),
            s.origin,
            str(sc.get("size", len(s.rows))),
            f"{layers[0]}–{layers[1]}" if layers[0] != layers[1] else str(layers[0]),
            ",".join(map(str, sc.get("positions", []))),
            _f(sc.get("influence_share")),
            _f(sc.get("mean_similarity")),
            *(
                [_f(c.get("measured")), _f(c.get("predicted")), _f(c.get("members_agree"), 2)]
                if causal and (c := sc.get("causal", {})) is not None
                else []
            ),
        )
    console.print(table)
    quality = Table(title="quality (ours vs control)")
    for col in ("score", "ours", "control", "ratio"):
        quality.add_column(col)
    for row in quality_rows(result.scores):
        quality.add_row(*row)
    console.print(quality)
