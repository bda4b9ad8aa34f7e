"""DenseGraph -> AttributionGraph: links come only from non-zero weights."""

import numpy as np

from attrgraph_cli.graph.dense import DenseGraph, dense_to_graph
from attrgraph_testing.synthetic import random_dense


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


def test_colliding_error_node_ids_are_renamed():
    """circuit-tracer's error id `0_L_P` equals feature L of layer 0 at P: the error node gets `L_-1_P`."""
    from attrgraph_cli.graph.dense import rename_colliding_error_nodes
    from attrgraph_cli.graph.model import NodeKind, NodeTable

    nodes = NodeTable.empty(3)
    nodes.ids[:] = ["0_1_3", "0_1_3", "0_2_3"]
    nodes.kind[:] = [NodeKind.FEATURE, NodeKind.ERROR, NodeKind.ERROR]
    nodes.layer[:] = [0, 1, 2]
    nodes.position[:] = [3, 3, 3]
    assert rename_colliding_error_nodes(nodes) == {"0_1_3": "1_-1_3"}
    assert nodes.ids.tolist() == ["0_1_3", "1_-1_3", "0_2_3"]
    assert rename_colliding_error_nodes(nodes) == {}


def test_dense_graph_with_colliding_ids_gets_unique_ids():
    dense = _dense(2)
    # feature 0 becomes layer 0, index 1, position 3: its id 0_1_3 is also the error node of layer 1 at 3
    dense.features = dense.features.copy()
    dense.features[0] = [0, 3, 1]
    n = dense.adjacency.shape[0]
    graph = dense_to_graph(dense, node_mask=np.ones(n, bool), edge_mask=np.ones((n, n), bool))
    assert len(set(graph.nodes.ids.tolist())) == len(graph.nodes)
    assert graph.metadata["info"]["attrgraph"]["renamed_error_nodes"] == {"0_1_3": "1_-1_3"}
    assert graph.nodes.kind[graph.index_of("1_-1_3")] == 2
