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
_ELEMENT = re.compile(rb"<attrgraph:graph\b[^>]*>([A-Za-z0-9+/=\s]*)</attrgraph:graph>", re.DOTALL)


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
    match = _ELEMENT.search(data)
    if match is None:
        raise GraphFormatError(
            f"{p}: this SVG carries no attribution graph "
            "(`attrgraph render -o fig.svg --embed-graph` writes one)"
        )
    try:
        packed = base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise GraphFormatError(f"{p}: the graph embedded in this SVG is damaged (bad base64)") from None
    from attrgraph_cli.io.pdf_bundle import inflate_bounded

    return inflate_bounded(packed, budget, f"{p}: the graph embedded in this SVG")


def read_svg_bundle(path: str | os.PathLike[str]):
    """The graph embedded in an attrgraph SVG figure (an `AttributionGraph`)."""
    from attrgraph_cli.io.neuronpedia_json import read_json_bytes

    return read_json_bytes(graph_json_from_svg(path), f"{Path(path)}!graph.json")
