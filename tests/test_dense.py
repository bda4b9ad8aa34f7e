"""DenseGraph -> AttributionGraph: links come only from non-zero weights."""

import numpy as np

from attrgraph_cli.graph.dense import DenseGraph, dense_to_graph
from attrgraph_cli.graph.synthetic import random_dense


def _dense(seed: int = 0) -> DenseGraph:
    d = random_dense(n_layers=3, n_tokens=4, n_features=40, n_logits=3, density=0.3, seed=seed)
    return DenseGraph(
        adjacency=d["adjacency"],
        features=d["features"],
        token_ids=np.arange(4),
        token_strings=["a", " b", " c", " d"],
        logit_token_ids=np.arange(3),
        logit_tokens=[" x", " y", " z"],
        logit_probabilities=d["logit_probabilities"],
        n_layers=3,
        activations=d["activations"],
    )


def test_all_true_masks_emit_only_nonzero_links():
    dense = _dense()
    n = dense.adjacency.shape[0]
    graph = dense_to_graph(dense, node_mask=np.ones(n, bool), edge_mask=np.ones((n, n), bool))
    assert len(graph.edges) == int(np.count_nonzero(dense.adjacency))
    assert (graph.edges.weight != 0).all()


def test_threshold_one_keeps_no_zero_weight_links():
    graph = dense_to_graph(_dense(1), node_threshold=1.0, edge_threshold=1.0)
    assert len(graph.edges) > 0
    assert (graph.edges.weight != 0).all()
