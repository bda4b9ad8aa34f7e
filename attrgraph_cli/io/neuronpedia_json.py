"""Neuronpedia / circuit-tracer graph JSON <-> `AttributionGraph`.

Reading accepts every convention found in the wild: error nodes `0_{layer}_{pos}` and `{layer}_-1_{pos}`,
`schema_version` 1 (Cantor-paired `feature`) and legacy `layer * 100000 + index`, `layer` as a string or
an int, `"E"` embeddings, logit clerps `Output " tok" (p=0.123)` (and `token_prob` when present), null
influence / activation.

Writing emits the keys circuit-tracer's viewer reads (`jsNodeId`, `token_prob`, `is_target_logit`, ...).
A node's written fields are derived from the node table; whatever the source file had that differs
from that derivation (another `jsNodeId`, an int `layer`, unknown keys) is kept in `node_extra` and
written back over it, so JSON -> model -> JSON gives the same document.
"""

from __future__ import annotations

import math
import os
from operator import itemgetter
from typing import Any

import numpy as np

from attrgraph_cli.clip import clip
from attrgraph_cli.errors import GraphFormatError
from attrgraph_cli.graph import ids
from attrgraph_cli.graph.model import (
    DEFAULT_FEATURE_TYPE,
    EMBEDDING_LAYER,
    MAX_LAYERS,
    AttributionGraph,
    EdgeList,
    NodeKind,
    NodeTable,
)
from attrgraph_cli.io.atomic import atomic_write_bytes
from attrgraph_cli.io.sniff import check_readable
from attrgraph_cli.jsontypes import json_type_phrase

#: Node keys that have a column or are derived when writing; anything else is carried in node_extra.
_DERIVED_NODE_KEYS = (
    "node_id",
    "feature",
    "layer",
    "ctx_idx",
    "feature_type",
    "token_prob",
    "is_target_logit",
    "run_idx",
    "reverse_ctx_idx",
    "jsNodeId",
    "clerp",
    "influence",
    "activation",
)
_LINK_KEYS = ("source", "target", "weight")
_TOP_KEYS = ("metadata", "qParams", "nodes", "links")
#: positions allowed when the file has no `metadata.prompt_tokens` to count them
MAX_POSITIONS = 1 << 16
_INT64_LIMIT = 1 << 62
_DEFAULT_QPARAMS = {"pinnedIds": [], "supernodes": [], "linkType": "both", "clickedId": "", "sg_pos": ""}


# ---------------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------------
def read_json(path: str | os.PathLike[str]) -> AttributionGraph:
    """Read a Neuronpedia graph JSON file (GraphFormatError with one clear line when it is not one)."""
    p = check_readable(path, kind="json")
    try:
        data = p.read_bytes()
    except MemoryError:
        raise GraphFormatError(f"{p}: the file is too large to load into memory") from None
    return read_json_bytes(data, str(p))


def read_json_bytes(data: bytes, name: str) -> AttributionGraph:
    """A Neuronpedia graph JSON document from its bytes; `name` prefixes error messages."""
    import orjson

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise GraphFormatError(f"{name}: {_json_problem(data, exc, name)}") from None
    except MemoryError:
        raise GraphFormatError(f"{name}: the file is too large to load into memory") from None
    del data
    if not isinstance(doc, dict):
        raise GraphFormatError(
            f"{name}: the JSON document is {json_type_phrase(doc)}; a graph file is a JSON object"
        )
    try:
        return document_to_graph(doc)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{name}: {exc}") from None


