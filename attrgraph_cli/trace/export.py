"""Glue from a circuit-tracer `Graph` to attrgraph's model, validator and writers (owned by other modules)."""

from __future__ import annotations

import os
from typing import Any

from attrgraph_cli.errors import AttrgraphError


def to_attribution_graph(raw: Any, loaded: Any, *, slug: str, node_threshold: float, edge_threshold: float):
    """Prune the unpruned circuit-tracer graph and convert it (`attrgraph_cli.graph.dense`)."""
    from attrgraph_cli.graph.dense import from_circuit_tracer_graph

    graph = from_circuit_tracer_graph(
        raw,
        tokenizer=loaded.tokenizer,
        slug=slug,
        scan=loaded.scan,
        node_threshold=node_threshold,
        edge_threshold=edge_threshold,
    )
    return graph


def validate_or_raise(graph: Any) -> list[Any]:
    """Run attrgraph's validator; errors stop the write (warnings are returned for the caller to show)."""
    from attrgraph_cli.validate import validate_graph

    problems = list(validate_graph(graph))
    errors = [p for p in problems if str(getattr(p, "severity", "error")).lower().endswith("error")]
    if errors:
        first = errors[0]
        text = getattr(first, "message", None) or str(first)
        where = getattr(first, "path", None)
        text = f"{where}: {text}" if where else text
        raise AttrgraphError(
            f"the traced graph failed validation ({len(errors)} error(s)), nothing written; first: {text}", 3
        )
    return problems


def save_json(graph: Any, path: str | os.PathLike[str]) -> None:
    from attrgraph_cli.io import save_graph

    save_graph(graph, path)


def save_raw(raw: Any, path: str | os.PathLike[str]) -> None:
    """`Graph.to_pt` through a temp file, so a half-written .pt never replaces a good one."""
    from attrgraph_cli.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        raw.to_pt(str(tmp))


def save_html(graph: Any, path: str | os.PathLike[str]) -> int:
    from attrgraph_cli.report.html import write_html

    return write_html(graph, path)
