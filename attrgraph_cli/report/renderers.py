"""Every output format behind one interface: name -> `Renderer`, each declaring its file suffixes.

A renderer writes a graph to a path (atomically) from one `RenderOptions`; its module is imported only
when it is used (WeasyPrint, the PDF's, is an optional extra). `render` picks one by `--format` or by the
output's suffix (`renderer_for`). A new output format is one `Renderer` entry in `RENDERERS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.report.semantics import DEFAULTS


@dataclass(frozen=True)
class RenderOptions:
    """Every option a renderer may use; each takes the ones that apply to it (see `Renderer.options`)."""

    title: str | None = None
    top: int = DEFAULTS.top_nodes
    page: str = "a4"
    landscape: bool = False
    figure_only: bool = False
    max_edges: int | None = None
    min_weight: float | None = None
    #: PDF: files the PDF carries (`report.attachments.EMBED_CHOICES`); None = the default for the kind
    embed: tuple[str, ...] | None = None
    #: PDF: a standard variant such as "pdf/a-3b"
    pdf_variant: str | None = None
    #: SVG: carry the graph JSON in a <metadata> element
    embed_graph: bool = False


Writer = Callable[[AttributionGraph, Path, RenderOptions], None]


@dataclass(frozen=True)
class Renderer:
    """An output format: its name, the suffixes that select it, the options it reads, and its writer."""

    name: str
    suffixes: tuple[str, ...]
    options: tuple[str, ...]
    write: Writer


def _html(graph: AttributionGraph, path: Path, opts: RenderOptions) -> None:
    from attrgraph_cli.report.html import write_html

    write_html(graph, path, title=opts.title)


def _svg(graph: AttributionGraph, path: Path, opts: RenderOptions) -> None:
    from attrgraph_cli.report.svg import write_svg

    write_svg(
        graph,
        path,
        title=opts.title,
        top=opts.top,
        max_edges=opts.max_edges,
        min_weight=opts.min_weight,
        embed_graph=opts.embed_graph,
    )


def _pdf(graph: AttributionGraph, path: Path, opts: RenderOptions) -> None:
    try:
        from attrgraph_cli.report.pdf import write_pdf
    except ImportError as exc:
        raise AttrgraphError(f"PDF output not available: {exc}") from None
    write_pdf(
        graph,
        path,
        page=opts.page,
        landscape=opts.landscape,
        figure_only=opts.figure_only,
        top=opts.top,
        title=opts.title,
        max_edges=opts.max_edges,
        min_weight=opts.min_weight,
        embed=opts.embed,
        pdf_variant=opts.pdf_variant,
    )


RENDERERS: dict[str, Renderer] = {
    "html": Renderer("html", (".html", ".htm"), ("title",), _html),
    "svg": Renderer("svg", (".svg",), ("title", "top", "max_edges", "min_weight", "embed_graph"), _svg),
    "pdf": Renderer(
        "pdf",
        (".pdf",),
        (
            "title",
            "top",
            "page",
            "landscape",
            "figure_only",
            "max_edges",
            "min_weight",
            "embed",
            "pdf_variant",
        ),
        _pdf,
    ),
}


def renderer_for(path: str | os.PathLike[str], name: str | None = None) -> Renderer:
    """The renderer named `name`, else the one whose suffix `path` has."""
    if name is not None:
        try:
            return RENDERERS[name]
        except KeyError:
            raise AttrgraphError(
                f"unknown output format {name!r}: use one of {', '.join(RENDERERS)}"
            ) from None
    suffix = Path(path).suffix.lower()
    for renderer in RENDERERS.values():
        if suffix in renderer.suffixes:
            return renderer
    known = ", ".join(s for r in RENDERERS.values() for s in r.suffixes[:1])
    raise AttrgraphError(
        f"cannot tell the output format from {Path(path).name!r}: use a {known} name or --format"
    )
