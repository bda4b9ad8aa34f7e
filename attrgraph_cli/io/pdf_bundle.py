"""Read the files a PDF carries as attachments (attrgraph's PDF bundles: the graph JSON and the report).

`render -o report.pdf` embeds the graph as Neuronpedia JSON and the interactive HTML report
(`report/attachments.py`); this module takes them back out, so `load_graph(report.pdf)` (and every
command built on it) reads the graph behind a paper's figure.

A PDF from a stranger is hostile input: pypdf walks the document structure, but the attachment streams
are inflated here, by us, with a budget — an attachment whose declared size, stored length or inflated
length exceeds the input limit (`io.sniff.max_input_bytes("json")`) is refused before it fills memory.
"""

from __future__ import annotations

import io
import logging
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
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


#: what pypdf itself may inflate per stream while it walks the document (object and cross-reference
#: streams: small dictionaries; the attachments are inflated here, not by pypdf), instead of its 75 MB
PYPDF_MAX_OUTPUT = 16 << 20


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs its repairs of damaged files ("EOF marker not found"); our one error line says it all.
    Within, pypdf's own decompression limits are lowered to `PYPDF_MAX_OUTPUT` (pypdf 7 and later)."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with _pypdf_limits():
            yield
    finally:
        logger.setLevel(level)


def _pypdf_limits():
    import dataclasses

    pypdf = _pypdf()
    apply = getattr(pypdf, "apply_configuration", None)
    config = getattr(pypdf, "Configuration", None)
    if apply is None or config is None or not dataclasses.is_dataclass(config):
        return nullcontext()
    names = {f.name for f in dataclasses.fields(config)}
    wanted = (
        "zlib_maximum_output_length",
        "lzw_maximum_output_length",
        "run_length_maximum_output_length",
        "jbig2_maximum_output_length",
        "array_based_stream_maximum_output_length",
    )
    return apply(**{name: PYPDF_MAX_OUTPUT for name in wanted if name in names})


def _pypdf():
    try:
        import pypdf
    except ImportError:  # a core dependency, but say what to do rather than crash
        raise GraphFormatError("reading PDF bundles needs pypdf: pip install pypdf") from None
    return pypdf


#: a name tree deeper than this, or with more nodes or leaves, is refused (attrgraph writes one node)
MAX_TREE_DEPTH = 32
MAX_TREE_NODES = 10_000
MAX_ATTACHMENTS = 10_000
#: bytes inflated per step: a bomb is refused at most one step past the budget
INFLATE_CHUNK = 1 << 20
#: bytes inflated to peek at an attachment's first character (is it a JSON object?)
PEEK_BYTES = 4096


def _name_tree_leaves(root: Any) -> list[tuple[str, Any]]:
    """(name, file specification) pairs of a PDF name tree (`/Names` leaves, `/Kids` inner nodes), in order.

    Each node is visited once (a tree whose `/Kids` reuse a node, or point back up, is read as the tree it
    spans, not walked exponentially or forever), and the depth, node and leaf counts are bounded.
    """
    out: list[tuple[str, Any]] = []
    seen: set[Any] = set()
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        ref, depth = stack.pop()
        key = (ref.idnum, ref.generation) if hasattr(ref, "idnum") else id(ref)
        if key in seen:
            continue
        seen.add(key)
        if depth > MAX_TREE_DEPTH:
            raise GraphFormatError("the PDF's attachment list is nested too deeply (damaged or hostile file)")
        if len(seen) > MAX_TREE_NODES:
            raise GraphFormatError(
                f"the PDF's attachment list has more than {MAX_TREE_NODES:,} nodes (damaged or hostile file)"
            )
        node = ref.get_object()
        if not hasattr(node, "get"):
            continue
        names = node.get("/Names")
        if names is not None:
            names = names.get_object()
            for i in range(0, len(names) - 1, 2):
                out.append((str(names[i]), names[i + 1]))
            if len(out) > MAX_ATTACHMENTS:
                raise GraphFormatError(
                    f"the PDF carries more than {MAX_ATTACHMENTS:,} attachments (damaged or hostile file)"
                )
        kids = node.get("/Kids")
        kids = kids.get_object() if kids is not None else None
        if isinstance(kids, list):
            stack.extend((kid, depth + 1) for kid in reversed(kids))
    return out


def inflate_bounded(packed: bytes, budget: int, what: str, limit: int | None = None) -> bytes:
    """zlib-inflate `packed` in steps of `INFLATE_CHUNK`, refusing (one line) as soon as the output passes
    `budget` bytes (what is left of the input `limit`, when that is larger), or damaged data."""
    inflater = zlib.decompressobj()
    out = io.BytesIO()  # getvalue() hands over its buffer: no second copy
    total = 0
    pending = packed
    try:
        while not inflater.eof:
            chunk = inflater.decompress(pending, INFLATE_CHUNK)
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break  # input used up (a truncated stream keeps what it held)
            total += len(chunk)
            if total > budget:
                left = "" if limit is None or limit == budget else f" left of the {limit:,}-byte input limit"
                raise GraphFormatError(
                    f"{what} inflates to more than the {budget:,} bytes{left or ' of the input limit'} "
                    "(a compression bomb, or set ATTRGRAPH_MAX_INPUT_MB to allow more)"
                )
            out.write(chunk)
    except zlib.error as exc:
        raise GraphFormatError(f"{what} is damaged ({exc})") from None
    return out.getvalue()


