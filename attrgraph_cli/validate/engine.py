"""Validate one document: schema (fast msgspec decode, precise fallback), then the semantic checks."""

from __future__ import annotations

import gc
import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

import msgspec
import orjson

from attrgraph_cli.io import json_paths as paths
from attrgraph_cli.io.json_text import UnreadableInput, non_standard_numbers, parse_precise
from attrgraph_cli.validate import checks_extension, checks_links, checks_meta, checks_nodes
from attrgraph_cli.validate.checks_feature_details import check_feature_details
from attrgraph_cli.validate.columns import GraphColumns
from attrgraph_cli.validate.context import GraphContext
from attrgraph_cli.validate.problems import Problem, ProblemSink
from attrgraph_cli.validate.schema import (
    EXTRA_RAW_MEMBERS,
    FEATURE_DETAILS_SCHEMA,
    GRAPH_SCHEMA,
    FastDecoder,
    fast_decoder,
    json_type_name,
    precise_validator,
)

Kind = Literal["graph", "feature-details"]
GRAPH_CHECKS = checks_nodes.ALL + checks_links.ALL + checks_meta.ALL + checks_extension.ALL
_GRAPH_KEYS = {"nodes", "links", "metadata", "qParams"}
_FEATURE_KEYS = {"index", "examples_quantiles", "top_logits", "bottom_logits"}


@dataclass
class DocumentResult:
    """What validating one document found, with its size."""

    kind: Kind
    sink: ProblemSink
    n_nodes: int = 0
    n_links: int = 0
    fast_path: bool = False


def sniff_kind(doc: Any, file_name: str | None = None) -> Kind:
    """Graph or feature-details file, from its keys (then its name: `123.json` is a feature)."""
    if isinstance(doc, dict):
        if doc.keys() & _GRAPH_KEYS:
            return "graph"
        if doc.keys() & _FEATURE_KEYS:
            return "feature-details"
    if file_name is not None and PurePath(file_name).stem.isdigit():
        return "feature-details"
    return "graph"


def check_graph_columns(cols: GraphColumns, sink: ProblemSink) -> None:
    """Every semantic graph check over the columns."""
    ctx = GraphContext(cols, sink)
    for check in GRAPH_CHECKS:
        check(ctx)


def _report_non_standard(doc: Any, sink: ProblemSink) -> None:
    """Point at every NaN / Infinity token (not JSON; JSON.parse in browsers rejects the file)."""
    for path, value in non_standard_numbers(doc):
        sink.add(
            "json.non-standard-number",
            path,
            f"`{value.token}` is not valid JSON (JSON.parse and Neuronpedia reject the file)",
            "a JSON number",
        )


def _check_document(doc: Any, kind: Kind, file_name: str | None, sink: ProblemSink) -> DocumentResult:
    schema = GRAPH_SCHEMA if kind == "graph" else FEATURE_DETAILS_SCHEMA
    if not isinstance(doc, dict):
        sink.add(
            "schema.type",
            paths.ROOT,
            f"the file holds a JSON {json_type_name(doc)}, not a {kind} object",
            "a JSON object (metadata, qParams, nodes, links)" if kind == "graph" else "a JSON object",
        )
        return DocumentResult(kind, sink)
    precise_validator(schema).validate(doc, sink)
    if kind == "feature-details":
        check_feature_details(doc, file_name, sink)
        return DocumentResult(kind, sink)
    cols = GraphColumns.from_dict(doc)
    check_graph_columns(cols, sink)
    return DocumentResult(kind, sink, cols.n_nodes, cols.n_links)


