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
score lies within that precision of the threshold: tests/test_prune_oracle.py checks this against
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

from attrgraph_cli.graph.mass_threshold import mass_threshold

if TYPE_CHECKING:
    import scipy.sparse

DEFAULT_NODE_THRESHOLD = 0.8
DEFAULT_EDGE_THRESHOLD = 0.98
#: rows per block when scaling a matrix in place (keeps each block inside the caches)
_ROW_BLOCK = 64
#: rows are compacted when the iterate's non-zero entries fill less than this share of their prefix
_COMPACT_BELOW = 0.85


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
    probabilities = np.asarray(logit_probabilities, dtype=np.float32).ravel()
    weights = _SparseWeights.of(adjacency) if hasattr(adjacency, "tocsr") else _DenseWeights.of(adjacency)
    n = weights.n
    n_logits = probabilities.size
    if n_logits < 1:
        raise ValueError("at least one logit is needed to prune by influence")
    if n_features < 0 or n_tokens < 0 or n_features + n_tokens + n_logits > n:
        raise ValueError(
            f"{n_features} features + {n_tokens} tokens + {n_logits} logits do not fit "
            f"an adjacency matrix of {n} nodes"
        )
    inner = n - n_logits - n_tokens  # features and errors: the nodes that pruning may drop
    logit_weights = np.zeros(n, dtype=np.float32)
    logit_weights[inner + n_tokens :] = probabilities

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


def _inverse(row_sums: np.ndarray) -> np.ndarray:
    """1 / row sum, with circuit-tracer's clamp of the sum at 1e-10."""
    return (np.float32(1) / np.maximum(row_sums, np.float32(1e-10))).astype(np.float32)


def _influence(weights: _Weights, logit_weights: np.ndarray, max_iter: int) -> np.ndarray:
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


def _drop_dangling(edges: _EdgeSet, *, is_inner: np.ndarray, is_feature: np.ndarray) -> np.ndarray:
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


