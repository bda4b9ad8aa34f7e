"""Pruning by cumulative influence, with circuit-tracer's `prune_graph` semantics.

Input is an unpruned adjacency matrix in circuit-tracer's node order
[features, errors (layer-major), tokens, logits], rows = targets, columns = sources.

NOTE: this first version is a direct numpy transcription used as the contract; the fast version
(no full sort of N^2 scores, sparse where the graph is sparse) replaces its body, keeping the API.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DEFAULT_NODE_THRESHOLD = 0.8
DEFAULT_EDGE_THRESHOLD = 0.98


class PruneResult(NamedTuple):
    node_mask: np.ndarray  # bool (N,)
    edge_mask: np.ndarray  # bool (N, N), rows = target, columns = source
    cumulative_scores: np.ndarray  # float (N,), circuit-tracer's `influence` written into the JSON


def prune_matrix(
    adjacency: np.ndarray,
    *,
    n_features: int,
    n_tokens: int,
    logit_probabilities: np.ndarray,
    node_threshold: float = DEFAULT_NODE_THRESHOLD,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
) -> PruneResult:
    """Node and edge masks keeping `node_threshold` / `edge_threshold` of the influence on the logits."""
    for name, value in (("node_threshold", node_threshold), ("edge_threshold", edge_threshold)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0.0 and 1.0, got {value}")
    a = np.asarray(adjacency, dtype=np.float32)
    n = a.shape[0]
    n_logits = len(logit_probabilities)
    logit_weights = np.zeros(n, dtype=np.float32)
    logit_weights[n - n_logits :] = logit_probabilities

    node_influence = _influence(_normalize(a), logit_weights)
    node_mask = node_influence >= _threshold(node_influence, node_threshold)
    node_mask[n - n_logits - n_tokens :] = True

    pruned = a.copy()
    pruned[~node_mask] = 0
    pruned[:, ~node_mask] = 0
    normalized = _normalize(pruned)
    edge_scores = normalized * (_influence(normalized, logit_weights) + logit_weights)[:, None]
    edge_mask = edge_scores >= _threshold(edge_scores.ravel(), edge_threshold)

    inner = n - n_logits - n_tokens
    old = node_mask.copy()
    node_mask[:inner] &= edge_mask[:, :inner].any(0)
    node_mask[:n_features] &= edge_mask[:n_features].any(1)
    while not np.array_equal(node_mask, old):
        old[:] = node_mask
        edge_mask[~node_mask] = False
        edge_mask[:, ~node_mask] = False
        node_mask[:inner] &= edge_mask[:, :inner].any(0)
        node_mask[:n_features] &= edge_mask[:n_features].any(1)

    order = np.argsort(-node_influence, kind="stable")
    cumulative = np.cumsum(node_influence[order]) / node_influence.sum()
    scores = np.zeros_like(node_influence)
    scores[order] = cumulative
    return PruneResult(node_mask, edge_mask, scores)


def _normalize(a: np.ndarray) -> np.ndarray:
    m = np.abs(a)
    return m / np.maximum(m.sum(axis=1, keepdims=True), 1e-10)


def _influence(a: np.ndarray, logit_weights: np.ndarray, max_iter: int = 1000) -> np.ndarray:
    current = logit_weights @ a
    total = current.copy()
    for _ in range(max_iter):
        if not current.any():
            return total
        current = current @ a
        total += current
    raise RuntimeError(f"influence did not converge after {max_iter} iterations")


def _threshold(scores: np.ndarray, fraction: float) -> float:
    ordered = np.sort(scores)[::-1]
    cumulative = np.cumsum(ordered) / ordered.sum()
    index = min(int(np.searchsorted(cumulative, fraction)), len(cumulative) - 1)
    return ordered[index]
