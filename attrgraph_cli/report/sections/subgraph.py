"""The pinned subgraph with supernodes collapsed to one node each (`report.subgraph.pinned_view`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from attrgraph_cli.report.page import fit_figure
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.subgraph import pinned_view
from attrgraph_cli.report.svg import render_svg


def build(report: ReportContext) -> dict[str, Any] | None:
    graph = report.graph
    view = pinned_view(graph)
    if view is None:
        return None
    opts = replace(
        report.figure_options,
        labels=len(view.nodes),
        logit_labels=len(view.nodes),
        max_edges=report.sem.thresholds.subgraph_max_edges,
        min_weight=0.0,
        node_threshold=None,
        show_errors=True,
        label_size=8.5,
        max_label_width=150.0,
    )
    figure = render_svg(view, opts, title="Pinned subgraph")
    geometry = report.geometry
    return {
        "figure": figure,
        "size": fit_figure(figure, geometry.content_width_mm, geometry.content_height_mm - 30),
        "n_nodes": len(view.nodes),
        "n_edges": len(view.edges),
        "n_pinned": len(graph.pinned_ids),
        "n_supernodes": len(graph.supernodes),
        "groups": _group_table(graph),
    }


def _group_table(graph) -> list[dict[str, Any]]:
    """Each supernode's name, colour, size and scores (attrgraph.supernodes): the legend under the figure."""
    from attrgraph_cli import extension
    from attrgraph_cli.cluster.quality import group_rows
    from attrgraph_cli.report.semantics import supernode_color
    from attrgraph_cli.report.tables import cell

    meta = extension.supernode_set(graph)
    listed = meta.get("groups") if isinstance(meta.get("groups"), list) else []
    by_name = {str(g["name"]): g for g in listed if isinstance(g, dict) and "name" in g}
    rows = []
    for k, (name, *members) in enumerate(graph.supernodes):
        info = by_name.get(name, {})
        scores = [(cell(a, 30), cell(b, 30)) for a, b in group_rows(info.get("scores")) if a != "size"]
        rows.append(
            {"name": cell(name, 80), "colour": supernode_color(k), "size": len(members), "scores": scores}
        )
    return rows


SECTION = Section("subgraph", "pdf_sections/subgraph.html.j2", build)
