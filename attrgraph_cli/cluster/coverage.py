"""Quality (a), coverage: circuit-tracer's replacement and completeness scores of a feature subgraph.

`graph_scores` is `circuit_tracer.graph.compute_graph_scores` in numpy/scipy; `subgraph_scores` applies it
to the graph in which only the kept features remain and every other feature is merged into the error
node of its layer and position (created when the pruned graph has none): its outgoing links become that
error node's, its incoming links are dropped (an error node has no inputs: it is what the features do
not explain), as Neuronpedia's subgraph score treats unpinned features.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from attrgraph_cli.cluster.influence import logit_weights, normalize_rows, propagate
from attrgraph_cli.graph.model import AttributionGraph, NodeKind


def graph_scores(
    adjacency: sp.csr_matrix, error: np.ndarray, token: np.ndarray, weights: np.ndarray
) -> tuple[float, float]:
    """(replacement, completeness) of a graph given as rows=targets adjacency and node masks.

    replacement = I(tokens) / (I(tokens) + I(errors)), I = node influence on the weighted logits;
    completeness = Σ_n (1 - Σ_{e ∈ errors} Â[n, e]) (I_n + w_n) / Σ_n (I_n + w_n).
    """
    normalized = normalize_rows(adjacency)
    influence = propagate(normalized, weights)
    tok, err = float(influence[token].sum()), float(influence[error].sum())
    replacement = tok / (tok + err) if tok + err > 0 else float("nan")
    from_errors = np.asarray(normalized[:, np.flatnonzero(error)].sum(axis=1)).ravel()
    output = influence + weights
    total = float(output.sum())
    completeness = float(((1.0 - from_errors) * output).sum() / total) if total > 0 else float("nan")
    return replacement, completeness


def merge_into_errors(graph: AttributionGraph, keep: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """The adjacency with the features outside `keep` merged into their layer/position error nodes.

    Returns the merged (rows = targets) matrix over [the graph's nodes without the merged features,
    then the error nodes created] and each of its nodes' kind.
    """
    nodes = graph.nodes
    n = len(nodes)
    merged = (nodes.kind == NodeKind.FEATURE) & ~np.asarray(keep, dtype=bool)
    remaining = np.flatnonzero(~merged)
    new_index = np.full(n, -1, dtype=np.int64)
    new_index[remaining] = np.arange(len(remaining))
    kinds = list(nodes.kind[remaining])
    error_at = {
        (int(nodes.layer[i]), int(nodes.position[i])): int(new_index[i])
        for i in np.flatnonzero(nodes.kind == NodeKind.ERROR)
    }
    for i in np.flatnonzero(merged):
        key = (int(nodes.layer[i]), int(nodes.position[i]))
        if key not in error_at:
            error_at[key] = len(kinds)
            kinds.append(NodeKind.ERROR)
        new_index[i] = error_at[key]
    src, dst, w = graph.edges.source, graph.edges.target, graph.edges.weight
    keep_edge = ~merged[dst]  # a merged feature's inputs are dropped
    s, t = new_index[src[keep_edge]], new_index[dst[keep_edge]]
    size = len(kinds)
    matrix = sp.csr_matrix((w[keep_edge], (t, s)), shape=(size, size))
    matrix.sum_duplicates()
    matrix.setdiag(0)  # a merged feature's link to its own error node would be a loop
    matrix.eliminate_zeros()
    return matrix, np.asarray(kinds, dtype=np.int8)


def subgraph_scores(graph: AttributionGraph, keep: np.ndarray) -> dict[str, float]:
    """Replacement and completeness of the subgraph of the features in `keep` (a node mask)."""
    matrix, kinds = merge_into_errors(graph, keep)
    weights = np.zeros(len(kinds))
    remaining = np.flatnonzero(~((graph.nodes.kind == NodeKind.FEATURE) & ~np.asarray(keep, dtype=bool)))
    weights[: len(remaining)] = logit_weights(graph)[remaining]
    replacement, completeness = graph_scores(
        matrix, kinds == NodeKind.ERROR, kinds == NodeKind.EMBEDDING, weights
    )
    return {"replacement": replacement, "completeness": completeness}