def _json_problem(data: bytes, exc: Exception, name: str) -> str:
    """Why orjson refused the text, in the same words as `validate` (which parses it again precisely)."""
    from attrgraph_cli.io.json_text import UnreadableInput, first_non_standard, parse_precise

    try:
        doc, n_non_standard = parse_precise(data, name)
    except UnreadableInput as unreadable:
        message = str(unreadable)
        return message[len(name) + 2 :] if message.startswith(f"{name}: ") else message
    except MemoryError:
        return f"invalid JSON ({exc})"
    if n_non_standard:
        where, token = first_non_standard(doc)
        more = f" and {n_non_standard - 1} more" if n_non_standard > 1 else ""
        return (
            f"not standard JSON: {where} is `{token}`{more} (JSON has no NaN or Infinity; "
            "`attrgraph validate` lists them all)"
        )
    return f"invalid JSON ({exc})"  # orjson refused what Python's parser reads (e.g. a lone surrogate)


def document_to_graph(doc: dict) -> AttributionGraph:
    """A parsed graph JSON document as an `AttributionGraph` (keeps every key it does not model)."""
    if not isinstance(doc, dict):
        raise GraphFormatError(f"the document is {json_type_phrase(doc)}, expected a JSON object")
    for key, kind in (("nodes", list), ("links", list)):
        if key not in doc:
            raise GraphFormatError(f"missing top-level key '{key}' (is this an attribution graph?)")
        if not isinstance(doc[key], kind):
            raise GraphFormatError(f"'{key}' is {json_type_phrase(doc[key])}, expected an array")
    metadata = doc.get("metadata", {})
    qparams = doc.get("qParams", {})
    if not isinstance(metadata, dict):
        raise GraphFormatError(f"'metadata' is {json_type_phrase(metadata)}, expected an object")
    if not isinstance(qparams, dict):
        raise GraphFormatError(f"'qParams' is {json_type_phrase(qparams)}, expected an object")
    schema_version = metadata.get("schema_version")
    tokens = metadata.get("prompt_tokens")
    n_positions = len(tokens) if isinstance(tokens, list) and tokens else MAX_POSITIONS
    nodes, node_extra = _read_nodes(doc["nodes"], schema_version, n_positions)
    graph = AttributionGraph(
        nodes=nodes,
        edges=EdgeList.from_arrays([], [], []),
        metadata=metadata,
        qparams=qparams,
        extra={k: v for k, v in doc.items() if k not in _TOP_KEYS},
    )
    graph.edges, graph.link_extra = _read_links(doc["links"], nodes.ids.tolist())
    graph.node_extra = _node_overrides(graph, doc["nodes"], node_extra)
    return graph


