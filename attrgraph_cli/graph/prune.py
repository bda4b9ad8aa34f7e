"""Pruning by cumulative influence, with circuit-tracer's `prune_graph` semantics, made fast.

Input is an unpruned adjacency matrix in circuit-tracer's node order
[features, errors (layer-major), tokens, logits], rows = targets, columns = sources, as a dense numpy
array (or anything `np.asarray` takes) or a `scipy.sparse` matrix / array.

What circuit-tracer 0.5.0 (`circuit_tracer.graph.prune_graph`) does, and how this module does the same:

1. node influence = w A + w A^2 + ... (until a term is all zero), A = row-normalised |adjacency|,
   w = logit probabilities on the logit nodes. Here: one float32 copy of |adjacency|; the row
   normalisation is a vector applied to the iterate, never a normalised copy of the matrix.
2. nodes are kept while their influence, sorted, holds `node_threshold` of the total; tokens and logits
   always. The cut comes from `mass_threshold` (same value as circuit-tracer's sort + cumsum).
3. edge scores = (row-normalised matrix of the kept nodes) x (their influence in that pruned graph + w),
   cut at `edge_threshold` of the total score. Here the pruned graph is solved as a small problem on
   the kept nodes only (a gathered sub-matrix, usually a few % of N^2, scaled in place), and the cut
   again avoids sorting the N^2 scores (the other pairs score 0 and only count as zeros).
4. repeatedly drop feature/error nodes without a kept outgoing edge and features without a kept
   incoming edge, with their edges. Here: per-node edge counts, updated only for the dropped nodes.

Memory: the float32 |adjacency| copy, the kept sub-matrix, and the N x N boolean mask (circuit-tracer
holds several float32 N x N matrices and an int64 index of N^2 sorted scores). Sparse input stays sparse.

Same masks: float semantics (float32 scores, cumulative sums accumulated in float64 and rounded to
float32, float32 shares, float32 comparison with the fraction) follow circuit-tracer's on PyTorch's CPU
kernels. Bit-for-bit equal scores are impossible across BLAS libraries (numpy's OpenBLAS and PyTorch's MKL
sum a matrix-vector product in different orders; influences differ by ~1e-5 relative after the power
series), and PyTorch's sort orders ties arbitrarily. So masks can differ only for nodes and edges whose
score lies within that precision of the threshold: tests/graph/test_prune_oracle.py checks this against
circuit-tracer on many seeded graphs (most cases are identical).

Threshold exactly 1.0 on edges: circuit-tracer's float32 cumulative share either reaches 1.0 a little
before the smallest scores (then edges scoring under about one float32 ulp of the total are dropped, as
here, up to that ulp) or stops one ulp short, depending on the last bit of its float32 total; then its
cut falls to 0 and it keeps every pair of nodes, zero-weight ones included, and drops no node for lack
of edges. attrgraph always takes the first reading (the edges that carry the influence); the second is
a rounding accident, not a choice (it happened in about a quarter of the seeded test graphs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from attrgraph_cli.defaults import DEFAULT_EDGE_THRESHOLD, DEFAULT_NODE_THRESHOLD
from attrgraph_cli.graph import prune_storage as storage
from attrgraph_cli.graph.mass_threshold import mass_threshold

if TYPE_CHECKING:
    import scipy.sparse


class PruneResult(NamedTuple):
    """Pruning masks and scores, in the adjacency matrix's node order.

    - `node_mask`: bool (N,).
    - `edge_mask`: rows = target, columns = source. A dense bool (N, N) ndarray for dense input; for
      `scipy.sparse` input a `scipy.sparse.csr_array` of bools over the stored entries (pairs with no
      stored weight are never edges; circuit-tracer marks them kept only in the degenerate case where
      the edge cut falls to a score of 0, and they carry no weight).
    - `cumulative_scores`: float32 (N,), each node's cumulative share of influence in descending order
      (circuit-tracer writes it as `influence` in the graph JSON).
    """

    node_mask: np.ndarray
    edge_mask: np.ndarray | scipy.sparse.csr_array
    cumulative_scores: np.ndarray


def prune_matrix(
    adjacency: np.ndarray | scipy.sparse.sparray | scipy.sparse.spmatrix,
    *,
    n_features: int,
    n_tokens: int,
    logit_probabilities: np.ndarray,
    node_threshold: float = DEFAULT_NODE_THRESHOLD,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
    max_iter: int = 1000,
) -> PruneResult:
    """Node and edge masks keeping `node_threshold` / `edge_threshold` of the influence on the logits.

    Raises ValueError for thresholds outside [0, 1] or sizes that do not fit the matrix, and
    RuntimeError when the influence does not vanish after `max_iter` steps (the matrix has a cycle), as
    circuit-tracer does. The input is never modified.
    """
    for name, value in (("node_threshold", node_threshold), ("edge_threshold", edge_threshold)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0.0 and 1.0, got {value}")
    weights, logit_weights = _weights_and_logit_weights(adjacency, logit_probabilities)
    n = weights.n
    n_logits = int(np.asarray(logit_probabilities).size)
    if n_features < 0 or n_tokens < 0 or n_features + n_tokens + n_logits > n:
        raise ValueError(
            f"{n_features} features + {n_tokens} tokens + {n_logits} logits do not fit "
            f"an adjacency matrix of {n} nodes"
        )
    inner = n - n_logits - n_tokens  # features and errors: the nodes that pruning may drop

    influence = _influence(weights, logit_weights, max_iter)
    node_mask = influence >= mass_threshold(influence, node_threshold)
    node_mask[inner:] = True

    kept = np.flatnonzero(node_mask)
    pruned = weights.restricted_to(kept)
    sub_logit_weights = logit_weights[kept]
    pruned_influence = _influence(pruned, sub_logit_weights, max_iter)
    pruned.to_scores(_inverse(pruned.row_sums()) * (pruned_influence + sub_logit_weights))
    cut = mass_threshold(pruned.scores(), edge_threshold, n_total=n * n)
    if not cut > 0:  # every pair scores >= 0: circuit-tracer keeps them all, and no node loses its edges
        return PruneResult(node_mask, weights.all_pairs(), _cumulative_scores(influence))

    edges = pruned.edges_at_least(cut)
    alive = _drop_dangling(edges, is_inner=kept < inner, is_feature=kept < n_features)
    node_mask[kept[~alive]] = False
    return PruneResult(node_mask, edges.mask_in(kept, n), _cumulative_scores(influence))


def cumulative_influence(
    adjacency: np.ndarray | scipy.sparse.sparray | scipy.sparse.spmatrix,
    *,
    logit_probabilities: np.ndarray,
    max_iter: int = 1000,
) -> np.ndarray:
    """`prune_matrix`'s `cumulative_scores` alone, for inputs whose masks are already known.

    Only the node-influence phase runs (no thresholds, no edge scores).
    """
    weights, logit_weights = _weights_and_logit_weights(adjacency, logit_probabilities)
    return _cumulative_scores(_influence(weights, logit_weights, max_iter))


def _weights_and_logit_weights(adjacency, logit_probabilities) -> tuple[storage.Weights, np.ndarray]:
    """The working matrix and the logit weight vector (probabilities on the last nodes, the logits)."""
    probabilities = np.asarray(logit_probabilities, dtype=np.float32).ravel()
    weights = (
        storage.SparseWeights.of(adjacency)
        if hasattr(adjacency, "tocsr")
        else storage.DenseWeights.of(adjacency)
    )
    if probabilities.size < 1:
        raise ValueError("at least one logit is needed to prune by influence")
    if probabilities.size > weights.n:
        raise ValueError(f"{probabilities.size} logits do not fit an adjacency matrix of {weights.n} nodes")
    logit_weights = np.zeros(weights.n, dtype=np.float32)
    logit_weights[weights.n - probabilities.size :] = probabilities
    return weights, logit_weights


def _inverse(row_sums: np.ndarray) -> np.ndarray:
    """1 / row sum, with circuit-tracer's clamp of the sum at 1e-10."""
    return (np.float32(1) / np.maximum(row_sums, np.float32(1e-10))).astype(np.float32)