def _peek(packed: bytes) -> bytes:
    """The first bytes (at most `PEEK_BYTES`) an attachment's deflated content inflates to."""
    try:
        return zlib.decompressobj().decompress(packed, PEEK_BYTES)
    except zlib.error:
        return b""


def _raw(stream: Any, budget: int, name: str) -> tuple[bytes, bool]:
    """(stored bytes, whether they are deflated) of an embedded-file stream; its declared and stored sizes
    are checked against `budget` first."""
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
        return raw, False
    if filters != ["/FlateDecode"] or stream.get("/DecodeParms") not in (None, {}):
        raise GraphFormatError(f"attachment {name!r} uses an unsupported encoding ({', '.join(filters)})")
    return raw, True


class _Inflater:
    """Inflates attachments against one budget shared by everything read from the PDF."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def content(self, stream: Any, name: str) -> bytes:
        left = self.limit - self.used
        raw, deflated = _raw(stream, left, name)
        data = inflate_bounded(raw, left, f"attachment {name!r}", self.limit) if deflated else raw
        self.used += len(data)
        return data

    def head(self, stream: Any, name: str) -> bytes:
        raw, deflated = _raw(stream, self.limit - self.used, name)
        data = _peek(raw) if deflated else raw[:PEEK_BYTES]
        self.used += len(data)
        return data


def _reading(path: str | os.PathLike[str]):
    """A context that turns pypdf's failures into one `GraphFormatError` line naming the file."""
    pypdf = _pypdf()
    p = Path(path)

    @contextmanager
    def guard() -> Iterator[None]:
        try:
            with _quiet_pypdf():
                yield
        except GraphFormatError as exc:
            raise GraphFormatError(f"{p}: {exc}") from None
        except (
            pypdf.errors.PyPdfError,
            KeyError,
            ValueError,
            TypeError,
            AttributeError,
            RecursionError,
        ) as exc:
            raise GraphFormatError(
                f"{p}: a damaged or unreadable PDF ({type(exc).__name__}: {exc})"[:300]
            ) from None

    return guard()


def read_pdf_attachments(path: str | os.PathLike[str], budget: int | None = None) -> list[PdfAttachment]:
    """Every file embedded in the PDF at `path` (document-level attachments), in the PDF's order, their
    inflated sizes together within `budget` (the JSON input limit by default)."""
    from attrgraph_cli.io.sniff import max_input_bytes

    inflater = _Inflater(max_input_bytes("json") if budget is None else budget)
    with _reading(path):
        return [
            PdfAttachment(name, _mime(stream), str(spec.get("/Desc", "")), inflater.content(stream, name))
            for name, spec, stream in _embedded_files(_pypdf(), Path(path))
        ]


def _embedded_files(pypdf: Any, path: Path, resolve: bool = True) -> list[tuple[str, Any, Any]]:
    """(file name, file specification, embedded-file stream) of each document-level attachment; with
    `resolve` False the stream is left a reference (not read)."""
    reader = pypdf.PdfReader(str(path), strict=False)
    names = reader.trailer["/Root"].get_object().get("/Names")
    tree = names.get_object().get("/EmbeddedFiles") if names is not None else None
    out = []
    for key, spec in _name_tree_leaves(tree) if tree is not None else []:
        spec = spec.get_object()
        if not hasattr(spec, "get"):
            continue
        ef = spec.get("/EF")
        ef = ef.get_object() if ef is not None else None
        stream = ef.get("/F") if hasattr(ef, "get") else None
        if stream is not None:
            name = str(spec.get("/UF") or spec.get("/F") or key)
            out.append((name, spec, stream.get_object() if resolve else stream))
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
        if _json_candidate(att.name, att.mime) and att.data.lstrip()[:1] == b"{":
            return att
    return None


def _json_candidate(name: str, mime: str) -> bool:
    return mime == GRAPH_MIME or name.lower().endswith(".json")


def graph_json_from_pdf(path: str | os.PathLike[str]) -> tuple[str, bytes]:
    """(attachment name, JSON bytes) of the graph a PDF carries; a one-line error when it carries none.

    Only the graph is inflated: attrgraph's own name (`*.graph.json`) first, else the first JSON attachment
    whose first inflated bytes open an object; the other attachments are never inflated.
    """
    from attrgraph_cli.io.sniff import max_input_bytes

    inflater = _Inflater(max_input_bytes("json"))
    with _reading(path):
        files = _embedded_files(_pypdf(), Path(path), resolve=False)
        chosen = next(((n, s) for n, _spec, s in files if n.endswith(GRAPH_SUFFIX)), None)
        if chosen is None:
            for name, _spec, ref in files:
                stream = ref.get_object()
                if _json_candidate(name, _mime(stream)) and inflater.head(stream, name).lstrip()[:1] == b"{":
                    chosen = (name, ref)
                    break
        if chosen is not None:
            name, ref = chosen
            return name, inflater.content(ref.get_object(), name)
    shown = ", ".join(repr(n) for n, _spec, _s in files[:10]) + (", ..." if len(files) > 10 else "")
    carried = f" (it carries {shown})" if files else ""
    raise GraphFormatError(
        f"{path}: this PDF carries no attribution graph{carried}; only PDFs written by "
        "`attrgraph render -o report.pdf` (without --embed none) embed one"
    )


def read_pdf_bundle(path: str | os.PathLike[str]):
    """The graph embedded in an attrgraph PDF report (an `AttributionGraph`)."""
    from attrgraph_cli.io.neuronpedia_json import read_json_bytes

    name, data = graph_json_from_pdf(path)
    return read_json_bytes(data, f"{path}!{name}")
