"""`prune_matrix` against circuit-tracer's own `prune_graph` on seeded random graphs (the oracle).

Masks must be identical, or differ only where float precision cannot decide (see graph/prune.py):
- a node may differ only if its influence is within a relative 1e-4 of circuit-tracer's node cut (the
  power series in float32 differs by ~1e-5 relative between BLAS libraries); the edges are then
  compared no further (their normalisation depends on the node set);
- an edge may differ only if its score is within a relative 1e-4 of circuit-tracer's edge cut; at an
  edge threshold of exactly 1.0, the differing edges together must score under 2.4e-7 of the total
  (two float32 ulps of the cumulative share, where 1.0 is reached or not);
- at an edge threshold of exactly 1.0, circuit-tracer's float32 share sometimes stops one ulp short of
  1.0: its cut falls to 0 and it keeps every pair of nodes and drops no node for lack of edges. That
  outcome hangs on the last bit of a float32 sum; attrgraph keeps the edges that carry the influence
  instead (documented in graph/prune.py). Such cases are checked to be that case and nothing else;
- with thresholds below 1.0 (almost) every case must be identical; cumulative scores agree to 2e-4.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from attrgraph_cli.graph.prune import prune_matrix
from attrgraph_testing.ct_files import circuit_tracer_graph
from attrgraph_testing.synthetic import random_dense

pytestmark = pytest.mark.trace
torch = pytest.importorskip("torch")
ct_graph = pytest.importorskip("circuit_tracer.graph")

THRESHOLDS = [(0.8, 0.98), (0.5, 0.5), (0.3, 0.9), (0.0, 0.0), (1.0, 0.98), (0.8, 1.0), (1.0, 1.0)]
SHAPES = [  # n_layers, n_tokens, n_features, density
    (2, 2, 20, 1.0),
    (4, 5, 150, 1.0),
    (6, 4, 300, 0.3),
    (8, 6, 500, 0.05),
    (12, 7, 900, 1.0),
]


def _oracle_internals(graph, node_threshold: float, edge_threshold: float) -> dict:
    """circuit-tracer's node influence, node cut, edge scores and edge cut (its own functions)."""
    a = graph.adjacency_matrix
    n_logits, n_tokens = len(graph.logit_targets), len(graph.input_tokens)
    w = torch.zeros(a.shape[0])
    w[-n_logits:] = graph.logit_probabilities
    influence = ct_graph.compute_node_influence(a, w)
    node_cut = ct_graph.find_threshold(influence, node_threshold)
    mask = influence >= node_cut
    mask[-n_logits - n_tokens :] = True
    pruned = a.clone()
    pruned[~mask] = 0
    pruned[:, ~mask] = 0
    scores = ct_graph.compute_edge_influence(pruned, w)
    return {
        "influence": influence.numpy(),
        "node_cut": float(node_cut),
        "scores": scores.numpy(),
        "edge_cut": float(ct_graph.find_threshold(scores.flatten(), edge_threshold)),
    }


