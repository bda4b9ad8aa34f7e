"""Semantic checks on `nodes`: what Neuronpedia's schema cannot say about them."""

from __future__ import annotations

import math

import numpy as np

from attrgraph_cli.graph.ids import parse_logit_clerp
from attrgraph_cli.graph.model import MAX_LAYERS
from attrgraph_cli.validate.columns import _UNSET
from attrgraph_cli.validate.context import BAD_LAYER, ERROR, FEATURE, LOGIT, GraphContext
from attrgraph_cli.validate.problems import Problem


def check_duplicate_ids(ctx: GraphContext) -> None:
    ids = ctx.cols.node_id
    index = ctx.index
    dups = [i for i, node_id in enumerate(ids) if node_id is not None and index[node_id] != i]
    ctx.report(
        "nodes.duplicate-id",
        dups,
        lambda i: Problem(
            f"nodes[{i}].node_id",
            f"node id {ids[i]!r} is used again (first by nodes[{index[ids[i]]}])",
            "node ids unique in the graph",
            rule="nodes.duplicate-id",
        ),
    )


def check_ctx_idx(ctx: GraphContext) -> None:
    tokens = ctx.prompt_tokens
    if tokens is None:
        return
    n = len(tokens)
    raw = ctx.cols.ctx_idx
    bad = [
        i
        for i, v in enumerate(raw)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not (0 <= v < n)
    ]
    ctx.report(
        "nodes.ctx-idx",
        bad,
        lambda i: Problem(
            f"nodes[{i}].ctx_idx",
            f"ctx_idx {raw[i]!r} is outside the prompt's {n} tokens",
            f"0 <= ctx_idx < {n} (len(metadata.prompt_tokens))",
            rule="nodes.ctx-idx",
        ),
    )


def check_layers(ctx: GraphContext) -> None:
    layer, kind = ctx.layer, ctx.kind
    raw = ctx.cols.layer
    unparsable = np.flatnonzero((layer == BAD_LAYER) & np.array([v is not None for v in raw], dtype=bool))
    ctx.report(
        "nodes.layer",
        unparsable,
        lambda i: Problem(
            f"nodes[{i}].layer",
            f'layer {raw[i]!r} is neither a layer number nor "E"',
            'a non-negative integer (or a string of one), or "E" for embeddings',
            rule="nodes.layer",
        ),
    )
    n_layers, how = ctx.n_layers
    inner = ((kind == FEATURE) | (kind == ERROR)) & (layer != BAD_LAYER)
    # an inferred n_layers bounds error nodes only (features define it); a recorded one bounds both
    bounded = inner if how.startswith("metadata") else kind == ERROR
    too_high = (layer >= n_layers) & bounded if n_layers is not None else np.zeros_like(inner)
    bad = np.flatnonzero(inner & ((layer < 0) | too_high | (layer > MAX_LAYERS)))
    ctx.report(
        "nodes.impossible-layer",
        bad,
        lambda i: Problem(
            f"nodes[{i}].layer",
            f"{ctx.cols.feature_type[i]} node at layer {_short(raw[i])}, which the model does not have",
            f"0 <= layer < n_layers ({how})",
            rule="nodes.impossible-layer",
        ),
    )


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def check_logits(ctx: GraphContext) -> None:
    kind, clerp = ctx.kind, ctx.cols.clerp
    logits = np.flatnonzero(kind == LOGIT)
    if len(logits) == 0:  # an empty graph included: nothing to attribute to
        ctx.sink.add(
            "graph.no-logit",
            "nodes",
            'the graph has no logit node (feature_type "logit"): nothing to attribute to',
            "at least one logit node",
        )
    bad: list[int] = []
    reasons: dict[int, str] = {}
    for i in logits.tolist():
        text = clerp[i]
        if text is None:
            continue
        parsed = parse_logit_clerp(text)
        if parsed is None:
            bad.append(i)
            reasons[i] = f'logit clerp {text[:60]!r} is not of the form Output "…" (p=…)'
        elif not (0.0 <= parsed[1] <= 1.0):
            bad.append(i)
            reasons[i] = f"logit clerp's probability {parsed[1]!r} is outside [0, 1]"
    ctx.report(
        "nodes.logit-clerp",
        bad,
        lambda i: Problem(
            f"nodes[{i}].clerp", reasons[i], 'Output " token" (p=0.123)', rule="nodes.logit-clerp"
        ),
    )


def _present(values: list) -> tuple[np.ndarray, np.ndarray]:
    """(float array with NaN where absent/null, mask of present numbers)."""
    present = np.array([type(v) is not type(None) and v is not _UNSET for v in values], dtype=bool)
    arr = np.array([v if p else math.nan for v, p in zip(values, present.tolist(), strict=True)], dtype=float)
    return arr, present


def check_numbers(ctx: GraphContext) -> None:
    """NaN/inf activations and influences, influence outside [0, 1], and missing values the viewer uses."""
    kind = ctx.kind
    for name, values in (("influence", ctx.cols.influence), ("activation", ctx.cols.activation)):
        arr, present = _present(values)
        finite = np.isfinite(arr)
        bad = np.flatnonzero(present & ~finite)
        ctx.report(
            f"nodes.{name}-not-finite",
            bad,
            lambda i, name=name, arr=arr: Problem(
                f"nodes[{i}].{name}",
                f"{name} is {float(arr[i])!r}",
                "a finite number",
                rule=f"nodes.{name}-not-finite",
            ),
        )
        if name == "influence":
            out = np.flatnonzero(present & finite & ((arr < 0) | (arr > 1)))
            ctx.report(
                "nodes.influence-range",
                out,
                lambda i, arr=arr: Problem(
                    f"nodes[{i}].influence",
                    f"influence {float(arr[i])!r} is outside [0, 1]",
                    "a cumulative influence share in [0, 1]",
                    rule="nodes.influence-range",
                ),
            )
        wanted = (kind == FEATURE) | (kind == ERROR) if name == "influence" else kind == FEATURE
        missing = np.flatnonzero(wanted & ~present)
        ctx.report(
            f"nodes.{name}-missing",
            missing,
            lambda i, name=name: Problem(
                f"nodes[{i}].{name}",
                f"{name} is missing"
                + (
                    " (the viewer's pruning slider uses it)"
                    if name == "influence"
                    else " (the viewer shows it)"
                ),
                "a number",
                severity="warning",
                rule=f"nodes.{name}-missing",
            ),
        )


ALL = (check_duplicate_ids, check_ctx_idx, check_layers, check_logits, check_numbers)
