"""The vocabulary signal of `cluster`: what a feature writes to the vocabulary (its dashboard's top direct
logits, stored by `autointerp`) as a cosine between features, only where both have a dashboard.

- read from `attrgraph.features[...].details` (`top_logits` + `top_logit_values`, ranks when the values are
  unusable), subword marks and case merged, hostile entries ignored, never an overflow;
- a pair with a missing dashboard scores exactly what it scored without the signal (the control);
- on planted graphs, dashboards that agree with the wiring raise within-group similarity, and dashboards
  that contradict it do not break the groups the wiring defines (the signal is one vote, not the verdict).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from attrgraph_cli.cluster import ClusterOptions, cluster_graph
from attrgraph_cli.cluster import signals as S
from attrgraph_cli.cluster.influence import logit_effects, node_influence
from attrgraph_cli.extension import set_feature
from attrgraph_cli.graph.model import NodeKind
from attrgraph_testing.synthetic_groups import planted_graph


def _entry(tokens, values=None) -> dict:
    details = {"top_logits": tokens}
    if values is not None:
        details["top_logit_values"] = values
    return {"label": "", "details": details}


def test_top_logits_with_values_ranks_and_marks():
    got = S._top_logits(_entry(["▁Texas", " austin", "ĠTEXAS", "x"], [2.0, 1.0, 0.5, -1.0]), 10)
    assert got == [("texas", 1.0), ("austin", 0.5), ("texas", 0.25)]  # scaled by the largest, negatives out
    # values missing, too short, NaN or booleans: weights by rank, 1/(rank+1)
    for values in (None, [1.0], [1.0, math.nan, 1.0], [True, 1.0, 1.0], "1,2,3"):
        assert S._top_logits(_entry(["a", "b", "c"], values), 10) == [("a", 1.0), ("b", 0.5), ("c", 1 / 3)]
    assert S._top_logits(_entry(["a", "b", "c"], [3.0, 2.0, 1.0]), 2) == [("a", 1.0), ("b", 2 / 3)]


@pytest.mark.parametrize(
    "entry",
    [None, 3, "x", {}, {"details": None}, {"details": []}, {"details": {"top_logits": "Texas"}},
     {"details": {"top_logits": [None, 3, {}, "", "  ", "▁"]}},
     {"details": {"top_logits": ["a"], "top_logit_values": [0.0]}}],
)  # fmt: skip
def test_hostile_or_empty_dashboards_give_nothing(entry):
    assert S._top_logits(entry, 5) == []


def test_huge_values_do_not_overflow():
    got = S._top_logits(_entry(["a", "b"], [1e308, 1e308]), 5)
    assert got == [("a", 1.0), ("b", 1.0)]


def _signals(graph):
    adjacency = graph.adjacency()
    adjacency.sum_duplicates()
    influence = node_influence(graph, adjacency)
    feats = np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)
    cand = feats[np.argsort(-influence[feats], kind="stable")][:60]
    return S.collect(graph, cand, adjacency, logit_effects(graph, adjacency), S.node_labels(graph))


def _give_dashboards(graph, rows, token_of) -> None:
    for r in rows:
        layer, index = int(graph.nodes.layer[r]), int(graph.nodes.feature[r])
        set_feature(graph, layer, index, _entry([token_of(r), "the", "filler"], [2.0, 0.5, 0.4]))


def test_pairs_without_both_dashboards_are_unchanged():
    graph, truth = planted_graph(seed=0)
    plain = S.similarity(_signals(graph))
    half = _signals(graph).candidates[::2]
    _give_dashboards(graph, half, lambda r: f"group{truth[r]}")
    sig = _signals(graph)
    with_vocab = S.similarity(sig)
    has = np.asarray(sig.vocabulary.getnnz(axis=1) > 0)
    assert has.sum() == len(half)
    lacking = ~np.logical_and.outer(has, has)
    np.testing.assert_allclose(with_vocab[lacking], plain[lacking], rtol=1e-5, atol=1e-6)
    # and with the weight at 0 every pair is unchanged
    np.testing.assert_allclose(S.similarity(sig, S.SignalWeights(vocabulary=0.0)), plain, atol=1e-6)
    # pairs with both: the weighted mean takes in the vocabulary cosine, larger for a shared top token
    w = S.SignalWeights()
    denom = w.edges + w.logits + w.layer + w.position
    cos = S.gram(sig.vocabulary)
    both = ~lacking & ~np.eye(len(has), dtype=bool)
    expected = (plain * denom + w.vocabulary * cos) / (denom + w.vocabulary)
    np.testing.assert_allclose(with_vocab[both], np.clip(expected, -1, 1)[both], rtol=1e-5, atol=1e-6)
    same = np.equal.outer(truth[sig.candidates], truth[sig.candidates])
    assert cos[both & same].min() > cos[both & ~same].max()


def _purity(result, truth) -> float:
    right = total = 0
    for s in result.new:
        right += int(np.bincount(truth[s.rows] + 1).max())
        total += len(s.rows)
    return right / total


def test_agreeing_dashboards_help_and_contradicting_ones_do_not_break_the_wiring():
    graph, truth = planted_graph(seed=1)
    feats = np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)
    _give_dashboards(graph, feats, lambda r: f"group{truth[r]}")
    agree = cluster_graph(graph, ClusterOptions())
    base, _ = planted_graph(seed=1)
    plain = cluster_graph(base, ClusterOptions())
    assert _purity(agree, truth) >= _purity(plain, truth) >= 0.8
    mean_sim = lambda r: np.mean([s.scores["mean_similarity"] for s in r.new if len(s.rows) > 1])  # noqa: E731
    assert mean_sim(agree) > mean_sim(plain)

    rng = np.random.default_rng(0)
    shuffled, _ = planted_graph(seed=1)
    wrong = dict(zip(feats.tolist(), rng.permutation(truth[feats]).tolist(), strict=True))
    _give_dashboards(shuffled, feats, lambda r: f"group{wrong[r]}")
    assert _purity(cluster_graph(shuffled, ClusterOptions()), truth) >= 0.8
