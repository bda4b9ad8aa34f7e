"""The top feature and error nodes, in the one ranking (`semantics.rank`)."""

from __future__ import annotations

from typing import Any

from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report import semantics
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.tables import NodeRow, node_row


def rows(report: ReportContext, n: int) -> list[NodeRow]:
    """The `n` best-ranked feature and error nodes as table rows (rank 1 first)."""
    top = semantics.top_nodes(report.graph, n, (NodeKind.FEATURE, NodeKind.ERROR))
    return [
        node_row(report.graph, i, rank, report.sem, report.views.links)
        for rank, i in enumerate(top.tolist(), start=1)
    ]


def build(report: ReportContext) -> dict[str, Any]:
    return {"rows": rows(report, report.top)}


SECTION = Section("top_nodes", "pdf_sections/top_nodes.html.j2", build)
