"""Influence of every node on the target logits, with numpy/scipy (no torch).

The definitions are circuit-tracer's (`circuit_tracer.graph.normalize_matrix` / `compute_influence`):
rows of the |adjacency| (rows = targets) are normalised to sum 1, and a node's influence is
`w @ (Â + Â² + ...)`, `w` holding the target logits' probabilities.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph, NodeKind

#: the power series stops here (a DAG ends long before; a cyclic hostile file is refused)
MAX_ITER = 1000


def logit_weights(graph: AttributionGraph) -> np.ndarray:
    """Per-node weights: the logit nodes' probabilities (uniform over the logits when none is recorded)."""
    w = np.zeros(len(graph.nodes))
    logits = np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)
    if len(logits):
        p = graph.nodes.logit_probability[logits]
        w[logits] = np.where(np.isfinite(p), p, 0.0) if np.isfinite(p).any() else 1.0 / len(logits)
    return w


def normalize_rows(adjacency: sp.csr_matrix, *, signed: bool = False) -> sp.csr_matrix:
    """Each row divided by its sum of |weights| (clamped at 1e-10, as circuit-tracer does)."""
    a = adjacency.tocsr(copy=True)
    a.sum_duplicates()
    sums = np.asarray(abs(a).sum(axis=1)).ravel()
    scale = 1.0 / np.maximum(sums, 1e-10)
    if not signed:
        a.data = np.abs(a.data)
    return sp.csr_matrix(sp.diags(scale) @ a)


def propagate(normalized: sp.csr_matrix, start: np.ndarray) -> np.ndarray:
    """`start @ (Â + Â² + ...)` for one (N,) or several (N, K) start vectors."""
    transposed = normalized.T.tocsr()
    current = np.asarray(start, dtype=np.float64)
    total = np.zeros_like(current)
    scale = float(np.abs(current).sum()) or 1.0
    for _ in range(MAX_ITER):
        current = transposed @ current
        if not current.any() or float(np.abs(current).sum()) < 1e-14 * scale:
            return total + current
        total += current
    raise AttrgraphError("the graph's links form a cycle: influence on the logits is undefined")


def node_influence(graph: AttributionGraph, adjacency: sp.csr_matrix | None = None) -> np.ndarray:
    """circuit-tracer's node influence (direct and indirect) on the weighted target logits."""
    a = graph.adjacency() if adjacency is None else adjacency
    return propagate(normalize_rows(a), logit_weights(graph))


def logit_effects(graph: AttributionGraph, adjacency: sp.csr_matrix | None = None) -> np.ndarray:
    """(N, K) signed effect of each node on each of the K logits through the normalised signed graph."""
    a = graph.adjacency() if adjacency is None else adjacency
    logits = np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)
    start = np.zeros((len(graph.nodes), len(logits)))
    start[logits, np.arange(len(logits))] = 1.0
    if not len(logits):
        return start
    return propagate(normalize_rows(a, signed=True), start)
