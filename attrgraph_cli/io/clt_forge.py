"""CLT-Forge / FeatFlow `attribution_graph.pt` files.

Layout: `adjacency_matrix` (N x N, rows = target) in circuit-tracer node order, `feature_indices` (F x 3:
position, layer, feature), `input_tokens` / `token_string`, `logit_tokens` / `logit_token_strings` /
`logit_probabilities`, `activation_values`, and the file's own pruning: `sparse_pruned_adj` is a dense
0/1 mask (weights then come from `adjacency_matrix`) in newer files and a torch sparse tensor of weights
in older ones; `feature_mask` (when present) is the kept-node mask. The file's pruning is used as it is.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from attrgraph_cli.errors import GraphFormatError
from attrgraph_cli.graph.dense import DenseGraph, dense_to_graph
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.io.torch_files import load_pt, to_numpy, to_plain

_REQUIRED = (
    "adjacency_matrix",
    "feature_indices",
    "sparse_pruned_adj",
    "logit_probabilities",
    "input_tokens",
)


def read_clt_forge(path: str | os.PathLike[str], *, trust_pickle: bool = False) -> AttributionGraph:
    """Convert a CLT-Forge attribution graph, keeping the pruning stored in the file."""
    data = load_pt(path, trust_pickle=trust_pickle)
    if not isinstance(data, dict):
        raise GraphFormatError(f"{path}: not a CLT-Forge attribution graph (the file does not hold a dict)")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise GraphFormatError(f"{path}: not a CLT-Forge attribution graph (missing {', '.join(missing)})")
    try:
        return clt_forge_to_graph(data)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{path}: {exc}") from None


def clt_forge_to_graph(data: dict[str, Any]) -> AttributionGraph:
    """The pruned graph of a loaded CLT-Forge dict."""
    import torch

    adjacency = to_numpy(data["adjacency_matrix"]).astype(np.float32)
    n = adjacency.shape[0] if adjacency.ndim == 2 else -1
    fi = to_numpy(data["feature_indices"]).astype(np.int64).reshape(-1, 3)
    features = fi[:, [1, 0, 2]]  # (position, layer, index) -> (layer, position, index)
    token_ids = to_numpy(data["input_tokens"]).astype(np.int64).reshape(-1)
    probabilities = to_numpy(data["logit_probabilities"]).astype(np.float32).reshape(-1)
    n_f, n_p, n_k = len(features), len(token_ids), len(probabilities)
    inner = n - n_f - n_p - n_k
    if n_p == 0 or inner < 0 or inner % n_p:
        raise GraphFormatError(
            f"the adjacency matrix ({n} nodes) does not split into {n_f} features, errors for "
            f"{n_p} positions x some layers, {n_p} tokens and {n_k} logits"
        )
    n_layers = int(data.get("n_layers") or inner // n_p)
    token_strings = [str(t) for t in data.get("token_string") or [f"tok{t}" for t in token_ids.tolist()]]
    logit_ids = to_numpy(data.get("logit_tokens", torch.arange(n_k))).astype(np.int64).reshape(-1)
    logit_strings = [
        str(t) for t in data.get("logit_token_strings") or [f"tok{t}" for t in logit_ids.tolist()]
    ]

    pruned = data["sparse_pruned_adj"]
    if isinstance(pruned, torch.Tensor) and pruned.is_sparse:
        weights = to_numpy(pruned).astype(np.float32)
        edge_mask = weights != 0
        variant = "sparse tensor of pruned weights"
    else:
        mask = to_numpy(pruned)
        edge_mask = mask != 0
        weights = adjacency
        variant = "dense 0/1 edge mask"
    if edge_mask.shape != adjacency.shape:
        raise GraphFormatError(f"sparse_pruned_adj has shape {edge_mask.shape}, expected {adjacency.shape}")
    node_mask = edge_mask.any(0) | edge_mask.any(1)
    if "feature_mask" in data:
        node_mask = to_numpy(data["feature_mask"]).astype(bool).reshape(-1) & node_mask
    node_mask[n - n_p - n_k :] = True

    activations = data.get("activation_values")
    extra = {}
    if data.get("intervention_top_tokens"):
        extra["clt_forge_interventions"] = to_plain(data["intervention_top_tokens"])
    dense = DenseGraph(
        adjacency=adjacency,
        features=features,
        activations=None if activations is None else to_numpy(activations).reshape(-1),
        token_ids=token_ids,
        token_strings=token_strings,
        logit_token_ids=logit_ids,
        logit_tokens=logit_strings,
        logit_probabilities=probabilities,
        n_layers=n_layers,
        prompt=str(data.get("input_string", "")),
        metadata={
            "info": {
                "source_format": "clt-forge-pt",
                "tokens_from": "the file's token_string"
                if data.get("token_string")
                else "placeholders tok{id}",
                "clt_forge_pruning": variant,
                "unpruned_features": n_f,
            }
        },
        extra=extra,
    )
    return dense_to_graph(dense, node_mask=node_mask, edge_mask=edge_mask, edge_weights=weights)
