"""What every PDF section receives (`ReportContext`) and what it declares (`Section`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.report.page import PageGeometry
from attrgraph_cli.report.semantics import Semantics
from attrgraph_cli.report.svg import FigureOptions, SvgFigure
from attrgraph_cli.report.views import Views


@dataclass
class ReportContext:
    """The graph and everything computed once for the whole report."""

    graph: AttributionGraph
    sem: Semantics
    geometry: PageGeometry
    figure_options: FigureOptions
    figure: SvgFigure
    top: int
    title: str
    #: the line on page 1 saying which files the PDF carries (None: it carries none)
    bundle_note: str | None = None
    _views: Views | None = field(default=None, repr=False)

    @property
    def views(self) -> Views:
        """The extension parts' views (`report/views.py`), the ones the viewer draws; computed once."""
        if self._views is None:
            from attrgraph_cli.report import views

            self._views = views.compute(self.graph, self.sem)
        return self._views


@dataclass(frozen=True)
class Section:
    """A PDF section: `build(report)` returns its template's data (`data` in the template), or None to
    leave the section out; `template` is a file under `templates/` (e.g. `pdf_sections/<name>.html.j2`)."""

    name: str
    template: str
    build: Callable[[ReportContext], Any]


@dataclass(frozen=True)
class RenderedSection:
    """A section with its data, as the report template loops over them."""

    name: str
    template: str
    data: Any
