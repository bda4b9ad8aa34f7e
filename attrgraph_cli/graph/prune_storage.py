"""The matrices behind `attrgraph_cli.graph.prune`: dense or sparse |adjacency|, and the kept edges.

`DenseWeights` / `SparseWeights` hold one float32 copy of |adjacency| (never the caller's array), run
the products of the influence power series, become edge scores in place and cut them into an edge set;
`DenseEdges` / `SparseEdges` count and remove edges per node while dangling nodes are dropped.
"""

from __future__ import annotations

import numpy as np

#: rows per block when scaling a matrix in place (keeps each block inside the caches)
ROW_BLOCK = 64
#: rows are compacted when the iterate's non-zero entries fill less than this share of their prefix
COMPACT_BELOW = 0.85


class EdgeSet:
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


class DenseEdges(EdgeSet):
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


class SparseEdges(EdgeSet):
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


class Weights:
    """A float32 |adjacency| (or a sub-matrix of it) that can become edge scores in place."""

    n: int

    def row_sums(self) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def propagate(self, vector: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        """vector @ matrix (vector indexed by target row)."""
        raise NotImplementedError

    def restricted_to(self, kept: np.ndarray) -> Weights:  # pragma: no cover - interface
        """The sub-matrix of the kept nodes (rows and columns); self itself when every node is kept."""
        raise NotImplementedError

    def to_scores(self, row_factor: np.ndarray) -> None:  # pragma: no cover - interface
        """Multiply every row by its factor, in place."""
        raise NotImplementedError

    def scores(self) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def edges_at_least(self, cut: np.float32) -> EdgeSet:  # pragma: no cover - interface
        raise NotImplementedError

    def all_pairs(self):  # pragma: no cover - interface
        """The edge mask that keeps every pair."""
        raise NotImplementedError


class DenseWeights(Weights):
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
    def of(cls, adjacency) -> DenseWeights:
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
        if support.size < COMPACT_BELOW * (support[-1] + 1):
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
        for start in range(0, outside.size, ROW_BLOCK):
            a, b = outside[start : start + ROW_BLOCK], holes[start : start + ROW_BLOCK]
            self.matrix[a], self.matrix[b] = self.matrix[b], self.matrix[a]
            self.node_at_row[a], self.node_at_row[b] = self.node_at_row[b], self.node_at_row[a]

    def _in_node_order(self) -> np.ndarray:
        if not np.array_equal(self.node_at_row, np.arange(self.n)):
            rows = np.empty(self.n, dtype=np.int64)
            rows[self.node_at_row] = np.arange(self.n)
            self.matrix = self.matrix.take(rows, axis=0)
            self.node_at_row = np.arange(self.n)
        return self.matrix

    def restricted_to(self, kept: np.ndarray) -> DenseWeights:
        if kept.size == self.n:  # nothing pruned: work on this copy itself, it is no longer needed
            self._in_node_order()
            return self
        rows = np.empty(self.n, dtype=np.int64)
        rows[self.node_at_row] = np.arange(self.n)
        return DenseWeights(self.matrix.take(rows[kept], axis=0).take(kept, axis=1))

    def to_scores(self, row_factor: np.ndarray) -> None:
        matrix = self._in_node_order()
        for start in range(0, self.n, ROW_BLOCK):
            matrix[start : start + ROW_BLOCK] *= row_factor[start : start + ROW_BLOCK, None]

    def scores(self) -> np.ndarray:
        return self._in_node_order()

    def edges_at_least(self, cut: np.float32) -> EdgeSet:
        return DenseEdges(self._in_node_order() >= cut)

    def all_pairs(self) -> np.ndarray:
        return np.ones((self.n, self.n), dtype=bool)


class SparseWeights(Weights):
    def __init__(self, matrix) -> None:
        self.matrix = matrix  # scipy.sparse.csr_array, float32, canonical
        self.n = matrix.shape[0]
        self.transposed = matrix.T.tocsr()

    @classmethod
    def of(cls, adjacency) -> SparseWeights:
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

    def restricted_to(self, kept: np.ndarray) -> SparseWeights:
        return SparseWeights(self.matrix[kept][:, kept].tocsr())

    def to_scores(self, row_factor: np.ndarray) -> None:
        m = self.matrix
        m.data *= np.repeat(row_factor, np.diff(m.indptr))

    def scores(self) -> np.ndarray:
        return self.matrix.data

    def edges_at_least(self, cut: np.float32) -> EdgeSet:
        m = self.matrix
        hit = m.data >= cut
        rows = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(m.indptr))
        return SparseEdges(rows[hit], m.indices[hit].astype(np.int64), self.n)

    def all_pairs(self):
        import scipy.sparse

        m = self.matrix
        ones = np.ones(m.nnz, dtype=bool)
        return scipy.sparse.csr_array((ones, m.indices.copy(), m.indptr.copy()), shape=m.shape)
