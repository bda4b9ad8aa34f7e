"""Grouping scores: the exhaustive best-possible contrast (against an independent enumeration of set
partitions), its place in the scores and the table, and the logit-effect signal left out of the similarity
when the graph has a single target logit (its cosine is then only the sign of the effect)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from attrgraph_cli.cluster import ClusterOptions, cluster_graph
from attrgraph_cli.cluster.grouping import best_contrast, profile_contrast, same_partition
from attrgraph_cli.cluster.quality import quality_rows
from attrgraph_cli.cluster.signals import Signals, SignalWeights, similarity
from attrgraph_testing.synthetic_groups import planted_graph


def _partitions(items: list[int], k: int):
    """Every partition of `items` into exactly k non-empty blocks (recursive, no symmetry tricks)."""
    if k == 0:
        if not items:
            yield []
        return
    if len(items) < k:
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest, k - 1):  # `first` alone
        yield [[first], *part]
    for part in _partitions(rest, k):  # `first` joins one of k blocks
        for b in range(k):
            yield [block + [first] if i == b else block for i, block in enumerate(part)]


def _oracle(profiles: sp.csr_matrix, k: int) -> float:
    n = profiles.shape[0]
    best = -np.inf
    for part in _partitions(list(range(n)), k):
        group = np.zeros(n, dtype=np.int64)
        for g, block in enumerate(part):
            group[block] = g
        best = max(best, profile_contrast(profiles, group)["contrast"])
    return best


@pytest.mark.parametrize(("n", "k", "seed"), [(6, 2, 0), (7, 3, 1), (8, 3, 2), (8, 4, 3)])
def test_best_contrast_is_the_best_of_every_grouping(n, k, seed):
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(n, 9)) * (rng.random((n, 9)) < 0.6)
    dense[0] = 0.0  # a feature with no edges: counts in the pairs, adds nothing to the sums
    profiles = sp.csr_matrix(dense)
    best = best_contrast(profiles, k)
    assert best is not None and best["groupings"] == k ** (n - 1)
    assert best["contrast"] == pytest.approx(_oracle(profiles, k), abs=1e-9)
    group = best["group"]
    assert len(np.unique(group)) == k  # exactly k non-empty groups
    assert profile_contrast(profiles, group)["contrast"] == pytest.approx(best["contrast"], abs=1e-9)


def test_best_contrast_finds_planted_blocks_and_knows_its_limits():
    blocks = np.repeat(np.arange(3), 3)
    dense = np.eye(3)[blocks] + 0.01 * np.random.default_rng(0).normal(size=(9, 3))
    best = best_contrast(sp.csr_matrix(dense), 3)
    assert best is not None
    found = best["group"]
    assert all(len(np.unique(found[blocks == b])) == 1 for b in range(3))  # each block one group
    assert best_contrast(sp.csr_matrix(dense), 3, limit=100) is None  # 3^8 groupings: over the limit
    assert best_contrast(sp.csr_matrix(dense), 1) is None and best_contrast(sp.csr_matrix(dense), 9) is None


def test_best_possible_in_the_scores_and_the_table():
    """Small candidate sets get the ceiling (never below ours or the baseline); large ones record None."""
    graph, _ = planted_graph(seed=0)
    g = cluster_graph(graph, ClusterOptions())
    assert g.scores["grouping"]["best_possible"] is None  # 20+ groups of 60+ features: not enumerated
    graph, _ = planted_graph(seed=0)
    small = cluster_graph(graph, ClusterOptions(max_features=8))
    grouping = small.scores["grouping"]
    best = grouping["best_possible"]
    assert best is not None and best["groupings_tried"] == grouping["ours"]["groups"] ** (
        grouping["features"] - 1
    )
    assert best["contrast"] >= max(grouping["ours"]["contrast"], grouping["baseline"]["contrast"]) - 1e-9
    rows = [r for r in quality_rows(small.scores) if r[0].startswith("grouping: best possible")]
    assert rows == [
        (
            f"grouping: best possible contrast, any {grouping['ours']['groups']} groups (all tried)",
            f"{best['contrast']:.3f}",
            "",
            "",
        )
    ]


def _signals(effects: np.ndarray) -> Signals:
    n = len(effects)
    return Signals(
        candidates=np.arange(n),
        profiles=sp.csr_matrix(np.eye(n)),  # orthogonal profiles: edges say nothing alike
        logit_effect=effects,
        layer=np.zeros(n, dtype=np.int64),
        position=np.arange(n),
        words=[frozenset()] * n,
        labels=[""] * n,
    )


def test_a_single_target_logit_adds_no_offset_to_the_similarity():
    """With one target logit every same-sign pair has logit cosine 1: left out, the similarity of two
    features with nothing else in common is the layer term alone; with two targets the cosine counts."""
    w = SignalWeights()
    one = similarity(_signals(np.array([[1.0], [2.0], [0.5]])), w)
    layer_only = w.layer / (w.edges + w.layer + w.position)
    assert one[0, 1] == pytest.approx(layer_only, rel=1e-5)
    two = similarity(_signals(np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])), w)
    denom = w.edges + w.logits + w.layer + w.position
    assert two[0, 1] == pytest.approx((w.layer + w.logits) / denom, rel=1e-5)  # same direction
    assert two[0, 2] == pytest.approx(w.layer / denom, rel=1e-5)  # orthogonal effects


def test_same_partition_ignores_the_ids():
    assert same_partition(np.array([0, 0, 1, 2]), np.array([5, 5, 3, 0]))
    assert not same_partition(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    assert not same_partition(np.array([0, 0, 1]), np.array([0, 1, 1]))
    assert not same_partition(np.array([0, 1]), np.array([0, 0]))  # a split is not the same as one group
    graph, _ = planted_graph(seed=0)
    scores = cluster_graph(graph, ClusterOptions()).scores
    assert scores["grouping"]["same_as_baseline"] is False  # ours beats it there: not the same grouping
    assert all("the same grouping" not in r[2] for r in quality_rows(scores))
    scores["grouping"]["same_as_baseline"] = True
    rows = [r for r in quality_rows(scores) if r[0] == "grouping: contrast"]
    assert rows[0][2].endswith("(layer/position: the same grouping)")


@pytest.mark.parametrize("factor", [1e300, 1e-6])
def test_supernodes_do_not_depend_on_the_scale_of_the_weights(factor):
    """Found by hand-fuzzing: with every weight times 1e300 the squared weights overflowed, every edge
    profile became NaN and `cluster` silently found no supernode. Profiles are scale-free now."""
    graph, _ = planted_graph(seed=0)
    scaled, _ = planted_graph(seed=0)
    scaled.edges.weight[:] = scaled.edges.weight * factor
    a = cluster_graph(graph, ClusterOptions())
    b = cluster_graph(scaled, ClusterOptions())
    assert len(a.new) >= 8
    assert [sorted(s.rows.tolist()) for s in a.new] == [sorted(s.rows.tolist()) for s in b.new]
    ga, gb = a.scores["grouping"], b.scores["grouping"]
    assert gb["ours"]["contrast"] == pytest.approx(ga["ours"]["contrast"], abs=1e-9)
    assert gb["baseline"]["contrast"] == pytest.approx(ga["baseline"]["contrast"], abs=1e-9)