def _read_nodes(raw: list, schema_version: Any, n_positions: int) -> tuple[NodeTable, dict[int, dict]]:
    """The node table; layers and positions must lie within the graph's own counts (they size the layout)."""
    n = len(raw)
    table = NodeTable.empty(n)
    node_ids: list[str] = [""] * n
    kinds = np.zeros(n, dtype=np.int8)
    layers = np.zeros(n, dtype=np.int64)
    positions = np.zeros(n, dtype=np.int64)
    features = np.full(n, -1, dtype=np.int64)
    labels: list[str] = [""] * n
    ftypes: list[str] = [""] * n
    logit_tokens: list[str] = [""] * n
    unknown: dict[int, dict] = {}
    legacy = not (isinstance(schema_version, int) and schema_version >= 1)
    for i, node in enumerate(raw):
        if not isinstance(node, dict):
            raise GraphFormatError(f"nodes[{i}] is {json_type_phrase(node)}, expected an object")
        nid = node.get("node_id")
        if not isinstance(nid, str):
            raise GraphFormatError(f"nodes[{i}].node_id is missing or not a string")
        node_ids[i] = nid
        ftype = node.get("feature_type", "")
        ftype = ftype if isinstance(ftype, str) else str(ftype)
        ftypes[i] = ftype
        clerp = node.get("clerp", "")
        labels[i] = clerp if isinstance(clerp, str) else ("" if clerp is None else str(clerp))
        raw_layer = node.get("layer")
        position = node.get("ctx_idx")
        if not isinstance(position, int) or isinstance(position, bool):
            position = _id_part(nid, 2)
            if position is None:
                raise GraphFormatError(f"nodes[{i}] ({nid}): ctx_idx is missing or not an integer")
        if not 0 <= position < n_positions:
            raise GraphFormatError(_position_problem(i, nid, position, n_positions))
        positions[i] = position
        kind = _node_kind(nid, raw_layer, ftype, labels[i])
        kinds[i] = kind
        if kind == NodeKind.EMBEDDING:
            layers[i] = EMBEDDING_LAYER
            vocab = _id_part(nid, 1)
            features[i] = vocab if vocab is not None else -1
        else:
            layer = _as_int(raw_layer)
            if layer is None:
                layer = _id_part(nid, 0)
                if layer is None:
                    raise GraphFormatError(f"nodes[{i}] ({nid}): layer {raw_layer!r} is not an int or 'E'")
            if not -1 <= layer <= MAX_LAYERS:
                raise GraphFormatError(
                    f"nodes[{i}] ({clip(nid, 60)}): layer {clip(str(layer), 30)} is out of range "
                    f"(0 to {MAX_LAYERS}; run `attrgraph validate` for every problem)"
                )
            layers[i] = layer
            if kind == NodeKind.LOGIT:
                features[i], logit_tokens[i], table.logit_probability[i] = _logit_fields(node, nid, labels[i])
            elif kind == NodeKind.FEATURE:
                features[i] = _feature_index(nid, layer, node.get("feature"), legacy)
        table.activation[i] = _as_float(node.get("activation"))
        table.influence[i] = _as_float(node.get("influence"))
        extra_keys = node.keys() - _DERIVED_NODE_KEYS
        if extra_keys:
            unknown[i] = {k: node[k] for k in node if k in extra_keys}
    table.ids = np.array(node_ids, dtype=object)
    table.kind = kinds
    table.layer = layers.astype(np.int32)
    table.position = positions.astype(np.int32)
    table.feature = features
    table.label = np.array(labels, dtype=object)
    table.feature_type = np.array(ftypes, dtype=object)
    table.logit_token = np.array(logit_tokens, dtype=object)
    return table, unknown


def _position_problem(i: int, nid: str, position: int, n_positions: int) -> str:
    where = (
        f"the prompt's {n_positions} tokens (metadata.prompt_tokens)"
        if n_positions != MAX_POSITIONS
        else f"0 to {MAX_POSITIONS - 1}"
    )
    return (
        f"nodes[{i}] ({clip(nid, 60)}): ctx_idx {clip(str(position), 30)} is outside {where}; "
        "run `attrgraph validate` for every problem"
    )


def _logit_fields(node: dict, nid: str, clerp: str) -> tuple[int, str, float]:
    """(vocab id, token text, probability) of a logit node, from its id, clerp and `token_prob`."""
    vocab = _id_part(nid, 1)
    if vocab is None:
        vocab = _as_int(node.get("feature"))
        vocab = vocab if vocab is not None and abs(vocab) < _INT64_LIMIT else None
    parsed = ids.parse_logit_clerp(clerp)
    token = parsed[0] if parsed is not None else ""
    prob = node.get("token_prob")
    if _is_number(prob) and (prob or parsed is None):
        probability = float(prob)
    else:
        probability = parsed[1] if parsed is not None else math.nan
    return (vocab if vocab is not None else -1), token, probability


def _node_kind(nid: str, layer: Any, ftype: str, clerp: str) -> NodeKind:
    lowered = ftype.lower()
    if layer == "E" or lowered == "embedding" or (not ftype and nid.startswith("E_")):
        return NodeKind.EMBEDDING
    if lowered == "logit" or (not ftype and ids.parse_logit_clerp(clerp) is not None):
        return NodeKind.LOGIT
    if "error" in lowered or (not ftype and "_-1_" in nid):
        return NodeKind.ERROR
    return NodeKind.FEATURE


