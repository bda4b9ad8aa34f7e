"""The terminal report of a `cluster` run: the supernodes, then the quality table."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from attrgraph_cli.cluster.engine import ClusterResult
from attrgraph_cli.cluster.quality import fmt_value, quality_rows
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.safetext import markup


def print_result(
    graph: AttributionGraph, result: ClusterResult, console: Console | None = None, stderr: bool = False
) -> None:
    """Print the supernodes and the quality table (names come from files: printed as plain text), on
    stderr with `stderr` (when stdout carries the graph JSON)."""
    stream = sys.stderr if stderr else sys.stdout
    console = console or Console(stderr=stderr, width=None if stream.isatty() else 140)
    table = Table(title=f"supernodes ({len(result.new)} new, {len(result.kept)} kept)")
    causal = any("causal" in s.scores for s in result.new)
    cols = ["name", "origin", "size", "layers", "positions", "influence", "similarity"]
    for col in cols + (["measured", "predicted", "members agree"] if causal else []):
        table.add_column(col)
    for s in (*result.kept, *result.new):
        sc = s.scores
        layers = sc.get("layers") or ["", ""]
        table.add_row(
            markup(s.name),
            markup(s.origin),
            str(sc.get("size", len(s.rows))),
            f"{layers[0]}–{layers[1]}" if layers[0] != layers[1] else str(layers[0]),
            ",".join(map(str, sc.get("positions", []))),
            fmt_value(sc.get("influence_share")),
            fmt_value(sc.get("mean_similarity")),
            *(
                [
                    fmt_value(c.get("measured")),
                    fmt_value(c.get("predicted")),
                    fmt_value(c.get("members_agree"), 2),
                ]
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
