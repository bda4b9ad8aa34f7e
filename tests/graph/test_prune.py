"""Pruning without torch: hand-checked graphs, the threshold selection, sparse input, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from attrgraph_cli.graph import mass_threshold as mt
from attrgraph_cli.graph.mass_threshold import mass_threshold
from attrgraph_cli.graph.prune import _influence, prune_matrix
from attrgraph_cli.graph.prune_storage import DenseWeights
from attrgraph_testing.synthetic import random_dense


def _naive_threshold(scores: np.ndarray, fraction: float) -> np.float32:
    """circuit-tracer's find_threshold on PyTorch CPU semantics, with a full sort (the reference)."""
    ordered = np.sort(scores.ravel())[::-1]
    cumulative = np.cumsum(ordered, dtype=np.float64).astype(np.float32)
    total = np.float32(ordered.sum(dtype=np.float64))
    with np.errstate(invalid="ignore"):
        index = int(np.searchsorted(cumulative / total, np.float32(fraction), side="left"))
    return ordered[min(index, ordered.size - 1)]


def _chain_graph() -> tuple[np.ndarray, dict]:
    """Nodes: f0 f1 f2 (features), e0 (one error: 1 layer x 1 token), t0 (token), l0 (logit).

    t0 -> f0 (3) -> l0 (4);  t0 -> f1 (1) -> l0 (0.01); f2 has no input and feeds l0 (0.02);
    e0 -> l0 (1). Influence on l0 (row sum 5.03): f0 .795, e0 .199, f2 .004, f1 .002 and, through
    f0 and f1, t0 .797; of the total 1.797, t0 + f0 already hold 88.6% >= 80%: only f0 survives the
    node cut (t0 and l0 always do), so the edges are t0 -> f0 and f0 -> l0.
    """
    a = np.zeros((6, 6), dtype=np.float32)
    f0, f1, f2, e0, t0, l0 = range(6)
    a[f0, t0] = 3.0
    a[f1, t0] = -1.0  # the sign does not matter: influence uses |weights|
    a[l0, f0] = 4.0
    a[l0, f1] = 0.01
    a[l0, f2] = 0.02
    a[l0, e0] = 1.0
    return a, {"n_features": 3, "n_tokens": 1, "logit_probabilities": np.array([1.0], np.float32)}


def test_chain_graph_keeps_the_main_path():
    a, kw = _chain_graph()
    result = prune_matrix(a, **kw)
    assert result.node_mask.tolist() == [True, False, False, False, True, True]
    expected = np.zeros((6, 6), dtype=bool)
    expected[0, 4] = expected[5, 0] = True  # t0 -> f0, f0 -> l0
    np.testing.assert_array_equal(result.edge_mask, expected)
    total = 0.797 + 0.795 + 0.199 + 0.004 + 0.002
    expected_scores = np.cumsum([0.797, 0.795, 0.199, 0.004, 0.002, 0.0]) / total  # t0 f0 e0 f2 f1 l0
    order = [4, 0, 3, 2, 1, 5]
    np.testing.assert_allclose(result.cumulative_scores[order], expected_scores, atol=2e-3)


def test_threshold_one_keeps_every_node_with_influence():
    a, kw = _chain_graph()
    result = prune_matrix(a, **kw, node_threshold=1.0, edge_threshold=1.0)
    # f2 has influence but no incoming edge: features need one; f1 keeps t0 -> f1 -> l0
    assert result.node_mask.tolist() == [True, True, False, True, True, True]


def test_input_is_not_modified_and_dtype_is_free():
    data = random_dense(n_layers=3, n_tokens=3, n_features=40, seed=1)
    a = data["adjacency"]
    before = a.copy()
    kw = {"n_features": 40, "n_tokens": 3, "logit_probabilities": data["logit_probabilities"]}
    r32 = prune_matrix(a, **kw)
    np.testing.assert_array_equal(a, before)
    r64 = prune_matrix(a.astype(np.float64), **kw)
    np.testing.assert_array_equal(r32.node_mask, r64.node_mask)
    np.testing.assert_array_equal(r32.edge_mask, r64.edge_mask)
    sparse = scipy.sparse.csr_matrix(a)
    sparse_before = sparse.copy()
    prune_matrix(sparse, **kw)
    assert (sparse != sparse_before).nnz == 0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("density", [1.0, 0.2])
def test_sparse_input_matches_dense(seed, density):
    data = random_dense(n_layers=4, n_tokens=4, n_features=150, density=density, seed=seed)
    kw = {"n_features": 150, "n_tokens": 4, "logit_probabilities": data["logit_probabilities"]}
    dense = prune_matrix(data["adjacency"], **kw)
    sparse = prune_matrix(scipy.sparse.coo_array(data["adjacency"]), **kw)
    assert isinstance(sparse.edge_mask, scipy.sparse.csr_array)
    np.testing.assert_array_equal(dense.node_mask, sparse.node_mask)
    np.testing.assert_allclose(dense.cumulative_scores, sparse.cumulative_scores, atol=1e-5)
    differ = dense.edge_mask != sparse.edge_mask.toarray()
    # float order differs between BLAS and scipy's sparse products: at most a near-tie edge or two
    assert differ.sum() <= 2