def _influence(weights: storage.Weights, logit_weights: np.ndarray, max_iter: int) -> np.ndarray:
    """w A + w A^2 + ... with A = diag(1 / row sums) |weights|, until a term is all zero."""
    row_scale = _inverse(weights.row_sums())
    current = weights.propagate(logit_weights * row_scale)
    total = current.copy()
    for _ in range(max_iter):
        if not current.any():
            return total
        current = weights.propagate(current * row_scale)
        total += current
    if current.any():
        raise RuntimeError(f"influence computation failed to converge after {max_iter} iterations")
    return total


def _cumulative_scores(influence: np.ndarray) -> np.ndarray:
    """Each node's cumulative share of the total influence, in descending order of influence.

    Tied influences get consecutive shares in node order (PyTorch's sort orders ties arbitrarily).
    """
    order = np.argsort(-influence, kind="stable")
    cumulative = np.cumsum(influence[order], dtype=np.float64).astype(np.float32)
    total = np.float32(influence.sum(dtype=np.float64))
    scores = np.zeros_like(influence)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores[order] = cumulative / total
    return scores


def _drop_dangling(edges: storage.EdgeSet, *, is_inner: np.ndarray, is_feature: np.ndarray) -> np.ndarray:
    """Which nodes survive dropping, to a fixpoint, feature/error nodes without outgoing kept edges and
    features without incoming ones (all nodes here are kept nodes; the result is a mask over them)."""
    alive = np.ones(is_inner.size, dtype=bool)
    outgoing, incoming = edges.counts()
    while True:
        drop = alive & ((is_inner & (outgoing == 0)) | (is_feature & (incoming == 0)))
        dropped = np.flatnonzero(drop)
        if dropped.size == 0:
            return alive
        alive[dropped] = False
        lost_out, lost_in = edges.remove_nodes(dropped)
        outgoing -= lost_out
        incoming -= lost_in