def compare(data: dict, node_threshold: float, edge_threshold: float, *, sparse: bool = False) -> str:
    """'same', 'near-node' or 'near-edge' (explained differences); fails on any other difference."""
    graph = circuit_tracer_graph(data)
    expected = ct_graph.prune_graph(graph, node_threshold, edge_threshold)
    adjacency = scipy.sparse.csr_array(data["adjacency"]) if sparse else data["adjacency"]
    ours = prune_matrix(
        adjacency,
        n_features=len(data["features"]),
        n_tokens=data["n_tokens"],
        logit_probabilities=data["logit_probabilities"],
        node_threshold=node_threshold,
        edge_threshold=edge_threshold,
    )
    our_edges = ours.edge_mask.toarray() if sparse else ours.edge_mask
    assert our_edges.shape == tuple(expected.edge_mask.shape) and our_edges.dtype == bool
    inside = _oracle_internals(graph, node_threshold, edge_threshold)
    _check_cumulative_scores(ours.cumulative_scores, expected.cumulative_scores.numpy(), inside["influence"])
    node_diff = np.flatnonzero(ours.node_mask != expected.node_mask.numpy())
    edge_diff = our_edges != expected.edge_mask.numpy()
    if node_diff.size == 0 and not edge_diff.any():
        return "same"

    near_node = np.abs(inside["influence"][node_diff] - inside["node_cut"]) <= 1e-4 * inside["node_cut"]
    if node_diff.size and near_node.all():
        return "near-node"
    if edge_threshold == 1.0 and inside["edge_cut"] == 0.0 and expected.edge_mask.all():
        kept_scores = inside["scores"][our_edges]
        assert (kept_scores > 0).all() and not (ours.node_mask & ~expected.node_mask.numpy()).any()
        return "ct-keeps-every-pair"
    scores = inside["scores"][edge_diff]
    if edge_threshold == 1.0:
        share = float(scores.sum(dtype=np.float64)) / float(inside["scores"].sum(dtype=np.float64))
        assert share <= 2.4e-7, f"differing edges hold {share:.3g} of the score at threshold 1.0"
        bad = np.zeros(scores.shape, dtype=bool)
    else:
        bad = np.abs(scores - inside["edge_cut"]) > 1e-4 * inside["edge_cut"]
    assert not bad.any(), (
        f"{bad.sum()} of {edge_diff.sum()} differing edges are not near the cut {inside['edge_cut']:.6g}: "
        f"scores {np.sort(scores[bad])[:5]}"
    )
    # a node may only differ because a near-cut edge was its last one
    touched = np.zeros(len(ours.node_mask), dtype=bool)
    targets, sources = np.nonzero(edge_diff)
    touched[targets] = touched[sources] = True
    assert touched[node_diff].all(), f"nodes {node_diff[~touched[node_diff]]} differ with none of their edges"
    return "near-edge"


def _check_cumulative_scores(ours: np.ndarray, theirs: np.ndarray, influence: np.ndarray) -> None:
    """Equal to 2e-4, except that (near-)tied influences may take their shares in another order."""
    np.testing.assert_allclose(np.sort(ours), np.sort(theirs), atol=2e-4)
    ordered = np.sort(influence)
    near = np.abs(np.diff(ordered)) <= 1e-5 * np.abs(ordered[1:])
    tied_values = np.concatenate([ordered[:-1][near], ordered[1:][near]])
    untied = ~np.isin(influence, tied_values)
    np.testing.assert_allclose(ours[untied], theirs[untied], atol=2e-4)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_same_masks_as_circuit_tracer(shape):
    n_layers, n_tokens, n_features, density = shape
    outcomes = []
    for seed in range(4):
        data = random_dense(
            n_layers=n_layers, n_tokens=n_tokens, n_features=n_features, density=density, seed=seed
        )
        for node_threshold, edge_threshold in THRESHOLDS:
            outcome = compare(data, node_threshold, edge_threshold)
            outcomes.append((node_threshold, edge_threshold, outcome))
    below_one = [o for nt, et, o in outcomes if nt < 1 and et < 1]
    # below 1.0 all 16 cases per shape are identical on this machine; one near-cut case is tolerated
    # for another BLAS build or thread count
    assert below_one.count("same") >= len(below_one) - 1, outcomes


@pytest.mark.parametrize("seed", range(3))
def test_sparse_input_same_masks_as_circuit_tracer(seed):
    data = random_dense(n_layers=6, n_tokens=5, n_features=400, density=0.1, seed=seed)
    for node_threshold, edge_threshold in THRESHOLDS:
        compare(data, node_threshold, edge_threshold, sparse=True)


def test_no_mass_keeps_everything_like_circuit_tracer():
    data = random_dense(n_layers=3, n_tokens=3, n_features=30, seed=0)
    data["logit_probabilities"] = np.zeros_like(data["logit_probabilities"])
    assert compare(data, 0.8, 0.98) == "same"


@pytest.mark.slow
def test_same_masks_as_circuit_tracer_at_benchmark_scale():
    """One graph the size of the benchmark's (N = 7,807) at the default thresholds."""
    data = random_dense(seed=11)
    assert compare(data, 0.8, 0.98) in ("same", "near-edge")