class _EdgeSet:
    """Kept edges among the kept nodes (local indices): per-node counts, removal, final mask."""

    def counts(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - interface
        """(outgoing, incoming) edge counts per node."""
        raise NotImplementedError

    def remove_nodes(self, dropped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """Remove the edges of `dropped`; return the counts lost per node (outgoing, incoming)."""
        raise NotImplementedError

    def mask_in(self, kept: np.ndarray, n: int):  # pragma: no cover - interface
        """The edge mask over all `n` nodes, `kept[i]` being the global index of local node i."""
        raise NotImplementedError


class _DenseEdges(_EdgeSet):
    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix  # bool (m, m), rows = target

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        return self.matrix.sum(axis=0, dtype=np.int64), self.matrix.sum(axis=1, dtype=np.int64)

    def remove_nodes(self, dropped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # each edge is counted once: as a row (target dropped), then cleared before the columns
        rows = self.matrix[dropped]
        lost_out = rows.sum(axis=0, dtype=np.int64)
        self.matrix[dropped] = False
        lost_in = self.matrix[:, dropped].sum(axis=1, dtype=np.int64)
        self.matrix[:, dropped] = False
        return lost_out, lost_in

    def mask_in(self, kept: np.ndarray, n: int) -> np.ndarray:
        if kept.size == n:
            return self.matrix
        full = np.zeros((n, n), dtype=bool)
        full[kept[:, None], kept] = self.matrix
        return full


class _SparseEdges(_EdgeSet):
    def __init__(self, targets: np.ndarray, sources: np.ndarray, m: int) -> None:
        self.targets, self.sources, self.m = targets, sources, m
        self.present = np.ones(targets.size, dtype=bool)

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.bincount(self.sources, minlength=self.m).astype(np.int64),
            np.bincount(self.targets, minlength=self.m).astype(np.int64),
        )

    def remove_nodes(self, dropped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gone = np.zeros(self.m, dtype=bool)
        gone[dropped] = True
        hit = self.present & (gone[self.targets] | gone[self.sources])
        self.present &= ~hit
        lost_out = np.bincount(self.sources[hit], minlength=self.m).astype(np.int64)
        lost_in = np.bincount(self.targets[hit], minlength=self.m).astype(np.int64)
        return lost_out, lost_in

    def mask_in(self, kept: np.ndarray, n: int):
        import scipy.sparse

        t, s = kept[self.targets[self.present]], kept[self.sources[self.present]]
        return scipy.sparse.csr_array((np.ones(t.size, dtype=bool), (t, s)), shape=(n, n))


class _Weights:
    """A float32 |adjacency| (or a sub-matrix of it) that can become edge scores in place."""

    n: int

    def row_sums(self) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def propagate(self, vector: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        """vector @ matrix (vector indexed by target row)."""
        raise NotImplementedError

    def restricted_to(self, kept: np.ndarray) -> _Weights:  # pragma: no cover - interface
        """The sub-matrix of the kept nodes (rows and columns), a new object: self is not modified."""
        raise NotImplementedError

    def to_scores(self, row_factor: np.ndarray) -> None:  # pragma: no cover - interface
        """Multiply every row by its factor, in place."""
        raise NotImplementedError

    def scores(self) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def edges_at_least(self, cut: np.float32) -> _EdgeSet:  # pragma: no cover - interface
        raise NotImplementedError

    def all_pairs(self):  # pragma: no cover - interface
        """The edge mask that keeps every pair."""
        raise NotImplementedError


class _DenseWeights(_Weights):
    """A dense float32 matrix whose rows are kept in an order that puts the iterate's support first.

    The power series' iterates shrink (in an attribution graph the k-th term is non-zero only on nodes
    at least k steps from a logit), so rows are swapped, in place, to keep the non-zero entries of the
    iterate in a prefix and each product reads only that prefix: about half the work of full products.
    Columns are never permuted.
    """

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix  # float32, C order, owned by this object (never the caller's array)
        self.n = matrix.shape[0]
        self.node_at_row = np.arange(self.n)
        self._row_sums = matrix.sum(axis=1, dtype=np.float32)

    @classmethod
    def of(cls, adjacency) -> _DenseWeights:
        a = np.asarray(adjacency)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"adjacency must be a square matrix, got shape {a.shape}")
        return cls(np.ascontiguousarray(np.abs(a, dtype=np.float32)))

    def row_sums(self) -> np.ndarray:
        return self._row_sums

    def propagate(self, vector: np.ndarray) -> np.ndarray:
        in_rows = vector[self.node_at_row]
        support = np.flatnonzero(in_rows)
        if support.size == 0:
            return np.zeros(self.n, dtype=np.float32)
        if support.size < _COMPACT_BELOW * (support[-1] + 1):
            self._move_to_front(support)
            in_rows = vector[self.node_at_row]
            length = support.size
        else:
            length = int(support[-1]) + 1
        return in_rows[:length] @ self.matrix[:length]

    def _move_to_front(self, support: np.ndarray) -> None:
        """Swap rows so that the rows at positions `support` occupy positions [0, len(support))."""
        m = support.size
        outside = support[support >= m]
        inside = np.ones(m, dtype=bool)
        inside[support[support < m]] = False
        holes = np.flatnonzero(inside)
        for start in range(0, outside.size, _ROW_BLOCK):
            a, b = outside[start : start + _ROW_BLOCK], holes[start : start + _ROW_BLOCK]
            self.matrix[a], self.matrix[b] = self.matrix[b], self.matrix[a]
            self.node_at_row[a], self.node_at_row[b] = self.node_at_row[b], self.node_at_row[a]

    def _in_node_order(self) -> np.ndarray:
        if not np.array_equal(self.node_at_row, np.arange(self.n)):
            rows = np.empty(self.n, dtype=np.int64)
            rows[self.node_at_row] = np.arange(self.n)
            self.matrix = self.matrix.take(rows, axis=0)
            self.node_at_row = np.arange(self.n)
        return self.matrix

    def restricted_to(self, kept: np.ndarray) -> _DenseWeights:
        if kept.size == self.n:  # nothing pruned: work on this copy itself, it is no longer needed
            self._in_node_order()
            return self
        rows = np.empty(self.n, dtype=np.int64)
        rows[self.node_at_row] = np.arange(self.n)
        return _DenseWeights(self.matrix.take(rows[kept], axis=0).take(kept, axis=1))

    def to_scores(self, row_factor: np.ndarray) -> None:
        matrix = self._in_node_order()
        for start in range(0, self.n, _ROW_BLOCK):
            matrix[start : start + _ROW_BLOCK] *= row_factor[start : start + _ROW_BLOCK, None]

    def scores(self) -> np.ndarray:
        return self._in_node_order()

    def edges_at_least(self, cut: np.float32) -> _EdgeSet:
        return _DenseEdges(self._in_node_order() >= cut)

    def all_pairs(self) -> np.ndarray:
        return np.ones((self.n, self.n), dtype=bool)


class _SparseWeights(_Weights):
    def __init__(self, matrix) -> None:
        self.matrix = matrix  # scipy.sparse.csr_array, float32, canonical
        self.n = matrix.shape[0]
        self.transposed = matrix.T.tocsr()

    @classmethod
    def of(cls, adjacency) -> _SparseWeights:
        import scipy.sparse

        m = scipy.sparse.csr_array(adjacency, dtype=np.float32, copy=True)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"adjacency must be a square matrix, got shape {m.shape}")
        m.sum_duplicates()
        np.abs(m.data, out=m.data)
        return cls(m)

    def row_sums(self) -> np.ndarray:
        return np.asarray(self.matrix.sum(axis=1), dtype=np.float32).ravel()

    def propagate(self, vector: np.ndarray) -> np.ndarray:
        return np.asarray(self.transposed @ vector, dtype=np.float32)

    def restricted_to(self, kept: np.ndarray) -> _SparseWeights:
        return _SparseWeights(self.matrix[kept][:, kept].tocsr())

    def to_scores(self, row_factor: np.ndarray) -> None:
        m = self.matrix
        m.data *= np.repeat(row_factor, np.diff(m.indptr))

    def scores(self) -> np.ndarray:
        return self.matrix.data

    def edges_at_least(self, cut: np.float32) -> _EdgeSet:
        m = self.matrix
        hit = m.data >= cut
        rows = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(m.indptr))
        return _SparseEdges(rows[hit], m.indices[hit].astype(np.int64), self.n)

    def all_pairs(self):
        import scipy.sparse

        m = self.matrix
        ones = np.ones(m.nnz, dtype=bool)
        return scipy.sparse.csr_array((ones, m.indices.copy(), m.indptr.copy()), shape=m.shape)
