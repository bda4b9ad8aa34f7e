"""The PDF report (WeasyPrint): the figure, the pinned subgraph, tables of nodes, clusters, interventions
and feature details; or, with `figure_only`, one page holding just the figure, sized to it.

The figures are the SVG of `report.svg` inlined into the HTML, so they stay vector; text is set in the
shipped DejaVu Sans, loaded with @font-face and embedded (subset) by WeasyPrint, so the PDF looks the same
on every machine. WeasyPrint is imported lazily: it needs Pango, and a machine without it gets a one-line
error naming the Debian packages. WeasyPrint may only read the shipped font files (see `_fetcher`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.io.atomic import atomic_write_bytes
from attrgraph_cli.report import tables
from attrgraph_cli.report.attachments import (
    Embedded,
    build_attachments,
    bundle_note,
    deflate_attachments,
    parse_embed,
    weasyprint_attachments,
)
from attrgraph_cli.report.subgraph import pinned_view
from attrgraph_cli.report.svg import FigureOptions, SvgFigure, render_svg
from attrgraph_cli.report.textmetrics import text_width
from attrgraph_cli.resources import resource_dir

TEMPLATE = "report_pdf.html.j2"
STYLESHEET = "report_pdf.css"
#: the family name the shipped font is registered under (distinct from any system font's name)
FONT_FAMILY = "AttrgraphDejaVuSans"
PANGO_HINT = "PDF output needs Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 (or `make install`)"
#: page sizes in mm (portrait)
PAGE_SIZES = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARGIN_MM = 14.0
PX_PER_MM = 96 / 25.4
#: height of one line of the 8 pt note saying what the PDF carries
BUNDLE_NOTE_LINE_MM = 3.6


@dataclass(frozen=True)
class PageGeometry:
    name: str
    width_mm: float
    height_mm: float

    @property
    def content_width_mm(self) -> float:
        return self.width_mm - 2 * MARGIN_MM

    @property
    def content_height_mm(self) -> float:
        return self.height_mm - 2 * MARGIN_MM - 6  # 6 mm for the footer line


def page_geometry(page: str, landscape: bool) -> PageGeometry:
    try:
        w, h = PAGE_SIZES[page.lower()]
    except KeyError:
        raise AttrgraphError(f"unknown page size {page!r}: use one of {', '.join(PAGE_SIZES)}") from None
    return PageGeometry(page.lower(), *((h, w) if landscape else (w, h)))


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


def fit_figure(figure: SvgFigure, max_w_mm: float, max_h_mm: float) -> tuple[float, float]:
    """Size (mm) of the figure scaled to fit the box, never enlarged past 1.6x its natural size."""
    natural_w, natural_h = figure.width / PX_PER_MM, figure.height / PX_PER_MM
    scale = min(max_w_mm / natural_w, max_h_mm / natural_h, 1.6)
    return natural_w * scale, natural_h * scale


def header_height_mm(prompt: str, settings: list[tuple[str, str]], n_logits: int, width_mm: float) -> float:
    """Height of page 1 without the figure (title, prompt, settings, caption), estimated from the
    stylesheet's sizes so that the figure can take the rest of the page."""
    pt_to_mm = 25.4 / 72
    prompt_lines = math.ceil(text_width("Prompt  " + prompt, 10.5) * pt_to_mm / width_mm) if prompt else 0
    value_mm = width_mm - 95  # the settings' value column (keys and the logits table take the rest)
    setting_lines = sum(
        max(1, math.ceil(text_width(v, 8) * pt_to_mm / max(value_mm, 30))) for _, v in settings
    )
    rows_mm = max(setting_lines * 4.0, (n_logits + 1) * 4.2 if n_logits else 0)
    caption_mm = 3 * 3.5
    return 9 + prompt_lines * 5.0 + 3 + rows_mm + 5 + caption_mm + 6


def build_html(
    graph: AttributionGraph,
    *,
    page: str = "a4",
    landscape: bool = False,
    figure_only: bool = False,
    top: int = 20,
    title: str | None = None,
    figure_options: FigureOptions | None = None,
    bundle_note: str | None = None,
) -> tuple[str, SvgFigure]:
    """The report's HTML (for WeasyPrint) and the main figure drawn in it."""
    geometry = page_geometry(page, landscape)
    opts = replace(figure_options or FigureOptions(), font_family=FONT_FAMILY)
    if landscape and opts.width == FigureOptions.width:
        opts.width = 640.0  # a landscape page has room for a wider figure (same font sizes)
    figure = render_svg(graph, opts, title=title)
    css = (resource_dir("templates") / STYLESHEET).read_text(encoding="utf-8")
    context: dict[str, Any] = {
        "css": css,
        "font_family": FONT_FAMILY,
        "figure": figure,
        "figure_only": figure_only,
        "title": title or graph.slug or "Attribution graph",
        "prompt": graph.prompt,
        "page_size": f"{geometry.width_mm}mm {geometry.height_mm}mm",
        "bundle_note": bundle_note,
    }
    if figure_only:
        context["page_size"] = f"{figure.width}px {figure.height}px"
        return _template().render(**context), figure

    settings = tables.settings(graph)
    logits = tables.top_logits(graph, max(5, min(10, len(settings))))
    header_mm = header_height_mm(graph.prompt, settings, len(logits), geometry.content_width_mm)
    if bundle_note:
        header_mm += 2 * BUNDLE_NOTE_LINE_MM  # the note wraps to two lines on a narrow page
    context["figure_size"] = fit_figure(
        figure, geometry.content_width_mm, geometry.content_height_mm - header_mm
    )
    view = pinned_view(graph)
    sub = None
    if view is not None:
        sub_opts = replace(
            opts,
            labels=len(view.nodes),
            logit_labels=len(view.nodes),
            max_edges=400,
            min_weight=0.0,
            node_threshold=None,
            show_errors=True,
            label_size=8.5,
            max_label_width=150.0,
        )
        sub_fig = render_svg(view, sub_opts, title="Pinned subgraph")
        sub = {
            "figure": sub_fig,
            "size": fit_figure(sub_fig, geometry.content_width_mm, geometry.content_height_mm - 30),
            "n_nodes": len(view.nodes),
            "n_edges": len(view.edges),
        }
    n_pinned = len(graph.qparams.get("pinnedIds", []) or [])
    context.update(
        settings=settings,
        top_logits=logits,
        subgraph=sub,
        n_pinned=n_pinned,
        top=top,
        top_nodes=tables.top_nodes(graph, top),
        clusters=tables.clusters(graph),
        interventions=tables.interventions(graph),
        details=tables.feature_details(graph, top),
        prompt_tokens=[tables.cell(t, 40) for t in graph.prompt_tokens],
    )
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
    top: int = 20,
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
