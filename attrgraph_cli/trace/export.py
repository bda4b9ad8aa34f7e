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
    renamed = rename_colliding_error_nodes(graph)
    if renamed:
        graph.metadata.setdefault("info", {}).setdefault("attrgraph", {})["renamed_error_nodes"] = renamed
    return graph


def rename_colliding_error_nodes(graph: Any) -> dict[str, str]:
    """Give error nodes whose id is also a feature's id the other error-id convention, `{layer}_-1_{pos}`.

    circuit-tracer names the error node of layer L at position P `0_L_P`, which is also the id of feature L of
    layer 0 at position P; when both survive pruning the file has a duplicate id (circuit-tracer's own
    `create_graph_files` writes it as is). Readers, including Neuronpedia's, tell error nodes by
    `feature_type`, so only the colliding ids change. Returns {old id: new id}.
    """
    from attrgraph_cli.graph.model import NodeKind

    nodes = graph.nodes
    feature_ids = set(nodes.ids[nodes.kind == NodeKind.FEATURE].tolist())
    renamed: dict[str, str] = {}
    for row in (nodes.kind == NodeKind.ERROR).nonzero()[0]:
        old = str(nodes.ids[row])
        if old in feature_ids:
            new = f"{int(nodes.layer[row])}_-1_{int(nodes.position[row])}"
            nodes.ids[row] = new
            renamed[old] = new
    if renamed:
        graph._index = None
    return renamed


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
    import tempfile
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        raw.to_pt(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a result file gets the usual permissions
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_html(graph: Any, path: str | os.PathLike[str]) -> int:
    from attrgraph_cli.report.html import write_html

    return write_html(graph, path)