def _feature_index(nid: str, layer: int, feature: Any, legacy: bool) -> int:
    """Index of a transcoder feature inside its layer: from the id, else decoded from `feature`."""
    id_layer, id_index = _id_part(nid, 0), _id_part(nid, 1)
    if id_layer == layer and id_index is not None and id_index >= 0:
        return id_index
    value = _as_int(feature)
    if value is None or not 0 <= value < _INT64_LIMIT:
        return -1
    if legacy:
        return value % ids.LEGACY_FEATURE_STRIDE
    return ids.cantor_unpair(value)[1]


def _id_part(nid: str, k: int) -> int | None:
    parts = nid.split("_")
    if len(parts) != 3:
        return None
    try:
        value = int(parts[k]) if len(parts[k]) < 19 else None  # an int64 column holds it
    except ValueError:
        return None
    return value


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return math.nan


def _read_links(raw: list, node_ids: list[str]) -> tuple[EdgeList, dict[int, dict]]:
    index = {nid: i for i, nid in enumerate(node_ids)}
    n = len(raw)
    try:
        lookup = index.__getitem__
        source = np.fromiter(map(lookup, map(itemgetter("source"), raw)), dtype=np.int32, count=n)
        target = np.fromiter(map(lookup, map(itemgetter("target"), raw)), dtype=np.int32, count=n)
        weight = np.fromiter(map(itemgetter("weight"), raw), dtype=np.float64, count=n)
    except (KeyError, TypeError, ValueError):
        _explain_bad_link(raw, index)
        raise
    extra: dict[int, dict] = {}
    sizes = np.fromiter(map(len, raw), dtype=np.int64, count=n)
    for k in np.flatnonzero(sizes != len(_LINK_KEYS)).tolist():
        link = raw[k]
        extra[k] = {key: link[key] for key in link if key not in _LINK_KEYS}
    return EdgeList(source, target, weight), extra


def _explain_bad_link(raw: list, index: dict[str, int]) -> None:
    for k, link in enumerate(raw):
        if not isinstance(link, dict):
            raise GraphFormatError(f"links[{k}] is {json_type_phrase(link)}, expected an object")
        for key in ("source", "target"):
            if key not in link:
                raise GraphFormatError(f"links[{k}] has no '{key}'")
            if not isinstance(link[key], str) or link[key] not in index:
                raise GraphFormatError(f"links[{k}].{key} {link[key]!r} is not the id of any node")
        weight = link.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise GraphFormatError(f"links[{k}].weight is {weight!r}, expected a number")
    raise GraphFormatError("malformed links")