def test_ties_at_the_top_and_no_mass():
    a, kw = _chain_graph()
    # edge cut 0 keeps the best-scoring edges only: t0 -> f0 and f0 -> l0 tie at score 1
    result = prune_matrix(a, **kw, edge_threshold=0.0)
    assert sorted(zip(*np.nonzero(result.edge_mask), strict=True)) == [(0, 4), (5, 0)]
    sparse = prune_matrix(scipy.sparse.csr_array(a), **kw, edge_threshold=0.0)
    assert sparse.edge_mask.nnz == 2
    # no mass at all (a logit of probability 0): every score is 0, so every node and every pair stays
    nothing = prune_matrix(a, **{**kw, "logit_probabilities": np.array([0.0], np.float32)})
    assert nothing.node_mask.all() and nothing.edge_mask.all()


def test_influence_matches_float64_power_series_with_row_compaction():
    """The dense iterate compacts rows as its support shrinks; the sum must not change."""
    rng = np.random.default_rng(5)
    n = 300
    # a random DAG in a shuffled order, paths of many lengths (supports are not nested)
    order = rng.permutation(n)
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    a = rng.random((n, n)) * (rank[None, :] < rank[:, None]) * (rng.random((n, n)) < 0.03)
    w = np.zeros(n, dtype=np.float32)
    w[order[-3:]] = [0.5, 0.3, 0.2]
    weights = DenseWeights.of(a)
    ours = _influence(weights, w, 1000)
    norm = np.abs(a) / np.maximum(np.abs(a).sum(1, keepdims=True), 1e-10)
    expected = w.astype(np.float64) @ (np.linalg.inv(np.eye(n) - norm) - np.eye(n))
    np.testing.assert_allclose(ours, expected, rtol=2e-4, atol=1e-7)
    assert not np.array_equal(weights.node_at_row, np.arange(n))  # compaction did happen


def test_cycle_raises_runtime_error():
    a = np.zeros((4, 4), dtype=np.float32)
    a[0, 1] = a[1, 0] = 1.0  # feature 0 <-> feature 1
    a[3, 0] = 1.0
    with pytest.raises(RuntimeError, match="converge"):
        prune_matrix(a, n_features=2, n_tokens=1, logit_probabilities=np.array([1.0]), max_iter=50)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"node_threshold": 1.5}, "node_threshold"),
        ({"edge_threshold": -0.1}, "edge_threshold"),
        ({"n_features": 10}, "do not fit"),
        ({"logit_probabilities": np.array([])}, "at least one logit"),
    ],
)
def test_bad_arguments(kwargs, message):
    a, kw = _chain_graph()
    with pytest.raises(ValueError, match=message):
        prune_matrix(a, **{**kw, **kwargs})
    with pytest.raises(ValueError, match="square"):
        prune_matrix(np.zeros((3, 4)), **kw)


# ---- mass_threshold: exact against the full sort, including the bracketed path ----


@pytest.fixture(scope="module")
def big_scores() -> np.ndarray:
    rng = np.random.default_rng(0)
    values = (rng.standard_normal(3_000_000, dtype=np.float32) ** 2) * rng.exponential(1, 3_000_000).astype(
        np.float32
    )
    values[rng.random(values.size) < 0.6] = 0  # mostly zeros, like edge scores
    values[:50_000] = values[50_000:100_000]  # many exact ties
    return values


@pytest.mark.parametrize("fraction", [0.0, 1e-6, 0.3, 0.5, 0.8, 0.98, 0.999, 0.99999, 1.0])
def test_mass_threshold_equals_full_sort(big_scores, fraction):
    assert big_scores.size > mt._SORT_OUTRIGHT  # the bracketed path
    assert mass_threshold(big_scores, fraction) == _naive_threshold(big_scores, fraction)


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.98, 1.0])
def test_mass_threshold_small_and_shaped(fraction):
    rng = np.random.default_rng(1)
    for values in (
        rng.random(1000, dtype=np.float32),
        np.zeros(10, dtype=np.float32),
        np.array([5.0], dtype=np.float32),
        rng.random((40, 40), dtype=np.float32),
    ):
        assert mass_threshold(values, fraction) == _naive_threshold(values, fraction)


def test_mass_threshold_when_the_sample_misleads(monkeypatch):
    """One score holds almost all the mass and the strided sample misses it: the bracket must widen."""
    monkeypatch.setattr(mt, "_SORT_OUTRIGHT", 1000)
    monkeypatch.setattr(mt, "_SAMPLE", 100)
    rng = np.random.default_rng(2)
    values = rng.random(100_000, dtype=np.float32)
    values[12_345] = 1e6
    for fraction in (0.5, 0.9999, 0.99999999, 1.0):
        assert mass_threshold(values, fraction) == _naive_threshold(values, fraction)


def test_mass_threshold_implicit_zeros():
    values = np.array([3.0, 2.0, 1.0], dtype=np.float32)
    # 1.0 is never reached in float32 only if rounding says so; with these exact sums it is reached
    assert mass_threshold(values, 1.0, n_total=10) == np.float32(1.0)
    assert mass_threshold(np.zeros(3, np.float32), 0.5, n_total=10) == 0


def test_cumulative_influence_equals_prune_matrix_scores():
    from attrgraph_cli.graph.prune import cumulative_influence
    from attrgraph_testing.synthetic import random_dense

    d = random_dense(n_layers=4, n_tokens=5, n_features=120, n_logits=4, density=0.4, seed=11)
    full = prune_matrix(
        d["adjacency"], n_features=120, n_tokens=5, logit_probabilities=d["logit_probabilities"]
    )
    alone = cumulative_influence(d["adjacency"], logit_probabilities=d["logit_probabilities"])
    np.testing.assert_array_equal(alone, full.cumulative_scores)
