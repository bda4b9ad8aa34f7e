"""The PDF report (WeasyPrint), assembled from the registered sections (`report/sections/`: figure, pinned
subgraph, top nodes, supernodes, interventions, feature details, provenance); or, with `figure_only`, one
page holding just the figure, sized to it.

The figures are the SVG of `report.svg` inlined into the HTML, so they stay vector; text is set in the
shipped DejaVu Sans, loaded with @font-face and embedded (subset) by WeasyPrint, so the PDF looks the same
on every machine. WeasyPrint is imported lazily: it needs Pango, and a machine without it gets a one-line
error naming the Debian packages. WeasyPrint may only read the shipped font files (see `_fetcher`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from attrgraph_cli.clip import MAX_TITLE, clip
from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.io.atomic import atomic_write_bytes
from attrgraph_cli.report import semantics
from attrgraph_cli.report.attachments import (
    Embedded,
    build_attachments,
    bundle_note,
    deflate_attachments,
    parse_embed,
    weasyprint_attachments,
)
from attrgraph_cli.report.page import PAGE_SIZES, PageGeometry, fit_figure, page_geometry
from attrgraph_cli.report.svg import FigureOptions, SvgFigure, render_svg
from attrgraph_cli.resources import resource_dir

__all__ = [
    "PAGE_SIZES",
    "PageGeometry",
    "build_html",
    "fit_figure",
    "page_geometry",
    "render_pdf",
    "write_pdf",
]

TEMPLATE = "report_pdf.html.j2"
STYLESHEET = "report_pdf.css"
#: the family name the shipped font is registered under (distinct from any system font's name)
FONT_FAMILY = "AttrgraphDejaVuSans"
PANGO_HINT = "PDF output needs Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 (or `make install`)"


def import_weasyprint():
    """WeasyPrint, or an AttrgraphError saying what to install."""
    try:
        import weasyprint
    except OSError as exc:  # cffi could not load libpango / libgobject
        raise AttrgraphError(
            f"{PANGO_HINT} ({str(exc).splitlines()[0] if str(exc) else 'library missing'})"
        ) from None
    except ImportError:
        raise AttrgraphError("PDF output needs WeasyPrint: pip install 'attrgraph[pdf]'") from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint


@cache
def _template():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE)


def _allowed(url: str) -> bool:
    """Only the shipped font files may be read while rendering."""
    if not url.startswith("file://"):
        return False
    from urllib.parse import unquote, urlparse

    path = Path(unquote(urlparse(url).path)).resolve()
    return path.parent == (resource_dir("templates") / "fonts").resolve() and path.suffix == ".ttf"


def _fetcher(weasyprint):
    """A URL fetcher that serves the shipped fonts and refuses everything else (no network, no files)."""
    if hasattr(weasyprint, "URLFetcher"):  # WeasyPrint >= 66

        class FontsOnly(weasyprint.URLFetcher):
            def fetch(self, url, *args, **kwargs):
                if not _allowed(url):
                    raise ValueError(f"attrgraph PDF: refusing to fetch {url[:80]!r}")
                return super().fetch(url, *args, **kwargs)

        return FontsOnly()

    def fetch(url: str, *args: Any, **kwargs: Any):
        if not _allowed(url):
            raise ValueError(f"attrgraph PDF: refusing to fetch {url[:80]!r}")
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return fetch


def _options(figure_options: FigureOptions | None, landscape: bool) -> FigureOptions:
    opts = replace(figure_options or FigureOptions(), font_family=FONT_FAMILY)
    if landscape and opts.width == FigureOptions.width:
        opts.width = 640.0  # a landscape page has room for a wider figure (same font sizes)
    return opts


def report_context(
    graph: AttributionGraph,
    *,
    page: str = "a4",
    landscape: bool = False,
    top: int = semantics.DEFAULTS.top_nodes,
    title: str | None = None,
    figure_options: FigureOptions | None = None,
    bundle_note: str | None = None,
):
    """What the sections build from: the graph, its semantics, the page and the main figure."""
    from attrgraph_cli.report.sections import ReportContext

    geometry = page_geometry(page, landscape)
    opts = _options(figure_options, landscape)
    sem = semantics.compute(graph)
    figure = render_svg(graph, opts, title=title, sem=sem)
    heading = clip(title or graph.slug or "Attribution graph", MAX_TITLE)
    return ReportContext(graph, sem, geometry, opts, figure, top, heading, bundle_note)


def build_html(
    graph: AttributionGraph,
    *,
    page: str = "a4",
    landscape: bool = False,
    figure_only: bool = False,
    top: int = semantics.DEFAULTS.top_nodes,
    title: str | None = None,
    figure_options: FigureOptions | None = None,
    bundle_note: str | None = None,
) -> tuple[str, SvgFigure]:
    """The report's HTML (for WeasyPrint) and the main figure drawn in it; `bundle_note` is the line on
    page 1 saying which files the PDF carries."""
    from attrgraph_cli.report.sections import build_sections

    report = report_context(
        graph,
        page=page,
        landscape=landscape,
        top=top,
        title=title,
        figure_options=figure_options,
        bundle_note=bundle_note,
    )
    geometry, figure = report.geometry, report.figure
    context: dict[str, Any] = {
        "css": (resource_dir("templates") / STYLESHEET).read_text(encoding="utf-8"),
        "font_family": FONT_FAMILY,
        "figure": figure,
        "figure_only": figure_only,
        "title": report.title,
        "page_size": f"{geometry.width_mm}mm {geometry.height_mm}mm",
    }
    if figure_only:
        context["page_size"] = f"{figure.width}px {figure.height}px"
        return _template().render(**context), figure
    context["sections"] = build_sections(report)
    return _template().render(**context), figure


def render_pdf(
    graph: AttributionGraph,
    *,
    attachments: list[Embedded] | None = None,
    pdf_variant: str | None = None,
    **kwargs: Any,
) -> bytes:
    """The report as PDF bytes, carrying `attachments`; other keyword arguments as for `build_html`."""
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    html, _ = build_html(graph, **kwargs)
    base = resource_dir("templates").resolve().as_uri() + "/"
    font_config = FontConfiguration()
    document = weasyprint.HTML(string=html, base_url=base, url_fetcher=_fetcher(weasyprint))
    return document.write_pdf(
        font_config=font_config,
        attachments=weasyprint_attachments(weasyprint, attachments or []),
        pdf_variant=pdf_variant,
        finisher=deflate_attachments if attachments else None,
    )


def write_pdf(
    graph: AttributionGraph,
    path,
    *,
    page: str = "a4",
    landscape: bool = False,
    figure_only: bool = False,
    top: int = semantics.DEFAULTS.top_nodes,
    title: str | None = None,
    embed: tuple[str, ...] | None = None,
    pdf_variant: str | None = None,
    **figure_opts: Any,
) -> int:
    """Write the PDF report (or, with `figure_only`, the one-page figure) to `path`; returns its size.

    `embed` names the files the PDF carries (`report.attachments.EMBED_CHOICES`; default: both for a
    report, none for a figure); `pdf_variant` e.g. "pdf/a-3b". `figure_opts` are `FigureOptions` fields
    (max_edges, min_weight, labels, node_threshold, ...).
    """
    parts = parse_embed(None, figure_only=figure_only) if embed is None else embed
    files = build_attachments(graph, parts, title=title)
    given = {k: v for k, v in figure_opts.items() if v is not None}
    options = FigureOptions(**given) if given else None
    data = render_pdf(
        graph,
        page=page,
        landscape=landscape,
        figure_only=figure_only,
        top=top,
        title=title,
        figure_options=options,
        attachments=files,
        pdf_variant=pdf_variant,
        bundle_note=bundle_note(parts, Path(path).name),
    )
    atomic_write_bytes(path, data)
    return len(data)
