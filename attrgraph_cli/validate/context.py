"""What the semantic checks of a graph share: its columns, the node-id index, node kinds and layers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from attrgraph_cli.validate.columns import GraphColumns
from attrgraph_cli.validate.problems import Problem, ProblemSink

# node kinds as the semantic checks see them (from `feature_type`)
EMBEDDING, FEATURE, ERROR, LOGIT, UNKNOWN = 0, 1, 2, 3, -1
#: a layer that is not an integer and not "E"
BAD_LAYER = -(1 << 30)
#: layer numbers are clamped to +-this (a bigger one is reported as impossible, not overflowed)
LAYER_CLAMP = 1 << 40


def kind_of(feature_type: str | None) -> int:
    if feature_type is None:
        return UNKNOWN
    if feature_type == "embedding":
        return EMBEDDING
    if feature_type == "logit":
        return LOGIT
    if "error" in feature_type:
        return ERROR
    return FEATURE


def layer_number(value: object) -> int:
    """`"E"` -> -1, `"12"` / `12` -> 12, anything else -> BAD_LAYER."""
    if isinstance(value, int) and not isinstance(value, bool):
        return max(min(value, LAYER_CLAMP), -LAYER_CLAMP)  # fits the int64 column, still out of range
    if isinstance(value, str):
        if value == "E":
            return -1
        body = value[1:] if value[:1] == "-" else value
        if body.isdigit() and body.isascii():
            return layer_number(int(value)) if len(body) < 4000 else LAYER_CLAMP
    return BAD_LAYER


@dataclass
class GraphContext:
    cols: GraphColumns
    sink: ProblemSink

    def report(self, rule: str, rows: Sequence[int] | np.ndarray, make: Callable[[int], Problem]) -> None:
        """Record one problem per row of `rows`, building only as many as the cap keeps."""
        total = len(rows)
        if total:
            keep = rows[: self.sink.room(rule)]
            self.sink.add_many(rule, total, [make(int(i)) for i in keep])

    @cached_property
    def index(self) -> dict[str | None, int]:
        """node_id -> first row; None (an id of the wrong type) maps to -2 so lookups need no branch."""
        index: dict[str | None, int] = {}
        for i, node_id in enumerate(self.cols.node_id):
            if node_id is not None and node_id not in index:
                index[node_id] = i
        index[None] = -2
        return index

    @cached_property
    def kind(self) -> np.ndarray:
        return np.array([kind_of(t) for t in self.cols.feature_type], dtype=np.int8)

    @cached_property
    def layer(self) -> np.ndarray:
        return np.array([layer_number(v) for v in self.cols.layer], dtype=np.int64)

    @cached_property
    def prompt_tokens(self) -> list | None:
        tokens = self.cols.metadata.get("prompt_tokens")
        return tokens if isinstance(tokens, list) else None

    @cached_property
    def recorded_n_layers(self) -> tuple[tuple[str, int], ...]:
        """(path, value) of each integer `n_layers` the metadata records (in `metadata`, then `info`)."""
        meta = self.cols.metadata
        info = meta.get("info")
        found = (
            ("metadata.n_layers", meta.get("n_layers")),
            ("metadata.info.n_layers", info.get("n_layers") if isinstance(info, dict) else None),
        )
        return tuple((w, v) for w, v in found if isinstance(v, int) and not isinstance(v, bool))

    @cached_property
    def n_layers(self) -> tuple[int | None, str]:
        """(number of model layers, how it was found); None when nothing tells."""
        for where, value in self.recorded_n_layers:
            if value > 0:
                return value, f"{where} = {value}"
        logit_layers = self.layer[(self.kind == LOGIT) & (self.layer != BAD_LAYER)]
        if len(logit_layers):
            top = int(logit_layers.min()) - 1
            features = self.layer[(self.kind == FEATURE) & (self.layer != BAD_LAYER)]
            n = max(top, int(features.max()) + 1 if len(features) else 0)
            return n, f"{n} layers, inferred from the logit nodes' layer {top + 1} and the feature layers"
        return None, "unknown (no logit nodes and no metadata.n_layers)"
