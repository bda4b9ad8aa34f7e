"""Unpruned (dense) attribution graphs and their conversion to a pruned `AttributionGraph`.

Node order is circuit-tracer's: [features (F), errors (n_layers x n_pos, layer-major), tokens (n_pos),
logits (K)]; adjacency rows are targets, columns sources. `dense_to_graph` builds nodes and links the way
circuit-tracer's `create_graph_files` does (same ids, Cantor `feature`, `influence` = cumulative influence
score, logits at the last position on layer n_layers + 1, unlinked nodes dropped except embeddings and
logits), so its output matches circuit-tracer's JSON for the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attrgraph_cli.errors import GraphFormatError
from attrgraph_cli.graph import ids
from attrgraph_cli.graph.model import (
    DEFAULT_FEATURE_TYPE,
    EMBEDDING_LAYER,
    AttributionGraph,
    EdgeList,
    NodeKind,
    NodeTable,
)
from attrgraph_cli.graph.prune import (
    DEFAULT_EDGE_THRESHOLD,
    DEFAULT_NODE_THRESHOLD,
    cumulative_influence,
    prune_matrix,
)


@dataclass
class DenseGraph:
    """An unpruned graph as plain numpy arrays, in circuit-tracer node order.

    - `adjacency`: (N, N) float, rows = target, columns = source.
    - `features`: (F, 3) ints: layer, position, feature index (one row per feature node).
    - `activations`: (F,) float, or None.
    - `token_ids` (P,) / `token_strings` (P): the prompt's tokens.
    - `logit_token_ids` (K,) / `logit_tokens` (K) / `logit_probabilities` (K,): the output nodes.
    - `metadata`: extra keys merged into the written `metadata` (e.g. `info`).
    """

    adjacency: np.ndarray
    features: np.ndarray
    token_ids: np.ndarray
    token_strings: list[str]
    logit_token_ids: np.ndarray
    logit_tokens: list[str]
    logit_probabilities: np.ndarray
    n_layers: int
    activations: np.ndarray | None = None
    prompt: str = ""
    scan: str = ""
    slug: str = ""
    transcoder_list: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def n_pos(self) -> int:
        return len(self.token_ids)

    @property
    def n_logits(self) -> int:
        return len(self.logit_probabilities)

    def check(self) -> None:
        """GraphFormatError when the arrays do not describe one consistent graph."""
        a = self.adjacency
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise GraphFormatError(f"the adjacency matrix must be square (N x N), got shape {a.shape}")
        if self.features.ndim != 2 or self.features.shape[1] != 3:
            raise GraphFormatError(
                f"features must be F x 3 (layer, position, index), got {self.features.shape}"
            )
        expected = self.n_features + self.n_layers * self.n_pos + self.n_pos + self.n_logits
        if a.shape[0] != expected:
            raise GraphFormatError(
                f"the adjacency matrix is {a.shape[0]} x {a.shape[0]}, but {self.n_features} features + "
                f"{self.n_layers} layers x {self.n_pos} positions of errors + {self.n_pos} tokens + "
                f"{self.n_logits} logits = {expected} nodes"
            )
        if len(self.token_strings) != self.n_pos:
            raise GraphFormatError(f"{len(self.token_strings)} token strings for {self.n_pos} tokens")
        if len(self.logit_tokens) != self.n_logits or len(self.logit_token_ids) != self.n_logits:
            raise GraphFormatError(f"logit tokens / ids do not match the {self.n_logits} logit probabilities")
        if self.activations is not None and len(self.activations) != self.n_features:
            raise GraphFormatError(f"{len(self.activations)} activations for {self.n_features} features")
        if self.n_features:
            layer, pos = self.features[:, 0], self.features[:, 1]
            if layer.min() < 0 or layer.max() >= self.n_layers:
                raise GraphFormatError(f"feature layers must be in 0..{self.n_layers - 1}")
            if pos.min() < 0 or pos.max() >= max(self.n_pos, 1):
                raise GraphFormatError(f"feature positions must be in 0..{self.n_pos - 1}")
        if not np.isfinite(a).all():
            raise GraphFormatError("the adjacency matrix holds NaN or infinite values")
        p = np.asarray(self.logit_probabilities, dtype=np.float64)
        if not np.isfinite(p).all():
            raise GraphFormatError("logit_probabilities hold NaN or infinite values")
        if p.size and (p.min() < 0 or p.max() > 1):
            raise GraphFormatError(
                f"logit_probabilities must lie between 0 and 1, got values from {p.min():g} to {p.max():g}"
            )


def dense_to_graph(
    dense: DenseGraph,
    *,
    node_threshold: float = DEFAULT_NODE_THRESHOLD,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
    node_mask: np.ndarray | None = None,
    edge_mask: np.ndarray | None = None,
    edge_weights: np.ndarray | None = None,
) -> AttributionGraph:
    """Prune `dense` (unless both masks are given) and build the nodes and links of the pruned graph.

    `edge_weights`, when given, is where link weights are read (default: the adjacency matrix).
    Influence scores always come from the full adjacency matrix (only that phase runs when both masks
    are given).
    """
    dense.check()
    for name, value in (("node_threshold", node_threshold), ("edge_threshold", edge_threshold)):
        if not 0.0 <= value <= 1.0:
            raise GraphFormatError(f"{name} must be between 0 and 1, got {value}")
    adjacency = np.asarray(dense.adjacency, dtype=np.float32)
    probabilities = np.asarray(dense.logit_probabilities, dtype=np.float32)
    try:
        if node_mask is not None and edge_mask is not None:  # the file's own pruning: scores only
            scores = cumulative_influence(adjacency, logit_probabilities=probabilities)
            nmask, emask = np.asarray(node_mask, dtype=bool), np.asarray(edge_mask, dtype=bool)
        else:
            result = prune_matrix(
                adjacency,
                n_features=dense.n_features,
                n_tokens=dense.n_pos,
                logit_probabilities=probabilities,
                node_threshold=node_threshold,
                edge_threshold=edge_threshold,
            )
            scores = result.cumulative_scores
            nmask = result.node_mask if node_mask is None else np.asarray(node_mask, dtype=bool)
            emask = result.edge_mask if edge_mask is None else np.asarray(edge_mask, dtype=bool)
    except RuntimeError as exc:
        raise GraphFormatError(
            f"cannot prune: {exc} (does the adjacency matrix have cycles? an attribution graph is acyclic)"
        ) from None
    n = adjacency.shape[0]
    if nmask.shape != (n,) or emask.shape != (n, n):
        raise GraphFormatError(f"node / edge masks must have shapes ({n},) / ({n}, {n})")

    # links between kept nodes, in circuit-tracer's order (row-major over the edge mask); a zero weight
    # is no link, even where a mask keeps every pair (a threshold of 1.0, or a graph with no influence)
    weight_matrix = adjacency if edge_weights is None else edge_weights
    targets, sources = np.nonzero(emask & nmask[:, None] & nmask[None, :] & (weight_matrix != 0))
    weights = weight_matrix[targets, sources]

    kinds, layer, pos, feature = _node_columns(dense)
    connected = np.zeros(n, dtype=bool)
    connected[sources] = True
    connected[targets] = True
    used = nmask & (connected | (kinds == NodeKind.EMBEDDING) | (kinds == NodeKind.LOGIT))
    kept = np.flatnonzero(used)
    remap = np.full(n, -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))

    table = _node_table(dense, kept, kinds, layer, pos, feature, scores)
    edges = EdgeList.from_arrays(remap[sources], remap[targets], np.asarray(weights, dtype=np.float64))
    metadata: dict[str, Any] = {
        "slug": dense.slug,
        "scan": dense.scan,
        "transcoder_list": list(dense.transcoder_list),
        "prompt_tokens": list(dense.token_strings),
        "prompt": dense.prompt,
        "node_threshold": node_threshold,
        "schema_version": 1,
    }
    for key, value in dense.metadata.items():
        if key == "info" and isinstance(value, dict):
            metadata.setdefault("info", {}).update(value)
        else:
            metadata[key] = value
    info = metadata.setdefault("info", {})
    info.setdefault("n_layers", dense.n_layers)
    renamed = rename_colliding_error_nodes(table)
    if renamed:
        info.setdefault("attrgraph", {})["renamed_error_nodes"] = renamed
    info.setdefault(
        "pruning_settings",
        {"node_threshold": node_threshold, "edge_threshold": edge_threshold}
        if node_mask is None or edge_mask is None
        else {"masks": "from the source file"},
    )
    return AttributionGraph(
        nodes=table,
        edges=edges,
        metadata=metadata,
        qparams={"pinnedIds": [], "supernodes": [], "linkType": "both", "clickedId": "", "sg_pos": ""},
        extra=dict(dense.extra),
    )


def rename_colliding_error_nodes(nodes: NodeTable) -> dict[str, str]:
    """Give error nodes whose id is also a feature's id the other error-id convention, `{layer}_-1_{pos}`.

    circuit-tracer names the error node of layer L at position P `0_L_P`, which is also the id of feature L
    of layer 0 at position P; when both survive pruning its own `create_graph_files` writes a duplicate id.
    Readers, Neuronpedia's included, tell error nodes by `feature_type`, so only the colliding ids change.
    Returns {old id: new id}.
    """
    feature_ids = set(nodes.ids[nodes.kind == NodeKind.FEATURE].tolist())
    renamed: dict[str, str] = {}
    for row in np.flatnonzero(nodes.kind == NodeKind.ERROR):
        old = str(nodes.ids[row])
        if old in feature_ids:
            new = f"{int(nodes.layer[row])}_-1_{int(nodes.position[row])}"
            nodes.ids[row] = new
            renamed[old] = new
    return renamed


def _node_columns(dense: DenseGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """kind, layer, position, feature (index / vocab id) of every node of the dense graph."""
    f, p, k, n_layers = dense.n_features, dense.n_pos, dense.n_logits, dense.n_layers
    feats = np.asarray(dense.features, dtype=np.int64).reshape(-1, 3)
    err_layer, err_pos = np.divmod(np.arange(n_layers * p), max(p, 1))
    kinds = np.concatenate(
        [
            np.full(f, NodeKind.FEATURE),
            np.full(n_layers * p, NodeKind.ERROR),
            np.full(p, NodeKind.EMBEDDING),
            np.full(k, NodeKind.LOGIT),
        ]
    ).astype(np.int8)
    layer = np.concatenate([feats[:, 0], err_layer, np.full(p, EMBEDDING_LAYER), np.full(k, n_layers + 1)])
    pos = np.concatenate([feats[:, 1], err_pos, np.arange(p), np.full(k, p - 1)])
    feature = np.concatenate(
        [
            feats[:, 2],
            np.full(n_layers * p, -1),
            np.asarray(dense.token_ids, dtype=np.int64),
            np.asarray(dense.logit_token_ids, dtype=np.int64),
        ]
    )
    return kinds, layer, pos, feature


def _node_table(
    dense: DenseGraph,
    kept: np.ndarray,
    kinds: np.ndarray,
    layer: np.ndarray,
    pos: np.ndarray,
    feature: np.ndarray,
    scores: np.ndarray,
) -> NodeTable:
    f, p, k = dense.n_features, dense.n_pos, dense.n_logits
    n = len(kinds)
    table = NodeTable.empty(len(kept))
    table.kind = kinds[kept]
    table.layer = layer[kept].astype(np.int32)
    table.position = pos[kept].astype(np.int32)
    table.feature = feature[kept]
    activation = np.full(n, np.nan)
    if dense.activations is not None:
        activation[:f] = np.asarray(dense.activations, dtype=np.float32)
    table.activation = activation[kept]
    influence = np.asarray(scores, dtype=np.float32).astype(np.float64)
    influence[n - k :] = np.nan  # circuit-tracer writes no influence for logits
    table.influence = influence[kept]
    probability = np.full(n, np.nan)
    probability[n - k :] = np.asarray(dense.logit_probabilities, dtype=np.float32)
    table.logit_probability = probability[kept]

    node_ids, labels, logit_tokens = [], [], []
    embed_start, logit_start = n - k - p, n - k
    for i, kind, lay, ps, feat in zip(
        kept.tolist(),
        table.kind.tolist(),
        table.layer.tolist(),
        table.position.tolist(),
        table.feature.tolist(),
        strict=True,
    ):
        if kind == NodeKind.FEATURE:
            node_ids.append(ids.feature_id(lay, feat, ps))
            labels.append("")
            logit_tokens.append("")
        elif kind == NodeKind.ERROR:
            node_ids.append(ids.error_id(lay, ps))
            labels.append("")
            logit_tokens.append("")
        elif kind == NodeKind.EMBEDDING:
            node_ids.append(ids.embedding_id(feat, ps))
            labels.append(str(dense.token_strings[i - embed_start]))
            logit_tokens.append("")
        else:
            token = str(dense.logit_tokens[i - logit_start])
            node_ids.append(ids.logit_id(dense.n_layers, feat, dense.n_pos - 1))
            labels.append(ids.logit_clerp(token, float(probability[i])))
            logit_tokens.append(token)
    table.ids = np.array(node_ids, dtype=object)
    table.label = np.array(labels, dtype=object)
    table.logit_token = np.array(logit_tokens, dtype=object)
    table.feature_type = np.array(
        [DEFAULT_FEATURE_TYPE[NodeKind(c)] for c in table.kind.tolist()], dtype=object
    )
    return table


def from_circuit_tracer_graph(
    ct_graph: Any,
    *,
    token_strings: list[str] | None = None,
    tokenizer: Any = None,
    slug: str | None = None,
    scan: str | list[str] | None = None,
    node_threshold: float = DEFAULT_NODE_THRESHOLD,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
) -> AttributionGraph:
    """Prune an in-memory circuit-tracer `Graph` and build its Neuronpedia graph (torch is not imported here).

    Token texts come from `token_strings`, else `tokenizer.decode`, else `tok{id}` placeholders; where
    they came from is recorded in `metadata.info.tokens_from`.
    """
    return dense_to_graph(
        dense_from_circuit_tracer(
            ct_graph, token_strings=token_strings, tokenizer=tokenizer, slug=slug, scan=scan
        ),
        node_threshold=node_threshold,
        edge_threshold=edge_threshold,
    )


def dense_from_circuit_tracer(
    ct_graph: Any,
    *,
    token_strings: list[str] | None = None,
    tokenizer: Any = None,
    slug: str | None = None,
    scan: str | list[str] | None = None,
) -> DenseGraph:
    """A `DenseGraph` from a circuit-tracer `Graph` object, or from the dict its `to_pt` saves."""
    get = (
        ct_graph.get
        if isinstance(ct_graph, dict)
        else lambda key, default=None: getattr(ct_graph, key, default)
    )
    cfg = get("cfg")
    n_layers = _cfg_value(cfg, "n_layers")
    if not isinstance(n_layers, int):
        raise GraphFormatError("the circuit-tracer graph has no cfg.n_layers")
    active = _numpy(get("active_features")).astype(np.int64).reshape(-1, 3)
    selected = _numpy(get("selected_features")).astype(np.int64).reshape(-1)
    values = _numpy(get("activation_values"))
    token_ids = _numpy(get("input_tokens")).astype(np.int64).reshape(-1)
    targets = get("logit_targets")
    if targets is None:
        targets = get("logit_tokens")
    logit_ids, logit_strs = _logit_targets(targets)
    probabilities = _numpy(get("logit_probabilities")).astype(np.float32).reshape(-1)
    if len(selected) and selected.max() >= len(active):
        raise GraphFormatError("selected_features points past the end of active_features")

    tokens_from = "given token strings"
    if token_strings is None and tokenizer is not None:
        token_strings = [tokenizer.decode([t]) for t in token_ids.tolist()]
        tokens_from = "tokenizer"
    if token_strings is None:
        token_strings = [f"tok{t}" for t in token_ids.tolist()]
        tokens_from = "placeholders tok{id}: no tokenizer was available offline"
    if tokenizer is not None:
        logit_strs = [s if s else tokenizer.decode([v]) for s, v in zip(logit_strs, logit_ids, strict=True)]
    logit_strs = [s if s else f"tok{v}" for s, v in zip(logit_strs, logit_ids, strict=True)]

    graph_scan = scan if scan is not None else get("scan")
    transcoder_list: list[str] = []
    if isinstance(graph_scan, (list, tuple)):
        transcoder_list = [str(s) for s in graph_scan]
        graph_scan = "custom"
    activations = values[selected] if values is not None and len(values) else None
    return DenseGraph(
        adjacency=_numpy(get("adjacency_matrix")).astype(np.float32, copy=False),
        features=active[selected] if len(selected) else np.zeros((0, 3), dtype=np.int64),
        activations=activations,
        token_ids=token_ids,
        token_strings=list(token_strings),
        logit_token_ids=np.asarray(logit_ids, dtype=np.int64),
        logit_tokens=logit_strs,
        logit_probabilities=probabilities,
        n_layers=n_layers,
        prompt=str(get("input_string") or ""),
        scan=str(graph_scan or ""),
        slug=slug or "",
        transcoder_list=transcoder_list,
        metadata={
            "info": {
                "tokens_from": tokens_from,
                "model": str(_cfg_value(cfg, "model_name") or ""),
                "tokenizer": str(_cfg_value(cfg, "tokenizer_name") or ""),
            }
        },
    )


def _cfg_value(cfg: Any, key: str) -> Any:
    if cfg is None:
        return None
    if isinstance(cfg, dict):
        return cfg.get(key)
    return getattr(cfg, key, None)


def _numpy(value: Any) -> np.ndarray:
    if value is None:
        return np.zeros(0)
    if hasattr(value, "detach"):
        if getattr(value, "is_sparse", False):
            value = value.to_dense()
        value = value.detach().cpu()
        if str(value.dtype) in ("torch.bfloat16", "torch.float16"):
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def _logit_targets(targets: Any) -> tuple[list[int], list[str]]:
    """(vocab ids, token strings) from LogitTarget records, (str, id) tuples or a tensor of ids."""
    if targets is None:
        raise GraphFormatError("the circuit-tracer graph has no logit_targets")
    if hasattr(targets, "tolist") and not isinstance(targets, list):
        return [int(v) for v in targets.tolist()], ["" for _ in range(len(targets))]
    vocab, strings = [], []
    for target in targets:
        token = getattr(target, "token_str", None)
        idx = getattr(target, "vocab_idx", None)
        if token is None and isinstance(target, (tuple, list)) and len(target) == 2:
            token, idx = target
        if idx is None:
            idx = target
        vocab.append(int(idx))
        strings.append(str(token or ""))
    return vocab, strings
