"""Semantic checks on `links`: endpoints that are nodes, finite weights, no duplicates (vectorised)."""

from __future__ import annotations

from itertools import repeat

import numpy as np

from attrgraph_cli.validate.context import GraphContext
from attrgraph_cli.validate.problems import Problem


def endpoint_rows(ctx: GraphContext, values: list) -> np.ndarray:
    """Node row of each endpoint: -1 unknown id, -2 not a string (already reported by the schema pass)."""
    return np.fromiter(map(ctx.index.get, values, repeat(-1)), dtype=np.int64, count=len(values))


def check_links(ctx: GraphContext) -> None:
    cols = ctx.cols
    if cols.link_rows is not None:
        src, tgt = cols.link_rows
    else:
        src, tgt = endpoint_rows(ctx, cols.link_source), endpoint_rows(ctx, cols.link_target)
    for end, rows, values in (("source", src, cols.link_source), ("target", tgt, cols.link_target)):
        ctx.report(
            "links.endpoint",
            np.flatnonzero(rows == -1),
            lambda i, end=end, values=values: Problem(
                f"links[{i}].{end}",
                f"{end} {values[i]!r} is not the node_id of any node",
                "the node_id of a node in `nodes`",
                rule="links.endpoint",
            ),
        )
    weight = cols.weight
    ctx.report(
        "links.weight-not-finite",
        np.flatnonzero(cols.weight_ok & ~np.isfinite(weight)) if weight is not None else [],
        lambda i: Problem(
            f"links[{i}].weight",
            f"weight is {float(weight[i])!r}",
            "a finite number",
            rule="links.weight-not-finite",
        ),
    )
    known = (src >= 0) & (tgt >= 0)
    if not known.any():
        return
    n = max(cols.n_nodes, 1)
    rows = np.flatnonzero(known)
    pair = src[rows] * n + tgt[rows]
    sorted_pair = np.sort(pair)
    if (sorted_pair[1:] == sorted_pair[:-1]).any():  # rare: only then find which links repeat
        order = np.argsort(pair, kind="stable")
        sorted_pair = pair[order]
        again = np.flatnonzero(sorted_pair[1:] == sorted_pair[:-1]) + 1
        dup_rows = np.sort(rows[order[again]])

        def first_of(i: int) -> int:
            """Row of the first link with the same (source, target) as link `i` (stable sort: lowest row)."""
            return int(rows[order[np.searchsorted(sorted_pair, src[i] * n + tgt[i], side="left")]])

        ctx.report(
            "links.duplicate",
            dup_rows,
            lambda i: Problem(
                f"links[{i}]",
                f"link {cols.link_source[i]!r} -> {cols.link_target[i]!r} repeats links[{first_of(i)}]",
                "one link per (source, target) pair",
                severity="warning",
                rule="links.duplicate",
            ),
        )
    loops = np.flatnonzero(known & (src == tgt))
    ctx.report(
        "links.self-loop",
        loops,
        lambda i: Problem(
            f"links[{i}]",
            f"link from {cols.link_source[i]!r} to itself",
            "source != target",
            severity="warning",
            rule="links.self-loop",
        ),
    )


ALL = (check_links,)
