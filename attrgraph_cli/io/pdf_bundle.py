"""Read the files a PDF carries as attachments (attrgraph's PDF bundles: the graph JSON and the report).

`render -o report.pdf` embeds the graph as Neuronpedia JSON and the interactive HTML report
(`report/attachments.py`); this module takes them back out, so `load_graph(report.pdf)` (and every
command built on it) reads the graph behind a paper's figure.

A PDF from a stranger is hostile input: pypdf walks the document structure, but the attachment streams
are inflated here, by us, with a budget — an attachment whose declared size, stored length or inflated
length exceeds the input limit (`io.sniff.max_input_bytes("json")`) is refused before it fills memory.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import GraphFormatError

#: the MIME type attrgraph gives the embedded graph (what a reader of the PDF sees in its attachments pane)
GRAPH_MIME = "application/json"
HTML_MIME = "text/html"
#: name suffixes of the attachments attrgraph writes
GRAPH_SUFFIX = ".graph.json"
REPORT_SUFFIX = ".report.html"


@dataclass(frozen=True)
class PdfAttachment:
    """One embedded file: its name, MIME type (may be ""), description and content."""

    name: str
    mime: str
    description: str
    data: bytes


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs its repairs of damaged files ("EOF marker not found"); our one error line says it all."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _pypdf():
    try:
        import pypdf
    except ImportError:  # a core dependency, but say what to do rather than crash
        raise GraphFormatError("reading PDF bundles needs pypdf: pip install pypdf") from None
    return pypdf


def _name_tree_leaves(node: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """(name, file specification) pairs of a PDF name tree (`/Names` leaves, `/Kids` inner nodes)."""
    if depth > 32:  # a cyclic or absurdly deep tree
        raise GraphFormatError("the PDF's attachment list is nested too deeply (damaged or hostile file)")
    node = node.get_object()
    out: list[tuple[str, Any]] = []
    names = node.get("/Names")
    if names is not None:
        names = names.get_object()
        for i in range(0, len(names) - 1, 2):
            out.append((str(names[i]), names[i + 1]))
    for kid in node.get("/Kids", []) or []:
        out.extend(_name_tree_leaves(kid, depth + 1))
    return out


def inflate_bounded(packed: bytes, budget: int, what: str) -> bytes:
    """zlib-inflate `packed`, refusing (one line) to produce more than `budget` bytes or damaged data."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(packed, budget + 1)
    except zlib.error as exc:
        raise GraphFormatError(f"{what} is damaged ({exc})") from None
    if len(data) > budget or inflater.unconsumed_tail:
        raise GraphFormatError(
            f"{what} inflates to more than the input limit of {budget:,} bytes "
            "(a compression bomb, or set ATTRGRAPH_MAX_INPUT_MB to allow more)"
        )
    return data


def _inflate(stream: Any, budget: int, name: str) -> bytes:
    """The decoded content of an embedded-file stream, never more than `budget` bytes of output."""
    declared = stream.get("/Params", {}).get("/Size") if hasattr(stream, "get") else None
    if isinstance(declared, int) and declared > budget:
        raise GraphFormatError(
            f"attachment {name!r} declares {declared:,} bytes, over the input limit of {budget:,} "
            "(set ATTRGRAPH_MAX_INPUT_MB to allow more)"
        )
    raw = getattr(stream, "_data", None)
    if not isinstance(raw, bytes):
        raise GraphFormatError(f"attachment {name!r} has no readable content")
    if len(raw) > budget:
        raise GraphFormatError(f"attachment {name!r} is {len(raw):,} bytes stored, over the input limit")
    filters = stream.get("/Filter")
    filters = (
        [] if filters is None else [str(f) for f in (filters if isinstance(filters, list) else [filters])]
    )
    if not filters:
        return raw
    if filters != ["/FlateDecode"] or stream.get("/DecodeParms") not in (None, {}):
        raise GraphFormatError(f"attachment {name!r} uses an unsupported encoding ({', '.join(filters)})")
    return inflate_bounded(raw, budget, f"attachment {name!r}")


