"""`attrgraph render GRAPH -o OUT`: an interactive HTML report, or an SVG / PDF figure.

The output format is `--format`, else the output's suffix; each format is a renderer of
`report.renderers.RENDERERS` (which declares its suffixes and imports its heavy parts only when used).
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from attrgraph_cli.commands._common import print_summary, user_errors
from attrgraph_cli.safetext import printable


class OutputFormat(str, Enum):
    html = "html"
    svg = "svg"
    pdf = "pdf"


class PdfVariant(str, Enum):
    pdf_a_3b = "pdf/a-3b"
    pdf_a_3u = "pdf/a-3u"


class Page(str, Enum):
    a4 = "a4"
    letter = "letter"


def register(app: typer.Typer) -> None:
    """Add `render` to the app."""
    app.command("render")(render)


@user_errors
def render(
    graph: Annotated[Path, typer.Argument(help="Graph file (JSON, .pt, .npz).")],
    out: Annotated[Path, typer.Option("-o", "--output", help="Output: .html, .svg or .pdf.")],
    fmt: Annotated[OutputFormat | None, typer.Option("--format", help="Default: from -o.")] = None,
    node_threshold: Annotated[
        float | None, typer.Option("--node-threshold", help="Node pruning on load.")
    ] = None,
    edge_threshold: Annotated[
        float | None, typer.Option("--edge-threshold", help="Edge pruning on load.")
    ] = None,
    trust_pickle: Annotated[
        bool, typer.Option("--trust-pickle", help="Allow full unpickling (.pt).")
    ] = False,
    page: Annotated[Page, typer.Option("--page", help="PDF page size.")] = Page.a4,
    landscape: Annotated[bool, typer.Option("--landscape", help="PDF in landscape orientation.")] = False,
    figure_only: Annotated[bool, typer.Option("--figure-only", help="PDF: only the figure.")] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="PDF/SVG: how many top nodes to list.")] = 20,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    max_edges: Annotated[
        int | None, typer.Option("--max-edges", min=0, help="SVG/PDF: draw the N strongest links (1000).")
    ] = None,
    min_weight: Annotated[
        float | None, typer.Option("--min-weight", min=0.0, help="SVG/PDF: only links with |w| >= this.")
    ] = None,
    embed: Annotated[
        str | None,
        typer.Option(
            "--embed",
            help="PDF: files the PDF carries: graph,report (default), graph, report or none "
            "(a --figure-only PDF carries none unless asked).",
        ),
    ] = None,
    pdf_variant: Annotated[
        PdfVariant | None,
        typer.Option("--pdf-variant", help="PDF: an archival variant (PDF/A-3 allows attachments)."),
    ] = None,
    embed_graph: Annotated[
        bool, typer.Option("--embed-graph", help="SVG: carry the graph in a <metadata> element.")
    ] = False,
) -> None:
    """Draw GRAPH as a self-contained interactive HTML report (works offline), an SVG or a PDF."""
    from attrgraph_cli.report.attachments import parse_embed
    from attrgraph_cli.report.renderers import RenderOptions, renderer_for

    renderer = renderer_for(out, fmt.value if fmt else None)
    parts = parse_embed(embed, figure_only=figure_only)
    from attrgraph_cli.io.atomic import check_writable, is_regular_output
    from attrgraph_cli.io.overwrite import refuse_overwrite

    check_writable(out)  # a directory, a symlink loop or an unwritable folder: said before any work
    refuse_overwrite(out, [("graph", graph)])  # a report never replaces the graph it draws
    started = time.perf_counter()
    loaded = _load(graph, node_threshold, edge_threshold, trust_pickle)
    options = RenderOptions(
        title=title,
        top=top,
        page=page.value,
        landscape=landscape,
        figure_only=figure_only,
        max_edges=max_edges,
        min_weight=min_weight,
        embed=parts,
        pdf_variant=pdf_variant.value if pdf_variant else None,
        embed_graph=embed_graph,
    )
    renderer.write(loaded, out, options)
    regular = is_regular_output(out)  # not stdout, a device or a FIFO: those have no size to report
    if renderer.name == "pdf" and regular:
        _report_attachments(out, parts)
    size = out.stat().st_size if regular else 0
    summary = f"{renderer.name}, {size / 1e6:.2f} MB, {len(loaded.nodes)} nodes, {len(loaded.edges)} links"
    print_summary(graph, out, summary, time.perf_counter() - started)


def _load(path: Path, node_threshold: float | None, edge_threshold: float | None, trust_pickle: bool):
    from attrgraph_cli.io import load_graph

    thresholds = {"node_threshold": node_threshold, "edge_threshold": edge_threshold}
    return load_graph(
        path, trust_pickle=trust_pickle, **{k: v for k, v in thresholds.items() if v is not None}
    )


def _report_attachments(out: Path, parts: tuple[str, ...]) -> None:
    """Print what the PDF's attachments cost; warn (and name the smaller options) when the PDF is large."""
    from attrgraph_cli.io.pdf_bundle import stored_sizes
    from attrgraph_cli.report.attachments import LARGE_PDF_BYTES

    if not parts:
        return
    total = out.stat().st_size
    sizes = stored_sizes(out)
    cost = sum(stored for _, stored, _ in sizes)
    listed = ", ".join(
        f"{name} {stored / 1e6:.2f} MB ({raw / 1e6:.2f} MB extracted)" for name, stored, raw in sizes
    )
    typer.echo(
        printable(f"attachments: {listed}; {cost / 1e6:.2f} MB of the PDF's {total / 1e6:.2f} MB"), err=True
    )
    if total > LARGE_PDF_BYTES:
        typer.echo(
            f"warning: {printable(out)} is {total / 1e6:.1f} MB; --embed graph (no HTML report) or "
            "--embed none makes it smaller",
            err=True,
        )
