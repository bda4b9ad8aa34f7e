"""The PDF report's sections, in the order they are printed.

A section is one module here that defines `SECTION = Section(name, template, build)`:
`build(report: ReportContext)` reads what it needs from the graph (through `report.sem` for labels,
colours and ranking, and `attrgraph_cli.extension` for the `attrgraph` parts, nothing else) and returns
the data its template part `templates/pdf_sections/<name>.html.j2` lays out (or None: left out).
Adding a section = one module + its template part + one line in `SECTIONS`.
"""

from __future__ import annotations

from attrgraph_cli.report.sections import (
    feature_details,
    figure,
    interventions,
    provenance,
    subgraph,
    supernodes,
    top_nodes,
)
from attrgraph_cli.report.sections.context import RenderedSection, ReportContext, Section

SECTIONS: list[Section] = [
    figure.SECTION,
    subgraph.SECTION,
    top_nodes.SECTION,
    supernodes.SECTION,
    interventions.SECTION,
    feature_details.SECTION,
    provenance.SECTION,
]


def build_sections(report: ReportContext, sections: list[Section] | None = None) -> list[RenderedSection]:
    """Each registered section's data; sections that return None are left out."""
    out = []
    for section in SECTIONS if sections is None else sections:
        data = section.build(report)
        if data is not None:
            out.append(RenderedSection(section.name, section.template, data))
    return out


__all__ = ["SECTIONS", "RenderedSection", "ReportContext", "Section", "build_sections"]
