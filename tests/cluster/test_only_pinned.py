"""`cluster --only-pinned`: only pinned features join supernodes, grouped as the whole graph groups them
(the unpinned candidates are context), so pinning does not cost grouping quality."""

from __future__ import annotations

import numpy as np
import pytest

from attrgraph_cli.cluster import ClusterOptions, cluster_graph
from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import NodeKind
from attrgraph_testing import real_groupings as rg
from attrgraph_testing.synthetic_groups import planted_graph


def _pin_every_other(graph) -> set[str]:
    """Pin every second feature node (by id order): half of each planted group."""
    feats = sorted(graph.nodes.ids[graph.nodes.kind == NodeKind.FEATURE].tolist())
    pins = feats[::2]
    graph.qparams["pinnedIds"] = list(pins)
    return set(pins)


@pytest.mark.parametrize("keep", [None, 0.95, 0.6])
@pytest.mark.parametrize("method", ["structural", "fitted"])
def test_pinned_supernodes_are_the_default_ones_cut_to_the_pins(method, keep):
    """With --only-pinned every group of pins is kept (`keep` None: the noise rule is off, so the cut
    is of the whole graph's grouping before that rule); a `--keep-influence` given applies to the whole
    graph's supernodes, and the pinned ones are those cut to the pins."""
    default_graph, _ = planted_graph(seed=1)
    whole = 1.0 if keep is None else keep
    default = cluster_graph(default_graph, ClusterOptions(replace=True, method=method, keep_influence=whole))
    graph, _ = planted_graph(seed=1)
    pins = _pin_every_other(graph)
    opts = ClusterOptions(replace=True, method=method, only_pinned=True, keep_influence=keep)
    pinned = cluster_graph(graph, opts)
    ids = graph.nodes.ids
    cut = {frozenset(set(map(str, ids[s.rows])) & pins) for s in default.new}
    got = {frozenset(map(str, ids[s.rows])) for s in pinned.new}
    assert all(m <= pins for m in got)  # nothing unpinned in a supernode
    assert {m for m in got if len(m) > 1} == {m for m in cut if len(m) > 1}
    assert set(graph.qparams["pinnedIds"]) == pins  # no new pins: loose features are pinned ones
    assert pinned.n_candidates < pinned.scores["context"]
    assert pinned.scores["coverage"]["random_control"]["pool_size"] == pinned.n_candidates
    if keep == 0.6:  # the rule dropped groups of the whole graph, and so groups of pins
        every = cluster_graph(planted_graph(seed=1)[0], ClusterOptions(replace=True, method=method))
        assert len(default.new) < len(every.new)


def test_pins_past_max_features_are_still_clustered():
    graph, _ = planted_graph(seed=0)
    nodes = graph.nodes
    feats = np.flatnonzero(nodes.kind == NodeKind.FEATURE)
    full = cluster_graph(planted_graph(seed=0)[0], ClusterOptions(replace=True))
    grouped = np.concatenate([s.rows for s in full.new])
    weakest = grouped[-6:]  # grouped in the default run, so above the influence floor
    graph.qparams["pinnedIds"] = [str(nodes.ids[i]) for i in weakest]
    result = cluster_graph(graph, ClusterOptions(replace=True, only_pinned=True, max_features=5))
    assert result.n_candidates == len(weakest) and len(feats) > 5
    in_run = {int(r) for s in result.new for r in s.rows} | {int(r) for r in result.loose}
    assert in_run <= {int(r) for r in weakest}


def test_pins_all_below_the_floor_say_so():
    graph, _ = planted_graph(seed=0)
    feats = np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)
    graph.qparams["pinnedIds"] = [str(graph.nodes.ids[feats[0]])]
    with pytest.raises(AttrgraphError, match="pinned features are below the influence floor"):
        cluster_graph(graph, ClusterOptions(replace=True, only_pinned=True, min_influence=1.0))


@pytest.mark.skipif(not rg.available(), reason=f"development graphs absent ({rg.DATA})")
@pytest.mark.parametrize("name", rg.NAMES)
def test_only_pinned_scores_as_the_default_on_the_real_graphs(name):
    """The issue's "--only-pinned as good as clustering everything", with the shipped weights (the
    leave-one-graph-out figures are in tests/cluster/test_real_graphs.py)."""
    case = rg.load(name)
    default, pinned = rg.run_cluster(case), rg.run_cluster(case, only_pinned=True)
    assert pinned[0] >= default[0] - 1e-9, (pinned[0], default[0])
    assert len(pinned[2].new) <= len(default[2].new)
