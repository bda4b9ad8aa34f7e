"""What the graph predicts an intervention does to its logits: the linearised effect through its edges.

An edge weight `A[t, s]` is source `s`'s contribution to target `t` at the traced input (circuit-tracer's
attribution: the source's activation times its direct effect per unit of activation, with attention
patterns and LayerNorm scales frozen). So a change `e_s` of feature `s`'s activation (`new - recorded`)
moves `t` by `A[t, s] / a_s * e_s`, where `a_s` is the activation recorded in the graph. With
`B = A · diag(1/a)` over the feature columns (token and error nodes never change):

- `--direct` (every layer constrained: no effect passes through another feature):
  `predicted_l = sum_{s in S} B[l, s] e_s`;
- otherwise the full path sum through the graph's (pruned) features: the intervened features are clamped
  (their rows of `B` are zeroed: their value is set, not computed) and `x = (I - B_S)^-1 e`, i.e. every
  path from an intervened feature to the logit, each the product of its edges; `predicted_l = x_l`.
  The graph is a layered DAG, so `B_S` is nilpotent and `x = e + B_S e + B_S^2 e + ...` ends after its
  depth: one sparse product per term (a general solve is the fallback when the series does not end).

Logit nodes of circuit-tracer graphs are the demeaned logits (logit minus the mean logit over the
vocabulary), so predictions are in those units. Features whose recorded activation is 0 or missing cannot
carry a relative change and are left out (their columns are zero).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from attrgraph_cli.graph.model import AttributionGraph, NodeKind


def per_unit_adjacency(graph: AttributionGraph):
    """`B` (CSR, rows = targets, columns = sources): edge weight per unit of the source's activation."""
    from scipy.sparse import csr_matrix

    nodes, edges = graph.nodes, graph.edges
    act = nodes.activation
    is_feature = (nodes.kind == NodeKind.FEATURE) & np.isfinite(act) & (act != 0)
    scale = np.zeros(len(nodes))
    scale[is_feature] = 1.0 / act[is_feature]
    weights = edges.weight * scale[edges.source]
    n = len(nodes)
    return csr_matrix((weights, (edges.target, edges.source)), shape=(n, n))


def predict(
    graph: AttributionGraph, changes: Mapping[int, float], *, direct: bool, adjacency=None
) -> np.ndarray:
    """Predicted change of every node (array of len(nodes)) for activation changes `{row: new - recorded}`.

    `adjacency` is `per_unit_adjacency(graph)` when the caller reuses it across many interventions (or
    its dense copy, `dense_adjacency`, on a small graph: one numpy product per term instead of scipy's).
    """
    from scipy.sparse import csr_matrix, diags, identity, issparse
    from scipy.sparse.linalg import spsolve

    n = len(graph.nodes)
    B = per_unit_adjacency(graph) if adjacency is None else adjacency
    e = np.zeros(n)
    for row, delta in changes.items():
        e[int(row)] += float(delta)
    if not changes:
        return e
    if direct:
        out = B @ e
        out[list(changes)] = e[list(changes)]
        return np.asarray(out).ravel()
    keep = np.ones(n)
    keep[list(changes)] = 0.0
    # The graph is a DAG (edges go to later layers), so B_S = diag(keep) B is nilpotent and the Neumann
    # series e + B_S e + B_S^2 e + ... ends after at most "depth" terms: one sparse product per term
    # (B_S v = keep * (B v): the clamped matrix is only built for the fallback solve).
    total, term = e.copy(), e
    for _ in range(4 * max(graph.n_layers, 1) + 10):  # deeper than any layered DAG: solve instead
        term = keep * (B @ term)
        if not term.any():
            return total
        total += term
    clamped = (diags(keep) @ (B if issparse(B) else csr_matrix(B))).tocsr()
    system = (identity(n, format="csc") - clamped).tocsc()
    return np.asarray(spsolve(system, e)).ravel()


#: graphs up to this many nodes get a dense copy of `B` for the path sum (2,048 nodes: 32 MB)
DENSE_NODES = 2048


def dense_adjacency(adjacency) -> np.ndarray | None:
    """`adjacency` as a dense float64 array when the graph has at most `DENSE_NODES` nodes, else None."""
    if adjacency.shape[0] > DENSE_NODES:
        return None
    return np.asarray(adjacency.toarray(), dtype=np.float64)


def target_adjacency(adjacency, rows: list[int]) -> np.ndarray:
    """Dense rows `rows` of `per_unit_adjacency` (targets x nodes): the direct prediction at those rows."""
    return np.asarray(adjacency[rows].toarray(), dtype=np.float64)


def predict_direct(rows_of_b: np.ndarray, changes: Mapping[int, float]) -> np.ndarray:
    """`predict(..., direct=True)` at the rows of `rows_of_b` (from `target_adjacency`), none of them a
    changed node: `sum_s B[l, s] e_s` over the changed nodes only."""
    if not changes:
        return np.zeros(rows_of_b.shape[0])
    cols = np.fromiter(changes, dtype=np.int64, count=len(changes))
    deltas = np.fromiter((float(d) for d in changes.values()), dtype=np.float64, count=len(changes))
    return rows_of_b[:, cols] @ deltas


def logit_rows(graph: AttributionGraph) -> np.ndarray:
    """Rows of the graph's logit nodes, in file order."""
    return np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)


def node_influence(graph: AttributionGraph) -> np.ndarray:
    """circuit-tracer's node influence on the pruned graph: `w^T ((I - N)^-1 - I)`, where `N` is `|A|` with
    rows normalised to sum 1 and `w` the logit nodes' probabilities (0 elsewhere)."""
    from scipy.sparse import csr_matrix, diags, identity
    from scipy.sparse.linalg import spsolve

    n = len(graph.nodes)
    A = csr_matrix((np.abs(graph.edges.weight), (graph.edges.target, graph.edges.source)), shape=(n, n))
    sums = np.asarray(A.sum(axis=1)).ravel()
    N = diags(1.0 / np.maximum(sums, 1e-10)) @ A
    w = np.zeros(n)
    rows = logit_rows(graph)
    probs = graph.nodes.logit_probability[rows]
    w[rows] = np.where(np.isfinite(probs), probs, 0.0)
    NT = N.T.tocsr()
    total, term = np.zeros(n), w
    for _ in range(4 * max(graph.n_layers, 1) + 10):  # a layered DAG: the series ends after its depth
        term = NT @ term
        if not term.any():
            return total
        total += term
    x = np.asarray(spsolve((identity(n, format="csc") - N).T.tocsc(), w)).ravel()
    return x - w
