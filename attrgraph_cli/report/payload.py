"""The compact data block that the HTML viewer unpacks: columnar, interned, binary, deflated.

The page carries two pieces:

- a small JSON *head*: metadata, qParams, extra top-level keys (the `attrgraph` extension), prompt tokens,
  node ids, labels and every other string column (interned), layout geometry, per-node / per-link extra
  keys, and `semantics` (display labels, palette, colours, rank, feature keys, density, thresholds: see
  `report/semantics.py`, the one place they are computed) and `views` (what each extension part shows:
  `report/views.py`); the strings of metadata, labels, tokens and extras are cut to `clip.py`'s
  `MAX_LABEL`, so one 50 MB label cannot freeze the page;
- one *binary blob*: typed arrays back to back (node columns, node x/y, edge source/target/weight),
  compressed with raw DEFLATE and base64-encoded; the page inflates it with `DecompressionStream`.

Edges are sorted by |weight|, strongest first, so the viewer draws "the strongest k links" as a prefix.
Link weights travel as float32 (circuit-tracer computes them in float32); node scalars as float64.
Nothing here is one object per link.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from attrgraph_cli.clip import MAX_LABEL, clip, clip_strings
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.report import semantics, views
from attrgraph_cli.report.layout import Layout, compute_layout

#: zlib level: 6 is within a few % of 9 on these arrays and about twice as fast
DEFLATE_LEVEL = 6


#: columns stored byte-shuffled (all first bytes, then all second bytes, ...): sorted weights and node
#: indices deflate about 40% / 8% smaller that way (1M links: 1.3 MB less); the page un-shuffles them
SHUFFLED = frozenset({"src", "tgt", "w"})


def shuffle_bytes(arr: np.ndarray) -> bytes:
    """`arr`'s bytes (little-endian) grouped by byte position: plane k holds byte k of every item."""
    data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
    return data.view(np.uint8).reshape(-1, data.itemsize).T.tobytes()


#: a head larger than this (bytes of JSON) is deflated too: big label sets and feature details shrink ~5x
HEAD_COMPRESS_ABOVE = 32_768


@dataclass
class Payload:
    """What the template embeds.

    `head` is either JSON escaped for a <script> block (`head_encoding == "json"`) or, for large heads,
    base64 of the deflated JSON (`"deflate-raw"`); `blob_b64` is the deflated typed arrays (ASCII).
    """

    head: str
    head_encoding: str
    blob_b64: str
    raw_bytes: int
    compressed_bytes: int


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _intern(values: list[str]) -> dict[str, Any]:
    """A string column as a table of distinct values plus one index per row."""
    table: dict[str, int] = {}
    idx = [table.setdefault(v, len(table)) for v in values]
    return {"table": list(table), "idx": idx}


def script_safe_json(value: Any) -> str:
    """JSON that can sit inside `<script type="application/json">` whatever strings it holds.

    `<`, `>` and `&` become `\\u003c` etc., so `</script>` or `<!--` in a label cannot end the block; the
    two JavaScript line separators are escaped too.
    """
    text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _jsonable(value: Any) -> Any:
    """Replace NaN/inf floats (not valid JSON) by None, recursively, in user-supplied extras."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


def _edge_order(weight: np.ndarray) -> np.ndarray:
    """Indices of edges by decreasing |weight| (stable, so equal weights keep file order)."""
    return np.argsort(-np.abs(weight), kind="stable")


def _columns(graph: AttributionGraph, layout: Layout, order: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The blob's typed arrays: node columns, node x/y, then the edges in `order`."""
    nodes = graph.nodes
    index_dtype = np.uint16 if len(nodes) <= 0xFFFF else np.uint32
    return [
        ("kind", nodes.kind.astype(np.int8)),
        ("layer", nodes.layer.astype(np.int32)),
        ("pos", nodes.position.astype(np.int32)),
        ("row", layout.row.astype(np.int32)),
        ("feature", nodes.feature.astype(np.float64)),
        ("activation", nodes.activation.astype(np.float64)),
        ("influence", nodes.influence.astype(np.float64)),
        ("prob", nodes.logit_probability.astype(np.float64)),
        ("x", layout.x.astype(np.float32)),
        ("y", layout.y.astype(np.float32)),
        ("src", graph.edges.source[order].astype(index_dtype)),
        ("tgt", graph.edges.target[order].astype(index_dtype)),
        ("w", graph.edges.weight[order].astype(np.float32)),
    ]


