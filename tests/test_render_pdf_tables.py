"""The PDF report's data: pinned subgraph with collapsed supernodes, top nodes, odd interventions, details."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from attrgraph_cli.graph.ids import cantor_pair
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.graph.synthetic import random_graph
from attrgraph_cli.report import tables
from attrgraph_cli.report.subgraph import pinned_view


@pytest.fixture()
def graph():
    return random_graph(n_links=600, n_tokens=5, n_layers=5, seed=7)


def test_pinned_view_collapses_supernodes_and_sums_their_edges(graph):
    ids = graph.nodes.ids.tolist()
    group_a, group_b, single = ids[:4], ids[10:13], ids[20]
    graph.qparams["supernodes"] = [["A", *group_a], ["B", *group_b, "missing_0_0"]]
    graph.qparams["pinnedIds"] = [single, ids[0]]  # ids[0] is inside A: it is drawn as A
    view = pinned_view(graph)
    assert view is not None
    assert view.nodes.ids.tolist() == [single, "supernode:0", "supernode:1"]
    assert view.nodes.label.tolist()[1:] == ["A (4)", "B (3)"]
    dense = graph.adjacency().toarray()  # rows = target, columns = source
    rows = {single: [graph.index_of(single)], "supernode:0": [graph.index_of(i) for i in group_a]}
    rows["supernode:1"] = [graph.index_of(i) for i in group_b]
    got = view.adjacency().toarray()
    for t, tid in enumerate(view.nodes.ids.tolist()):
        for s, sid in enumerate(view.nodes.ids.tolist()):
            expected = 0.0 if s == t else dense[np.ix_(rows[tid], rows[sid])].sum()
            assert got[t, s] == pytest.approx(expected)
    assert pinned_view(random_graph(n_links=50, seed=1)) is None


def test_top_nodes_follow_influence_and_skip_embeddings_and_logits(graph):
    rows = tables.top_nodes(graph, 10)
    assert [r.rank for r in rows] == list(range(1, 11))
    infl = [graph.nodes.influence[r.index] for r in rows]
    assert infl == sorted(infl)
    assert all(r.kind in ("feature", "error") for r in rows)
    assert tables.top_nodes(graph, 0) == []


@pytest.mark.parametrize(
    "raw",
    [
        [
            {
                "set": {"1_2_3": 0},
                "top_logits_before": [[" a", 0.5]],
                "top_logits_after": [{"token": " b", "p": 0.2}],
            }
        ],
        {"first": {"set": [{"id": "1_2_3", "value": 0}], "before": {" a": 0.5}, "after": [" b"]}},
        {"set": [["1_2_3", -2.0]], "top_logits_after": "just text"},
        ["free text", 3, None, {"weird": {"nested": [1, 2]}}],
        "a string",
    ],
)
def test_interventions_of_any_shape_render_as_rows(graph, raw):
    graph.extra["interventions"] = raw
    items = tables.interventions(graph)
    assert items
    for item in items:
        assert item.title
        for pairs in (item.settings, item.before, item.after, item.other):
            assert all(isinstance(a, str) and isinstance(b, str) for a, b in pairs)


def test_feature_details_found_by_feature_number_or_layer_index(graph):
    top = tables.top_node_indices(graph, 3)
    feats = [i for i in top.tolist() if graph.nodes.kind[i] == NodeKind.FEATURE]
    first, second = feats[0], feats[1]
    key1 = str(cantor_pair(int(graph.nodes.layer[first]), int(graph.nodes.feature[first])))
    key2 = f"{int(graph.nodes.layer[second])}_{int(graph.nodes.feature[second])}"
    example = {"tokens": ["a", " b", " c"], "tokens_acts_list": [0.0, 2.0, 1.0]}
    graph.extra["feature_details"] = {
        key1: {
            "index": 1,
            "examples_quantiles": [{"quantile_name": "top", "examples": [example]}],
            "top_logits": [" x"],
            "frac_nonzero": 0.01,
        },
        key2: {"index": 2, "activations": [{"tokens": ["q"], "values": [1.0]}], "bottom_logits": [" y"]},
        "bad": "not a dict",
    }
    details = tables.feature_details(graph, 3)
    assert [d.row.index for d in details] == [first, second]
    assert details[0].top_logits == [" x"] and details[0].density == "0.01"
    assert details[0].examples[0].tokens == [("a", 0.0), (" b", 1.0), (" c", 0.5)]
    assert details[1].bottom_logits == [" y"] and details[1].examples[0].tokens == [("q", 1.0)]


def test_settings_list_model_transcoders_and_thresholds(graph):
    graph.metadata.update(
        scan="gemma-2-2b",
        transcoder_list=[f"t/{i}" for i in range(26)],
        pruning_settings={"node_threshold": 0.8, "edge_threshold": 0.98},
        info={"generator": {"name": "circuit-tracer", "version": "0.5.0"}},
    )
    rows = dict(tables.settings(graph))
    assert rows["Model (scan)"] == "gemma-2-2b"
    assert rows["Transcoders"].startswith("26 per-layer sets: t/0") and "t/25" in rows["Transcoders"]
    assert rows["Pruning: edge threshold"] == "0.98"
    assert rows["Generator"] == "circuit-tracer 0.5.0"
    assert "links" in rows["Size"]


def test_svg_and_pdf_modules_do_not_import_torch():
    code = (
        "import sys\n"
        "from attrgraph_cli.graph.synthetic import random_graph\n"
        "from attrgraph_cli.report import pdf, svg\n"
        "g = random_graph(n_links=100, seed=1)\n"
        "svg.render_svg(g); pdf.build_html(g)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_provenance_records_read_as_key_value_pairs():
    from attrgraph_cli.report.tables import record_text

    record = {"attrgraph_version": "0.1.0", "settings": {"batch_size": 256, "offload": None}, "targets": []}
    assert record_text(record) == "attrgraph version: 0.1.0; settings.batch size: 256"
