"""The pinned subgraph with supernodes collapsed to one node each, with the prompt tokens that feed it and
the target logit (`report.subgraph.collapse`; the viewer's collapsed graph is the same view)."""

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
        display_influence_threshold=None,
        show_errors=True,
        label_size=8.5,
        max_label_width=150.0,
    )
    figure = render_svg(view, opts, title="Pinned subgraph")
    geometry = report.geometry
    groups = report.views.supernodes.groups if report.views.supernodes is not None else []
    return {
        "figure": figure,
        "size": fit_figure(figure, geometry.content_width_mm, geometry.content_height_mm - 30),
        "n_nodes": len(view.nodes),
        "n_edges": len(view.edges),
        "n_pinned": len(graph.pinned_ids),
        "n_supernodes": len(graph.supernodes),
        "groups": [
            {
                "name": group.name,
                "colour": group.color,
                "size": len(group.ids),
                "scores": [(a, b) for a, b in group.scores if a != "size"],
            }
            for group in groups
        ],
    }


SECTION = Section("subgraph", "pdf_sections/subgraph.html.j2", build)
