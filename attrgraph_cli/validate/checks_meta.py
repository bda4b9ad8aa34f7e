"""Semantic checks on the small parts: metadata, qParams (pins, supernodes), QK tracing results.

Also the schema's `prefixItems` tuples (`[q_node_id, k_node_id, attribution]`), which draft-07
validators, Neuronpedia's included, silently ignore.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from attrgraph_cli.graph.model import MAX_LAYERS
from attrgraph_cli.io import json_paths as paths
from attrgraph_cli.validate.context import FEATURE, GraphContext
from attrgraph_cli.validate.problems import ProblemSink
from attrgraph_cli.validate.schema import _TYPE_TESTS, GRAPH_SCHEMA, _describe, load_schema

#: optional metadata fields that the Neuronpedia viewer reads: (field, why)
VIEWER_METADATA = (
    ("info", "the viewer's info panel shows it (generator, creator, source URLs)"),
    ("node_threshold", "the viewer's default pruning threshold"),
)

TupleCheck = Callable[[Any, str, ProblemSink], None]


def _tuple_check(schema: dict) -> TupleCheck | None:
    """A walker that checks every `prefixItems` under `schema`, or None when there are none."""
    if not isinstance(schema, dict):
        return None
    if "prefixItems" in schema:
        expected = [s.get("type") for s in schema["prefixItems"]]

        def check_tuple(v: Any, path: str, sink: ProblemSink) -> None:
            if not isinstance(v, list):
                return
            for j, (item, want) in enumerate(zip(v, expected, strict=False)):
                names = [want] if isinstance(want, str) else list(want or [])
                if names and not any(_TYPE_TESTS[t](item) for t in names):
                    sink.add(
                        "schema.prefixItems",
                        paths.index(path, j),
                        f"tuple item is {_describe(item)}",
                        " or ".join(names),
                    )

        return check_tuple
    subs = {k: c for k, s in schema.get("properties", {}).items() if (c := _tuple_check(s)) is not None}
    items = _tuple_check(schema.get("items"))
    extra = _tuple_check(schema.get("additionalProperties"))
    if not subs and items is None and extra is None:
        return None

    def walk(v: Any, path: str, sink: ProblemSink) -> None:
        if isinstance(v, dict):
            for k, c in subs.items():
                if k in v:
                    c(v[k], paths.key(path, k), sink)
            if extra is not None:
                for k, value in v.items():
                    if k not in subs:
                        extra(value, paths.key(path, k), sink)
        if isinstance(v, list) and items is not None:
            for i, item in enumerate(v):
                items(item, paths.index(path, i), sink)

    return walk


@cache
def qk_tuple_check() -> TupleCheck | None:
    node_schema = load_schema(GRAPH_SCHEMA)["properties"]["nodes"]["items"]
    return _tuple_check(node_schema.get("properties", {}).get("qk_tracing_results", {}))


def check_metadata(ctx: GraphContext) -> None:
    meta, sink = ctx.cols.metadata, ctx.sink
    for name, why in VIEWER_METADATA:
        if name not in meta:
            sink.add(
                f"metadata.{name}-missing",
                f"metadata.{name}",
                f"optional field is missing: {why}",
                "present",
                severity="warning",
            )
    threshold = meta.get("node_threshold")
    if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and not 0 <= threshold <= 1:
        sink.add(
            "metadata.node-threshold",
            "metadata.node_threshold",
            f"node_threshold {threshold!r} is outside [0, 1]",
            "a cumulative-influence share in [0, 1]",
        )
    for path, value in ctx.recorded_n_layers:
        if not 1 <= value <= MAX_LAYERS:
            sink.add(
                "metadata.n-layers",
                path,
                f"n_layers {_clip_int(value)} is not a possible number of layers",
                f"1 to {MAX_LAYERS}",
            )
    tokens = ctx.prompt_tokens
    if tokens is not None and not tokens:
        sink.add(
            "metadata.prompt-tokens-empty",
            "metadata.prompt_tokens",
            "the prompt has no tokens",
            "one string per prompt token",
            severity="warning",
        )
    if "schema_version" not in meta and (ctx.kind == FEATURE).any():
        sink.add(
            "metadata.schema-version-missing",
            "metadata.schema_version",
            "schema_version is missing: `feature` numbers are read with the legacy layer*100000+index "
            "convention instead of circuit-tracer's Cantor pairing",
            "1 (circuit-tracer >= 0.2)",
            severity="warning",
        )


def check_qparams(ctx: GraphContext) -> None:
    q, sink, index = ctx.cols.qparams, ctx.sink, ctx.index
    pinned = q.get("pinnedIds")
    if isinstance(pinned, list):
        for i, node_id in enumerate(pinned):
            if isinstance(node_id, str) and node_id not in index:
                sink.add(
                    "qparams.unknown-node",
                    f"qParams.pinnedIds[{i}]",
                    f"pinned id {node_id!r} is not a node",
                    "a node_id of `nodes`",
                    severity="warning",
                )
    clicked = q.get("clickedId")
    if isinstance(clicked, str) and clicked and clicked not in index:
        sink.add(
            "qparams.unknown-node",
            "qParams.clickedId",
            f"clicked id {clicked!r} is not a node",
            "a node_id of `nodes` or empty",
            severity="warning",
        )
    supernodes = q.get("supernodes")
    if not isinstance(supernodes, list):
        return
    for i, group in enumerate(supernodes):
        path = f"qParams.supernodes[{i}]"
        if not isinstance(group, list) or not group or not all(isinstance(x, str) for x in group):
            sink.add(
                "qparams.supernode",
                path,
                f"supernode is {_describe(group)}",
                "an array of strings: [name, node_id, node_id, ...]",
            )
            continue
        for j, node_id in enumerate(group[1:], start=1):
            if node_id not in index:
                sink.add(
                    "qparams.unknown-node",
                    f"{path}[{j}]",
                    f"supernode member {node_id!r} is not a node",
                    "a node_id of `nodes`",
                    severity="warning",
                )


def check_qk(ctx: GraphContext) -> None:
    tuples = qk_tuple_check()
    known = ctx.index.keys() | ctx.cols.qk_only_nodes.keys()
    for i, results in ctx.cols.qk_results:
        base = f"nodes[{i}].qk_tracing_results"
        if tuples is not None:
            tuples(results, base, ctx.sink)
        for name, width in (
            ("pair_wise_contributors", 2),
            ("top_q_marginal_contributors", 1),
            ("top_k_marginal_contributors", 1),
        ):
            rows = results.get(name)
            if not isinstance(rows, list):
                continue
            for r, row in enumerate(rows):
                if not isinstance(row, list):
                    continue
                for j, node_id in enumerate(row[:width]):
                    if isinstance(node_id, str) and node_id not in known:
                        ctx.sink.add(
                            "nodes.qk-unknown-node",
                            f"{base}.{name}[{r}][{j}]",
                            f"contributor {node_id!r} is neither a node nor in qk_only_nodes",
                            "a node_id of `nodes` or a key of `qk_only_nodes`",
                        )


ALL = (check_metadata, check_qparams, check_qk)


def _clip_int(value: int) -> str:
    text = str(value)
    return text if len(text) <= 20 else f"{text[:8]}…({len(text)} digits)"
