"""Coverage (a) against circuit-tracer's own `compute_graph_scores` (the oracle).

1. On a full random circuit-tracer graph, `graph_scores` equals `compute_graph_scores`.
2. On the subgraph of a feature subset: the oracle's graph is built here with torch, independently of
   `merge_into_errors` (rows of left-out features zeroed, their columns added to their error node's
   column, then removed), and the attrgraph side starts from the AttributionGraph of the same matrix.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from attrgraph_cli.cluster.coverage import graph_scores, subgraph_scores
from attrgraph_cli.graph.model import AttributionGraph, EdgeList, NodeKind, NodeTable
from attrgraph_testing.synthetic import random_dense

pytestmark = pytest.mark.trace
torch = pytest.importorskip("torch")
ct_graph = pytest.importorskip("circuit_tracer.graph")

from attrgraph_testing.ct_files import circuit_tracer_graph  # noqa: E402


def _kinds(data: dict) -> np.ndarray:
    f, t = len(data["features"]), data["n_tokens"]
    e = data["n_layers"] * t
    k = len(data["logit_probabilities"])
    return np.concatenate(
        [
            np.full(f, NodeKind.FEATURE),
            np.full(e, NodeKind.ERROR),
            np.full(t, NodeKind.EMBEDDING),
            np.full(k, NodeKind.LOGIT),
        ]
    ).astype(np.int8)


def _as_attribution_graph(data: dict) -> AttributionGraph:
    """The dense matrix as an AttributionGraph, every node and nonzero link kept (no pruning)."""
    kinds = _kinds(data)
    n = len(kinds)
    _f, t = len(data["features"]), data["n_tokens"]
    table = NodeTable.empty(n)
    table.kind = kinds
    err_layer, err_pos = np.divmod(np.arange(data["n_layers"] * t), t)
    table.layer = np.concatenate(
        [
            data["features"][:, 0],
            err_layer,
            np.full(t, -1),
            np.full(len(data["logit_probabilities"]), data["n_layers"]),
        ]
    ).astype(np.int32)
    table.position = np.concatenate(
        [data["features"][:, 1], err_pos, np.arange(t), np.full(len(data["logit_probabilities"]), t - 1)]
    ).astype(np.int32)
    table.ids = np.array([f"n{i}" for i in range(n)], dtype=object)
    table.logit_probability[n - len(data["logit_probabilities"]) :] = data["logit_probabilities"]
    tgt, src = np.nonzero(data["adjacency"])
    return AttributionGraph(table, EdgeList.from_arrays(src, tgt, data["adjacency"][tgt, src]))


def _oracle(data: dict, keep: np.ndarray) -> tuple[float, float]:
    f, t, _n_layers = len(data["features"]), data["n_tokens"], data["n_layers"]
    a = torch.from_numpy(data["adjacency"]).double()
    left = np.flatnonzero(~keep)
    a[torch.from_numpy(left)] = 0.0  # a merged feature has no inputs
    for i in left:
        layer, pos = int(data["features"][i, 0]), int(data["features"][i, 1])
        a[:, f + layer * t + pos] += a[:, i]
    rest = torch.from_numpy(np.concatenate([np.flatnonzero(keep), np.arange(f, a.shape[0])]))
    a = a[rest][:, rest]
    a.fill_diagonal_(0.0)
    sub = dict(data)
    sub["features"] = data["features"][keep]
    sub["activations"] = data["activations"][keep]
    sub["adjacency"] = a.float().numpy()
    return ct_graph.compute_graph_scores(circuit_tracer_graph(sub))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_graph_scores_equal_circuit_tracer(seed):
    data = random_dense(n_layers=4, n_tokens=5, n_features=120, density=0.4, seed=seed)
    kinds = _kinds(data)
    w = np.zeros(len(kinds))
    w[kinds == NodeKind.LOGIT] = data["logit_probabilities"]
    ours = graph_scores(
        sp.csr_matrix(data["adjacency"].astype(np.float64)),
        kinds == NodeKind.ERROR,
        kinds == NodeKind.EMBEDDING,
        w,
    )
    theirs = ct_graph.compute_graph_scores(circuit_tracer_graph(data))
    assert ours == pytest.approx(theirs, rel=1e-5)
    assert _oracle(data, np.ones(len(data["features"]), dtype=bool)) == pytest.approx(theirs, rel=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("share", [0.0, 0.3, 0.8])
def test_subgraph_scores_equal_circuit_tracer_on_the_merged_graph(seed, share):
    data = random_dense(n_layers=4, n_tokens=5, n_features=120, density=0.4, seed=seed)
    keep = np.random.default_rng(seed).random(len(data["features"])) < share
    graph = _as_attribution_graph(data)
    node_keep = np.zeros(len(graph.nodes), dtype=bool)
    node_keep[: len(keep)] = keep
    ours = subgraph_scores(graph, node_keep)
    replacement, completeness = _oracle(data, keep)
    assert ours["replacement"] == pytest.approx(replacement, rel=1e-5)
    assert ours["completeness"] == pytest.approx(completeness, rel=1e-5)
    if share < 1:  # a control: the merge changes the scores (the test could fail)
        full = subgraph_scores(graph, np.ones(len(graph.nodes), dtype=bool))
        assert full["replacement"] != pytest.approx(ours["replacement"], rel=1e-3)
