"""Node semantics computed once (`report/semantics.py`) and shipped in the viewer payload."""

from __future__ import annotations

import json

import numpy as np

from attrgraph_cli import extension
from attrgraph_cli.graph.ids import feature_number
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.io import load_graph, save_graph
from attrgraph_cli.report import semantics
from attrgraph_cli.report.payload import build_payload
from attrgraph_testing.synthetic import random_graph


def _first(g, kind) -> int:
    return int(np.flatnonzero(g.nodes.kind == kind)[0])


def test_display_labels_per_kind():
    g = random_graph(n_links=400, n_nodes=60, seed=3)
    f, e, emb, lg = (
        _first(g, k) for k in (NodeKind.FEATURE, NodeKind.ERROR, NodeKind.EMBEDDING, NodeKind.LOGIT)
    )
    g.nodes.label[f] = ""
    g.nodes.label[e] = ""
    g.nodes.logit_token[lg] = " Austin"
    g.nodes.logit_probability[lg] = 0.4213
    assert semantics.display_label(g, f) == f"L{int(g.nodes.layer[f])}/{int(g.nodes.feature[f])}"
    assert semantics.display_label(g, e) == f"Error L{int(g.nodes.layer[e])} @{int(g.nodes.position[e])}"
    assert semantics.display_label(g, lg) == 'Output " Austin" (p=0.42)'
    token = g.prompt_tokens[int(g.nodes.position[emb])]
    assert semantics.display_label(g, emb) == token.strip()
    g.nodes.label[f] = "Texas\nthings\x01"  # a clerp wins, cleaned of line breaks and XML-forbidden chars
    assert semantics.display_label(g, f) == "Texas things\ufffd"


def test_logit_label_from_clerp_when_token_missing():
    g = random_graph(n_links=200, n_nodes=40, seed=2)
    lg = _first(g, NodeKind.LOGIT)
    g.nodes.logit_token[lg] = ""
    g.nodes.logit_probability[lg] = np.nan
    g.nodes.label[lg] = 'Output "\n" (p=0.031)'
    assert semantics.display_label(g, lg) == 'Output "\u21b5" (p=0.031)'


def test_rank_is_one_total_order_influence_then_activation():
    g = random_graph(n_links=2000, seed=1)
    g.nodes.influence[:5] = np.nan
    rank = semantics.node_rank(g)
    assert sorted(rank.tolist()) == list(range(len(g.nodes)))
    order = np.argsort(rank)
    infl = np.where(np.isnan(g.nodes.influence), np.inf, g.nodes.influence)[order]
    assert np.all(infl[:-1] <= infl[1:])  # influence ascending
    n_nan = int(np.isnan(g.nodes.influence).sum())
    assert n_nan >= 5 and np.isnan(g.nodes.influence[order[-n_nan:]]).all()  # NaN last
    # equal influence: larger |activation| first
    g.nodes.influence[:] = 0.5
    order = np.argsort(semantics.node_rank(g))
    act = np.abs(np.nan_to_num(g.nodes.activation))[order]
    assert np.all(np.diff(act) <= 0)
    top = semantics.top_nodes(g, 7)
    assert len(top) == 7 and all(g.nodes.kind[i] == NodeKind.FEATURE for i in top)
    assert top.tolist() == [i for i in order.tolist() if g.nodes.kind[i] == NodeKind.FEATURE][:7]