def read_pdf_attachments(path: str | os.PathLike[str], budget: int | None = None) -> list[PdfAttachment]:
    """Every file embedded in the PDF at `path` (document-level attachments), in the PDF's order."""
    from attrgraph_cli.io.sniff import max_input_bytes

    pypdf = _pypdf()
    budget = max_input_bytes("json") if budget is None else budget
    p = Path(path)
    try:
        with _quiet_pypdf():
            return [
                PdfAttachment(name, _mime(stream), str(spec.get("/Desc", "")), _inflate(stream, budget, name))
                for name, spec, stream in _embedded_files(pypdf, p)
            ]
    except GraphFormatError as exc:
        raise GraphFormatError(f"{p}: {exc}") from None
    except (pypdf.errors.PyPdfError, KeyError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise GraphFormatError(
            f"{p}: a damaged or unreadable PDF ({type(exc).__name__}: {exc})"[:300]
        ) from None


def _embedded_files(pypdf: Any, path: Path) -> list[tuple[str, Any, Any]]:
    """(file name, file specification, embedded-file stream) of each document-level attachment."""
    reader = pypdf.PdfReader(str(path), strict=False)
    names = reader.trailer["/Root"].get_object().get("/Names")
    tree = names.get_object().get("/EmbeddedFiles") if names is not None else None
    out = []
    for key, spec in _name_tree_leaves(tree) if tree is not None else []:
        spec = spec.get_object()
        ef = spec.get("/EF")
        stream = ef.get_object().get("/F") if ef is not None else None
        if stream is not None:
            out.append((str(spec.get("/UF") or spec.get("/F") or key), spec, stream.get_object()))
    return out


def _mime(stream: Any) -> str:
    return str(stream.get("/Subtype", "")).lstrip("/").replace("#2f", "/").replace("#2F", "/")


def stored_sizes(path: str | os.PathLike[str]) -> list[tuple[str, int, int]]:
    """(name, bytes stored in the PDF, bytes once extracted) of each attachment, without inflating any."""
    out = []
    with _quiet_pypdf():
        for name, _spec, stream in _embedded_files(_pypdf(), Path(path)):
            raw = getattr(stream, "_data", b"")
            size = stream.get("/Params", {}).get("/Size", len(raw))
            out.append((name, len(raw), int(size)))
    return out


def graph_attachment(attachments: list[PdfAttachment]) -> PdfAttachment | None:
    """The embedded graph JSON: attrgraph's own name first, else any JSON attachment that is an object."""
    for att in attachments:
        if att.name.endswith(GRAPH_SUFFIX):
            return att
    for att in attachments:
        if att.mime == GRAPH_MIME or att.name.lower().endswith(".json"):
            if att.data.lstrip()[:1] == b"{":
                return att
    return None


def graph_json_from_pdf(path: str | os.PathLike[str]) -> tuple[str, bytes]:
    """(attachment name, JSON bytes) of the graph a PDF carries; a one-line error when it carries none."""
    attachments = read_pdf_attachments(path)
    found = graph_attachment(attachments)
    if found is None:
        carried = f" (it carries {', '.join(repr(a.name) for a in attachments)})" if attachments else ""
        raise GraphFormatError(
            f"{path}: this PDF carries no attribution graph{carried}; only PDFs written by "
            "`attrgraph render -o report.pdf` (without --embed none) embed one"
        )
    return found.name, found.data


def read_pdf_bundle(path: str | os.PathLike[str]):
    """The graph embedded in an attrgraph PDF report (an `AttributionGraph`)."""
    from attrgraph_cli.io.neuronpedia_json import read_json_bytes

    name, data = graph_json_from_pdf(path)
    return read_json_bytes(data, f"{path}!{name}")