def _node_overrides(graph: AttributionGraph, raw: list, unknown: dict[int, dict]) -> dict[int, dict]:
    """Per node: the keys whose file value differs from what the writer would derive, plus unknown keys."""
    context = _WriteContext(graph)
    overrides: dict[int, dict] = {}
    for i, node in enumerate(raw):
        derived = context.node(i)
        diff = {}
        for key in _DERIVED_NODE_KEYS:
            if key in node and not _same(node[key], derived[key]):
                diff[key] = node[key]
        if i in unknown:
            diff.update(unknown[i])
        if diff:
            overrides[i] = diff
    return overrides


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b) and not (_is_number(a) and _is_number(b)):
        return False
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---------------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------------
class _WriteContext:
    """Derives each node's JSON fields from the node table (shared by the writer and the reader)."""

    def __init__(self, graph: AttributionGraph) -> None:
        t = graph.nodes
        self.t = t
        schema_version = graph.metadata.get("schema_version", 1)
        self.schema_version = schema_version if isinstance(schema_version, int) else None
        self.ids = t.ids.tolist()
        self.kind = t.kind.tolist()
        self.layer = t.layer.tolist()
        self.position = t.position.tolist()
        self.feature = t.feature.tolist()
        self.activation = _nullable(t.activation)
        self.influence = _nullable(t.influence)
        self.label = t.label.tolist()
        self.prob = t.logit_probability.tolist()
        self.ftype = t.feature_type.tolist()
        logits = np.flatnonzero(t.kind == NodeKind.LOGIT)
        self.target_logit = int(logits[0]) if len(logits) else -1

    def node(self, i: int) -> dict[str, Any]:
        kind = self.kind[i]
        layer, pos, feat = self.layer[i], self.position[i], self.feature[i]
        prob = self.prob[i]
        if kind == NodeKind.FEATURE:
            feature = ids.feature_number(layer, feat, self.schema_version) if feat >= 0 else None
            js = f"{layer}_{feat}-0"
        elif kind == NodeKind.ERROR:
            feature, js = -1, f"{layer}_{pos}-0"
        elif kind == NodeKind.EMBEDDING:
            feature, js = pos, f"E_{feat}-{pos}"
        else:
            feature, js = feat, f"L_{feat}-{pos}"
        return {
            "node_id": self.ids[i],
            "feature": feature,
            "layer": "E" if kind == NodeKind.EMBEDDING else str(layer),
            "ctx_idx": pos,
            "feature_type": self.ftype[i] or DEFAULT_FEATURE_TYPE[NodeKind(kind)],
            "token_prob": prob if kind == NodeKind.LOGIT and prob == prob else 0.0,
            "is_target_logit": i == self.target_logit,
            "run_idx": 0,
            "reverse_ctx_idx": 0,
            "jsNodeId": js,
            "clerp": self.label[i],
            "influence": self.influence[i],
            "activation": self.activation[i],
        }


def _nullable(column: np.ndarray) -> list[float | None]:
    values = column.astype(np.float64).tolist()
    if np.isnan(column).any():
        return [None if v != v else v for v in values]
    return values


def graph_to_document(graph: AttributionGraph) -> dict[str, Any]:
    """The graph as a Neuronpedia graph JSON document (plain dicts and lists)."""
    context = _WriteContext(graph)
    nodes = []
    for i in range(len(graph.nodes)):
        node = context.node(i)
        extra = graph.node_extra.get(i)
        if extra:
            node.update(extra)
        nodes.append(node)
    links = _links(graph, context.ids)
    metadata = dict(graph.metadata)
    for key, default in (
        ("slug", ""),
        ("scan", ""),
        ("transcoder_list", []),
        ("prompt_tokens", []),
        ("prompt", ""),
    ):
        metadata.setdefault(key, default)
    qparams = dict(graph.qparams) if graph.qparams else dict(_DEFAULT_QPARAMS)
    doc: dict[str, Any] = {"metadata": metadata, "qParams": qparams, "nodes": nodes, "links": links}
    for key, value in graph.extra.items():
        if key not in doc:
            doc[key] = value
    return doc


def _links(graph: AttributionGraph, node_ids: list[str]) -> list[dict[str, Any]]:
    e = graph.edges
    sources = [node_ids[s] for s in e.source.tolist()]
    targets = [node_ids[t] for t in e.target.tolist()]
    links = [
        {"source": s, "target": t, "weight": w}
        for s, t, w in zip(sources, targets, e.weight.astype(np.float64).tolist(), strict=True)
    ]
    for k, extra in graph.link_extra.items():
        links[k].update(extra)
    return links


def dumps(graph: AttributionGraph, *, indent: bool = False) -> bytes:
    """The graph as UTF-8 JSON bytes (NaN weights are written as null, as JSON has no NaN)."""
    import orjson

    option = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(graph_to_document(graph), option=option)
    except TypeError as exc:
        raise GraphFormatError(f"the graph holds a value that JSON cannot represent ({exc})") from None


def write_json(graph: AttributionGraph, path: str | os.PathLike[str], *, indent: bool = False) -> None:
    """Write the graph as Neuronpedia graph JSON, atomically."""
    atomic_write_bytes(path, dumps(graph, indent=indent))