def test_feature_key_density_and_dense_come_from_the_contract():
    g = random_graph(n_links=300, n_nodes=50, seed=4)
    a, b, c = (int(i) for i in np.flatnonzero(g.nodes.kind == NodeKind.FEATURE)[:3])
    base = {"label": "x", "source": "heuristic"}
    extension.set_feature(g, g.nodes.layer[a], g.nodes.feature[a], base | {"density": 0.5})
    extension.set_feature(g, g.nodes.layer[b], g.nodes.feature[b], base | {"density": 0.5, "dense": False})
    extension.set_feature(g, g.nodes.layer[c], g.nodes.feature[c], base | {"density": 0.01})
    sem = semantics.compute(g)
    assert sem.feature_key[a] == f"{int(g.nodes.layer[a])}_{int(g.nodes.feature[a])}"
    assert sum(k is not None for k in sem.feature_key) == 3
    assert (sem.density[a], sem.density[c]) == (0.5, 0.01)
    assert (sem.dense[a], sem.dense[b], sem.dense[c]) == (True, False, False)  # 0.5 > max_density 0.25
    assert sem.density[_first(g, NodeKind.ERROR)] is None


def test_legacy_feature_details_reach_feature_key_through_migration(tmp_path):
    g = random_graph(n_links=300, n_nodes=50, seed=4)
    a = _first(g, NodeKind.FEATURE)
    la, fa = int(g.nodes.layer[a]), int(g.nodes.feature[a])
    g.extra["feature_details"] = {
        str(feature_number(la, fa, 1)): {"index": fa, "examples_quantiles": [], "frac_nonzero": 0.002}
    }
    save_graph(g, tmp_path / "legacy.json")
    sem = semantics.compute(load_graph(tmp_path / "legacy.json"))
    assert sem.feature_key[a] == f"{la}_{fa}"
    assert sem.density[a] == 0.002 and sem.dense[a] is False


def test_display_threshold_starts_at_the_graph_node_threshold():
    """The viewer's display filter starts where the graph was pruned; the payload calls it a display one."""
    g = random_graph(n_links=100, n_nodes=30, seed=4)
    g.metadata.pop("node_threshold", None)
    assert semantics.thresholds(g).display_influence_threshold == 1.0  # control: none recorded
    g.metadata["node_threshold"] = 0.6
    limits = semantics.thresholds(g)
    assert limits.display_influence_threshold == 0.6 and limits.max_edges == semantics.DEFAULTS.max_edges
    assert limits.as_json()["displayInfluenceThreshold"] == 0.6 and "nodeThreshold" not in limits.as_json()
    g.metadata["node_threshold"] = "high"
    assert semantics.thresholds(g) == semantics.DEFAULTS
    assert semantics.DEFAULTS.as_json()["errorsHiddenAbove"] == 50


def test_payload_head_carries_semantics():
    g = random_graph(n_links=300, n_nodes=50, seed=4)
    payload = build_payload(g)
    assert payload.head_encoding == "json"
    head = json.loads(payload.head)
    sem = head["semantics"]
    n = len(g.nodes)
    for name in ("display", "color", "rank", "featureKey", "density", "dense"):
        assert len(sem[name]) == n, name
    assert set(sem["palette"]) >= {"embedding", "feature", "error", "logit", "supernodes"}
    assert sem["color"][_first(g, NodeKind.ERROR)] == sem["palette"]["error"]
    assert sem["display"] == semantics.display_labels(g)
    assert sem["rank"] == semantics.node_rank(g).tolist()
    assert sem["thresholds"]["maxEdges"] == semantics.DEFAULTS.max_edges
    assert "detailKey" not in head["nodes"]  # the viewer reads semantics.featureKey (the old alias is gone)


def test_render_defaults_are_the_semantics_defaults():
    """The CLI keeps literal defaults (it must not import numpy for --help): they equal DEFAULTS."""
    import inspect

    from attrgraph_cli.commands.render import render
    from attrgraph_cli.report.renderers import RenderOptions
    from attrgraph_cli.report.svg import FigureOptions

    assert inspect.signature(render).parameters["top"].default == semantics.DEFAULTS.top_nodes
    assert RenderOptions().top == semantics.DEFAULTS.top_nodes
    opts = FigureOptions()
    assert (opts.max_edges, opts.labels, opts.logit_labels) == (
        semantics.DEFAULTS.max_edges,
        semantics.DEFAULTS.figure_labels,
        semantics.DEFAULTS.logit_labels,
    )