def _lay_out(columns: list[tuple[str, np.ndarray]]) -> tuple[bytes, list[dict[str, Any]]]:
    """The arrays back to back at offsets aligned to 8 bytes (the page views them without copying), and
    their specs (name, dtype, offset, length, shuffled)."""
    parts: list[bytes] = []
    specs: list[dict[str, Any]] = []
    offset = 0
    for name, arr in columns:
        shuffled = name in SHUFFLED and arr.dtype.itemsize > 1
        data = (
            shuffle_bytes(arr)
            if shuffled
            else np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        )
        pad = (-offset) % 8
        if pad:
            parts.append(b"\0" * pad)
            offset += pad
        spec = {"name": name, "dtype": arr.dtype.name, "offset": offset, "length": len(arr)}
        if shuffled:
            spec["shuffle"] = True
        specs.append(spec)
        parts.append(data)
        offset += len(data)
    return b"".join(parts), specs


def build_payload(graph: AttributionGraph, layout: Layout | None = None, *, title: str = "") -> Payload:
    """Pack `graph` (and its layout) for the viewer."""
    layout = layout if layout is not None else compute_layout(graph)
    nodes = graph.nodes
    n, m = len(nodes), len(graph.edges)
    order = _edge_order(graph.edges.weight)
    raw, specs = _lay_out(_columns(graph, layout, order))
    packed = _deflate(raw)

    link_extra: dict[str, Any] = {}
    if graph.link_extra:  # map file positions to the sorted positions once, vectorised
        rank = np.empty(m, dtype=np.int64)
        rank[order] = np.arange(m)
        link_extra = {str(int(rank[i])): v for i, v in graph.link_extra.items()}

    computed = semantics.compute(graph)
    sem = computed.as_payload()
    head = {
        "version": 1,
        "title": title,
        "metadata": clip_strings(_jsonable(graph.metadata)),
        "qParams": _jsonable(graph.qparams),
        "extra": clip_strings(_jsonable(graph.extra)),
        "tokens": [clip(str(t), MAX_LABEL) for t in graph.prompt_tokens],
        "nodes": {
            "n": n,
            "ids": nodes.ids.astype(str).tolist() if n else [],
            "labels": [clip(str(v), MAX_LABEL) for v in nodes.label.tolist()],
            "featureType": _intern([str(v) for v in nodes.feature_type.tolist()]),
            "logitToken": [str(v) for v in nodes.logit_token.tolist()],
            "extra": {str(i): _jsonable(v) for i, v in graph.node_extra.items()},
        },
        "links": {"m": m, "extra": _jsonable(link_extra)},
        "semantics": sem,
        "views": views.compute(graph, computed).as_payload(),
        "layout": {
            "rowLabels": layout.row_labels,
            "columnLeft": layout.column_left.tolist(),
            "columnWidth": layout.column_width.tolist(),
            "width": layout.width,
            "height": layout.height,
        },
        "blob": {"encoding": "deflate-raw", "bytes": len(raw), "columns": specs},
    }
    head_json = script_safe_json(head)
    if len(head_json) > HEAD_COMPRESS_ABOVE:
        head_text = base64.b64encode(_deflate(head_json.encode("utf-8"))).decode("ascii")
        encoding = "deflate-raw"
    else:
        head_text, encoding = head_json, "json"
    return Payload(
        head=head_text,
        head_encoding=encoding,
        blob_b64=base64.b64encode(packed).decode("ascii"),
        raw_bytes=len(raw),
        compressed_bytes=len(packed),
    )