def validate_bytes(
    data: bytes, name: str, *, max_per_rule: int | None = None, kind: Kind | None = None
) -> DocumentResult:
    """Validate a JSON file's bytes. Raises `UnreadableInput` when they are not JSON at all.

    Fast path: msgspec decodes straight into the schema's types (types and required fields checked at
    C speed), then the semantic checks run over columns. When msgspec refuses the document, the precise
    path parses it again with Python's json and reports every schema problem with its path.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of fresh objects, no cycles: collections would only rescan them
    try:
        return _validate_bytes(data, name, max_per_rule, kind)
    finally:
        if gc_was_enabled:
            gc.enable()


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_surrogates(data: bytes, name: str) -> None:
    """A `\\ud800` escape without its pair is not Unicode: refused here as convert and render refuse it."""
    if _SURROGATE_ESCAPE.search(data) is None:
        return
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "surrogate" in str(exc):
            raise UnreadableInput(f"{name}: invalid JSON ({exc})") from None


#: files up to this size are also scanned for duplicate object keys (a slower, pure-Python parse)
DUPLICATE_SCAN_BYTES = 4 << 20


def _check_duplicate_keys(data: bytes, sink: ProblemSink) -> None:
    """Warn about keys repeated in one object: every JSON reader silently keeps only the last value."""
    if len(data) > DUPLICATE_SCAN_BYTES or data.count(b'"') < 4:
        return
    repeated: dict[str, int] = {}

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(items) > 1:
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    repeated[key] = repeated.get(key, 0) + 1
                seen.add(key)
        return dict(items)

    try:
        json.loads(data, object_pairs_hook=pairs, parse_constant=float)
    except (ValueError, RecursionError):
        return  # not JSON at all: the other checks say so
    for key, count in sorted(repeated.items()):
        sink.add(
            "json.duplicate-key",
            paths.ROOT,
            f"key {key[:80]!r} appears twice in one object ({count}x in the file); readers keep only the "
            "last value",
            "each key once per object",
            severity="warning",
        )


def _validate_bytes(data: bytes, name: str, max_per_rule: int | None, kind: Kind | None) -> DocumentResult:
    sink = ProblemSink(max_per_rule)
    _check_surrogates(data, name)
    _check_duplicate_keys(data, sink)
    if kind in (None, "graph") and (decoder := fast_decoder(GRAPH_SCHEMA)) is not None:
        try:
            doc = decoder.root.decode(data)
            members = {}
            for member, member_decoder in decoder.members.items():
                raw = getattr(doc, member, msgspec.UNSET)
                if raw is not msgspec.UNSET:
                    member_decoder.decode(raw)  # types of the member, checked
                    members[member] = msgspec.json.decode(raw)  # all of its keys
            for member in EXTRA_RAW_MEMBERS:
                raw = getattr(doc, member, msgspec.UNSET)
                if raw is not msgspec.UNSET:
                    members[member] = msgspec.json.decode(raw)
            links, endpoints_checked = _decode_links(decoder, doc)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            pass  # the precise path below explains it (nesting too deep included)
        else:
            cols = GraphColumns.from_struct(doc, links, members, endpoints_checked)
            del doc, links
            check_graph_columns(cols, sink)
            return DocumentResult("graph", sink, cols.n_nodes, cols.n_links, fast_path=True)
    doc, n_non_standard = parse_precise(data, name)
    if n_non_standard:
        _report_non_standard(doc, sink)
    return _check_document(doc, kind or sniff_kind(doc, name), name, sink)


def _decode_links(decoder: FastDecoder, doc: Any) -> tuple[list, bool]:
    """Decode the links, with endpoints checked against the node ids in C when they all match
    (the usual case); else with the schema's types only. Raises msgspec errors for schema problems."""
    endpoint_decoder = decoder.links_with_endpoints([n.node_id for n in doc.nodes])
    if endpoint_decoder is not None:
        try:
            return endpoint_decoder.decode(doc.links), True
        except msgspec.ValidationError:
            pass  # an unknown endpoint or a schema problem: tell which below
    return decoder.deferred["links"].decode(doc.links), False


def validate_document(
    doc: Any, *, kind: Kind | None = None, file_name: str | None = None, max_per_rule: int | None = None
) -> list[Problem]:
    """Every problem (schema and semantic, errors and warnings) of a decoded graph or feature-details doc.

    `max_per_rule` keeps only that many problems of each rule (None: all).
    """
    sink = ProblemSink(max_per_rule)
    _check_document(doc, kind or sniff_kind(doc, file_name), file_name, sink)
    return sink.problems


def validate_graph(graph: Any, *, max_per_rule: int | None = None) -> list[Problem]:
    """Problems of an in-memory `AttributionGraph`, as the graph JSON it writes would have them."""
    from attrgraph_cli.io.neuronpedia_json import graph_to_document

    return validate_document(graph_to_document(graph), kind="graph", max_per_rule=max_per_rule)
