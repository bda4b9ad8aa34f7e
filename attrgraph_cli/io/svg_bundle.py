"""Graphs carried inside SVG figures: a `<metadata>` element holding the deflated, base64 graph JSON.

`render -o fig.svg --embed-graph` writes it (`embed_graph_metadata`); `load_graph(fig.svg)` reads it back
(`read_svg_bundle`). The SVG is not parsed as XML (a hostile file could hold entity bombs): the element is
found by a bounded search for attrgraph's own tag, and its content is inflated with a budget.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import zlib
from pathlib import Path

from attrgraph_cli.errors import GraphFormatError

NAMESPACE = "urn:attrgraph:graph"
TAG = "attrgraph:graph"
ENCODING = "deflate+base64"
_OPEN = b"<" + TAG.encode()
_CLOSE = b"</" + TAG.encode() + b">"
_BASE64 = re.compile(rb"[A-Za-z0-9+/=\s]*")
_WHITESPACE = b" \t\n\r\x0b\x0c"  # what `\s` matches in a bytes pattern


def graph_metadata_element(graph_json: bytes) -> str:
    """The `<metadata>` element carrying `graph_json` (ASCII, safe inside any SVG)."""
    packed = base64.b64encode(zlib.compress(graph_json, 9)).decode("ascii")
    return (
        f'<metadata><{TAG} xmlns:attrgraph="{NAMESPACE}" encoding="{ENCODING}" '
        f'bytes="{len(graph_json)}">{packed}</{TAG}></metadata>'
    )


def embed_graph_metadata(svg: str, graph_json: bytes) -> str:
    """`svg` with the graph's `<metadata>` element inserted right after the opening `<svg ...>` tag."""
    match = re.search(r"<svg\b[^>]*>", svg)
    if match is None:
        raise ValueError("not an SVG document")
    return svg[: match.end()] + graph_metadata_element(graph_json) + svg[match.end() :]


def graph_json_from_svg(path: str | os.PathLike[str], budget: int | None = None) -> bytes:
    """The graph JSON an SVG carries; a one-line error when it carries none or too much."""
    from attrgraph_cli.io.sniff import check_readable, max_input_bytes

    p = check_readable(path, kind="json")
    budget = max_input_bytes("json") if budget is None else budget
    data = p.read_bytes()
    content = _element_content(data)
    if content is None:
        raise GraphFormatError(
            f"{p}: this SVG carries no attribution graph "
            "(`attrgraph render -o fig.svg --embed-graph` writes one)"
        )
    try:
        # whitespace deleted in one pass (`b"".join(content.split())` made an object per token: ~25x the file)
        packed = base64.b64decode(content.translate(None, _WHITESPACE), validate=True)
    except (binascii.Error, ValueError):
        raise GraphFormatError(f"{p}: the graph embedded in this SVG is damaged (bad base64)") from None
    from attrgraph_cli.io.pdf_bundle import inflate_bounded

    return inflate_bounded(packed, budget, f"{p}: the graph embedded in this SVG")


def _element_content(data: bytes) -> bytes | None:
    """The base64 text of the first `<attrgraph:graph ...>...</attrgraph:graph>` element, or None.

    A linear scan (each byte looked at a bounded number of times): the opening tag, its `>`, then the
    closing tag are found with `bytes.find`, each search starting where the last one stopped, so a file of
    many unclosed `<attrgraph:graph` tags costs its length, not its length squared (as a regex did).
    """
    start = 0
    while True:
        at = data.find(_OPEN, start)
        if at < 0:
            return None
        after = at + len(_OPEN)
        if after < len(data) and (data[after : after + 1].isalnum() or data[after : after + 1] == b"_"):
            start = after  # a longer tag name (`<attrgraph:graphs`): not ours
            continue
        gt = data.find(b">", after)
        if gt < 0:
            return None
        end = data.find(_CLOSE, gt + 1)
        if end < 0:
            return None
        content = data[gt + 1 : end]
        if _BASE64.fullmatch(content) is not None:
            return content
        start = end + len(_CLOSE)


def read_svg_bundle(path: str | os.PathLike[str]):
    """The graph embedded in an attrgraph SVG figure (an `AttributionGraph`)."""
    from attrgraph_cli.io.neuronpedia_json import read_json_bytes

    return read_json_bytes(graph_json_from_svg(path), f"{Path(path)}!graph.json")
