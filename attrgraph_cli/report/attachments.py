"""What an attrgraph PDF carries: the graph as Neuronpedia JSON and the self-contained HTML report.

A reader of a paper gets the picture and, inside the same file, the data behind it. Both travel as PDF
file attachments (document-level embedded files, compressed with Flate like every other stream; under
PDF/A-3 they are associated files with an `AFRelationship`), named after the graph's slug so that
`pdfdetach -saveall` writes recognisable files. `io/pdf_bundle.py` reads them back.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.io.pdf_bundle import GRAPH_SUFFIX, REPORT_SUFFIX

#: what `--embed` accepts
EMBED_CHOICES = ("graph", "report")
#: PDF variants offered for archival copies (WeasyPrint's names); PDF/A-3 allows arbitrary attachments
PDF_VARIANTS = ("pdf/a-3b", "pdf/a-3u")
#: above this PDF size the CLI warns and names the smaller options
LARGE_PDF_BYTES = 20_000_000
#: the line on the report's first page (the names are filled in)
NOTE = (
    "This PDF carries {what} as attached files: open your PDF reader's attachments pane, run "
    "`pdfdetach -saveall {pdf}`, or `attrgraph render {pdf} -o report.html`."
)


@dataclass(frozen=True)
class Embedded:
    """One file to attach."""

    name: str
    data: bytes
    description: str
    relationship: str  # PDF/A-3 AFRelationship: Source (the data the document was made from), Supplement


def parse_embed(value: str | None, *, figure_only: bool) -> tuple[str, ...]:
    """`--embed` as a tuple of parts; the default is both parts, or nothing for a figure-only PDF."""
    if value is None:
        return () if figure_only else EMBED_CHOICES
    parts = [p.strip().lower() for p in value.split(",") if p.strip()]
    if parts == ["none"]:
        return ()
    if parts == ["all"]:
        return EMBED_CHOICES
    unknown = [p for p in parts if p not in EMBED_CHOICES]
    if unknown or not parts:
        raise AttrgraphError(
            f"--embed {value!r}: use graph, report, graph,report or none "
            f"(unknown: {', '.join(unknown) or 'empty'})"
        )
    return tuple(p for p in EMBED_CHOICES if p in parts)


def _stem(graph: AttributionGraph) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", graph.slug or "graph").strip("-.")[:80]
    return stem or "graph"


def build_attachments(
    graph: AttributionGraph, parts: tuple[str, ...], *, title: str | None
) -> list[Embedded]:
    """The files to embed for `parts` (see `EMBED_CHOICES`)."""
    from attrgraph_cli.io.neuronpedia_json import dumps

    stem = _stem(graph)
    out: list[Embedded] = []
    if "graph" in parts:
        out.append(
            Embedded(
                stem + GRAPH_SUFFIX,
                dumps(graph),
                "The attribution graph behind this report (Neuronpedia-compatible graph JSON, with "
                "attrgraph's extension: labels, supernodes, interventions, history)",
                "Source",
            )
        )
    if "report" in parts:
        from attrgraph_cli.report.html import render_html

        out.append(
            Embedded(
                stem + REPORT_SUFFIX,
                render_html(graph, title=title).encode("utf-8"),
                "The interactive report of the same graph: one self-contained HTML file that works offline",
                "Supplement",
            )
        )
    return out


def bundle_note(parts: tuple[str, ...], pdf_name: str) -> str | None:
    """The one line the first page shows, or None when nothing is attached."""
    if not parts:
        return None
    what = {
        ("graph",): "its graph (JSON)",
        ("report",): "its interactive report (HTML)",
        ("graph", "report"): "its graph (JSON) and its interactive report (HTML)",
    }[parts]
    return NOTE.format(what=what, pdf=pdf_name or "report.pdf")


#: zlib level for attachments (WeasyPrint's own level 9 costs 3x the time of 6 for 2% less on graph JSON)
DEFLATE_LEVEL = 6
#: above this size an attachment is deflated at level 1: 4x faster than 6, about 20% larger on graph JSON
FAST_DEFLATE_ABOVE = 16_000_000


def deflate_attachments(_document: Any, pdf: Any) -> None:
    """WeasyPrint finisher: deflate the embedded files ourselves, at a level chosen for their size.

    WeasyPrint compresses every stream at zlib level 9, which takes ~24 s for the 75 MB JSON of a
    1M-link graph (level 6: ~8 s, level 1: ~2 s, measured in `benchmarks/bench_pdf.py`); the checksum and
    `/Params /Size` it recorded describe the uncompressed file and stay valid.
    """
    import zlib

    for obj in pdf.objects:
        extra = getattr(obj, "extra", None)
        if not isinstance(extra, dict) or extra.get("Type") != "/EmbeddedFile" or not obj.compress:
            continue
        raw = b"\n".join(item if isinstance(item, bytes) else str(item).encode() for item in obj.stream)
        level = 1 if len(raw) > FAST_DEFLATE_ABOVE else DEFLATE_LEVEL
        obj.stream = [zlib.compress(raw, level)]
        obj.compress = False
        extra["Filter"] = "/FlateDecode"


def weasyprint_attachments(weasyprint: Any, files: list[Embedded]) -> list[Any]:
    """WeasyPrint `Attachment` objects for `files` (MIME types follow from the names: JSON, HTML)."""
    return [
        weasyprint.Attachment(
            file_obj=io.BytesIO(f.data),
            name=f.name,
            description=f.description,
            relationship=f.relationship,
        )
        for f in files
    ]
