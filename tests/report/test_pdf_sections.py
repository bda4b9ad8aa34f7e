"""The PDF report's registered sections, each on hand-built records of the contract's full shapes
(schemas/extension/*.schema.json): data built in Python, then the PDF read back with pdftotext."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from xml.etree import ElementTree

import numpy as np
import pytest

from attrgraph_cli import extension
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report import pdf, semantics
from attrgraph_cli.report.sections import (
    SECTIONS,
    Section,
    build_sections,
    feature_details,
    figure,
    interventions,
    provenance,
    supernodes,
    top_nodes,
)
from attrgraph_cli.report.subgraph import pinned_view
from attrgraph_cli.validate.checks_extension import part_validator
from attrgraph_testing.synthetic import random_graph

HOSTILE = "</script><img src=x onerror=alert(1)>"
needs_pdf = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


@pytest.fixture()
def graph():
    return random_graph(n_links=600, n_tokens=5, n_layers=5, seed=7)


def _valid(part: str, value) -> None:
    errors = [e.message for e in part_validator(part).iter_errors(value)]
    assert not errors, errors


def _pdf_text(graph, tmp_path, **kwargs) -> str:
    out = tmp_path / "r.pdf"
    pdf.write_pdf(graph, out, **kwargs)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


def _ids(graph, kind, n):
    return [str(graph.nodes.ids[i]) for i in np.flatnonzero(graph.nodes.kind == kind)[:n]]


def full_intervention(graph) -> dict:
    """An intervention record with every field of the schema filled in."""
    f = _ids(graph, NodeKind.FEATURE, 12)
    logits = _ids(graph, NodeKind.LOGIT, 2)
    return {
        "name": "Texas off, say-Austin doubled",
        "kind": "sweep",
        "spec": [
            {"op": "set", "nodes": [f[0]], "value": 0.0, "positions": [3, 4], "text": f"{f[0]}=0"},
            {"op": "scale", "nodes": f[1:11], "supernode": "say Austin", "multiple": 2.0},
            {"op": "ablate", "nodes": [f[11]]},
            {"op": "swap", "nodes": [f[2]], "source_prompt": "The capital of Ohio is"},
        ],
        "settings": {"freeze_attention": True, "constrained_layers": [0, 1, 2], "top_k": 5, "seed": 1},
        "model": "demo-model",
        "targets": [
            {
                "token": " Austin",
                "node": logits[0],
                "logit_before": 7.25,
                "logit_after": 3.5,
                "measured_delta": -3.75,
                "predicted_delta": -3.5,
                "p_before": 0.61,
                "p_after": 0.12,
                "rank_before": 1,
                "rank_after": 4,
            },
            {"token": " Dallas", "node": logits[1], "measured_delta": 1.5, "predicted_delta": 1.25},
        ],
        "top_before": [[" Austin", 0.61], [" Dallas", 0.1]],
        "top_after": [[" Houston", 0.31], [" Austin", 0.12]],
        "generated_before": " Austin, the capital",
        "generated_after": " Sacramento " + HOSTILE,
        "sweep": {
            "parameter": "multiple",
            "values": [0.0, 0.5, 1.0, 2.0],
            "series": [
                {"token": " Austin", "p": [0.1, 0.3, 0.61, None]},
                {"token": HOSTILE, "p": [0.4, 0.2, 0.1, 0.05]},
            ],
        },
        "check": {
            "supernode": "say Austin",
            "influence": 0.42,
            "members_predicted_sum": -3.1,
            "agreement": 0.93,
        },
        "time": "2026-12-01T04:30:00+00:00",
        "duration_s": 0.8,
    }


def test_registry_order_and_one_template_part_each():
    from attrgraph_cli.resources import resource_dir

    names = [s.name for s in SECTIONS]
    assert names == [
        "figure",
        "subgraph",
        "top_nodes",
        "supernodes",
        "interventions",
        "supernode_check",
        "labels",
        "feature_details",
        "provenance",
    ]
    for section in SECTIONS:
        assert (resource_dir("templates") / section.template).is_file(), section.template


def test_a_new_section_is_one_entry(graph, monkeypatch):
    """Adding a Section to the registry is all it takes for its part to be printed."""
    extension.append_history(graph, {"stage": "extra", "attrgraph_version": "9", "settings": {}, "inputs": [],
                                     "started": "", "duration_s": 0})  # fmt: skip
    extra = Section("again", provenance.SECTION.template, provenance.build)
    monkeypatch.setattr("attrgraph_cli.report.sections.SECTIONS", [*SECTIONS, extra])
    html, _ = pdf.build_html(graph)
    assert html.count('<section class="provenance">') == 2
    monkeypatch.setattr("attrgraph_cli.report.sections.SECTIONS", [figure.SECTION])
    html, _ = pdf.build_html(graph)
    assert '<section class="front">' in html and '<section class="nodes">' not in html


def test_pinned_view_collapses_supernodes_and_sums_their_edges(graph):
    ids = graph.nodes.ids.tolist()
    group_a, group_b, single = ids[:4], ids[10:13], ids[20]
    graph.qparams["supernodes"] = [["A", *group_a], ["B", *group_b, "missing_0_0"]]
    graph.qparams["pinnedIds"] = [single, ids[0]]  # ids[0] is inside A: it is drawn as A
    view = pinned_view(graph)
    assert view is not None
    # the pinned node, the target logit, the tokens that feed any of them (issue 28), then the supernodes
    target = ids[int(semantics.top_logits(graph, 1)[0])]
    shown = view.nodes.ids.tolist()
    assert shown[:2] == [single, target] and shown[-2:] == ["supernode:0", "supernode:1"]
    tokens = shown[2:-2]
    assert tokens and all(graph.nodes.kind[graph.index_of(t)] == NodeKind.EMBEDDING for t in tokens)
    assert view.nodes.label.tolist()[-2:] == ["A (4)", "B (3)"]
    assert semantics.display_labels(view)[-2:] == ["A (4)", "B (3)"]
    dense = graph.adjacency().toarray()  # rows = target, columns = source
    rows = {nid: [graph.index_of(nid)] for nid in shown[:-2]}
    rows["supernode:0"] = [graph.index_of(i) for i in group_a]
    rows["supernode:1"] = [graph.index_of(i) for i in group_b]
    got = view.adjacency().toarray()
    for t, tid in enumerate(view.nodes.ids.tolist()):
        for s, sid in enumerate(view.nodes.ids.tolist()):
            expected = 0.0 if s == t else dense[np.ix_(rows[tid], rows[sid])].sum()
            assert got[t, s] == pytest.approx(expected)
    assert pinned_view(random_graph(n_links=50, seed=1)) is None


def test_top_nodes_follow_the_one_ranking_and_skip_embeddings_and_logits(graph):
    report = pdf.report_context(graph)
    rows = top_nodes.rows(report, 10)
    assert [r.rank for r in rows] == list(range(1, 11))
    assert [r.index for r in rows] == semantics.top_nodes(
        graph, 10, (NodeKind.FEATURE, NodeKind.ERROR)
    ).tolist()
    infl = [graph.nodes.influence[r.index] for r in rows]
    assert infl == sorted(infl)
    assert all(r.kind in ("feature", "error") for r in rows)
    assert all(r.label == report.sem.display[r.index] for r in rows)
    assert top_nodes.rows(report, 0) == []


def test_full_intervention_record_renders_every_part(graph):
    record = full_intervention(graph)
    _valid("interventions", [record])
    view = interventions.view(record, 1)
    f = _ids(graph, NodeKind.FEATURE, 12)
    assert view.spec[0] == f"set {f[0]} = 0 at positions 3, 4 (as written: {f[0]}=0)"
    assert view.spec[1].startswith("scale supernode say Austin (") and view.spec[1].endswith(
        "+2 more) \u00d7 2"
    )
    assert view.spec[2] == f"ablate {f[11]}"
    assert view.spec[3] == f"swap {f[2]} from 'The capital of Ohio is'"
    assert ("freeze_attention", "true") in view.settings and (
        "constrained_layers",
        "[0, 1, 2]",
    ) in view.settings
    austin = view.targets[0]
    assert (austin.measured, austin.predicted, austin.p_before, austin.rank_after) == (
        "-3.75",
        "-3.5",
        "0.61",
        "4",
    )
    assert view.targets[1].logit_before == ""  # absent optional fields are empty cells
    assert view.top_after == [(" Houston", "0.31"), (" Austin", "0.12")]
    assert ("agreement", "0.93") in view.check
    sweep = ElementTree.fromstring(view.sweep_chart)
    paths = [p for p in sweep.iter("{http://www.w3.org/2000/svg}path") if p.get("stroke") != "#888888"]
    assert len(paths) == 2  # one line per token; the missing value is left out of the Austin line
    assert paths[0].get("d").count("L") == 2 and paths[1].get("d").count("L") == 3
    texts = [t.text or "" for t in sweep.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("</script>") for t in texts)  # the hostile token is legend text, not markup
    assert not [e for e in sweep.iter() if e.tag.endswith("img")]
    scatter = ElementTree.fromstring(view.agreement_chart)
    assert len(list(scatter.iter("{http://www.w3.org/2000/svg}circle"))) == 2


def test_minimal_and_partial_records_render(graph):
    minimal = {"name": "plain", "kind": "intervention", "spec": [], "settings": {}, "targets": []}
    _valid("interventions", [minimal])
    view = interventions.view(minimal, 3)
    assert view.spec == ["nothing changed (plain forward pass)"]
    assert view.sweep_chart is None and view.agreement_chart is None and view.targets == []
    one_target = dict(minimal, targets=[{"token": " x", "measured_delta": 1.0, "predicted_delta": 0.5}])
    assert interventions.view(one_target, 1).agreement_chart is None  # a scatter needs two points


@needs_pdf
def test_interventions_section_in_the_pdf(graph, tmp_path):
    extension.append_intervention(graph, full_intervention(graph))
    html, _ = pdf.build_html(graph)
    assert HOSTILE not in html and "&lt;/script&gt;&lt;img" in html
    text = _pdf_text(graph, tmp_path)
    for expected in (
        "Interventions",
        "1. Texas off, say-Austin doubled",
        "sweep · demo-model",
        "Measured Δ",
        "Predicted Δ",
        "-3.75",
        "Houston",
        "Generated after",
        "Sacramento " + HOSTILE,
        "p(token)",
        "predicted Δ logit (graph)",
        "Supernode check",
        "members_predicted_sum",
    ):
        assert expected in text, expected


@needs_pdf
def test_supernodes_section_with_its_metadata(graph, tmp_path):
    ids = graph.nodes.ids.tolist()
    graph.qparams["supernodes"] = [["Texas", *ids[:3]], ["say Austin " + HOSTILE, ids[10], "gone_1_1"]]
    meta = {
        "method": "agglomerative(edge-profile cosine)",
        "settings": {"k": 2, "linkage": "average"},
        "seed": 7,
        "scores": {"ours": {"coverage": 0.8}, "baseline": {"coverage": 0.5}},
        "groups": [
            {"name": "Texas", "origin": "auto", "naming": "shared word", "scores": {"cohesion": 0.71}},
            {"name": "say Austin " + HOSTILE, "origin": "human"},
        ],
    }
    _valid("supernodes", meta)
    extension.set_supernode_set(graph, meta)
    data = supernodes.build(pdf.report_context(graph))
    assert [g.colour for g in data.groups] == [semantics.supernode_color(0), semantics.supernode_color(1)]
    assert data.groups[1].missing == ["gone_1_1"] and len(data.groups[0].members) == 3
    assert ("ours.coverage", "0.8") in data.scores
    text = _pdf_text(graph, tmp_path)
    for expected in ("Supernodes", "agglomerative(edge-profile cosine) · seed 7", "ours.coverage 0.8",
                     "linkage average", "3 members · auto · named by shared word", "cohesion 0.71",
                     "say Austin " + HOSTILE, "human", "Not in this graph: gone_1_1"):  # fmt: skip
        assert expected in text, expected


@needs_pdf
def test_feature_details_read_the_contract(graph, tmp_path):
    report = pdf.report_context(graph, top=6)
    top = semantics.top_nodes(graph, 6, (NodeKind.FEATURE,)).tolist()
    first, second = top[0], top[1]
    example = {"tokens": ["in", " Lubbock", " county"], "tokens_acts_list": [0.0, 4.0, 2.0]}
    extension.set_feature(
        graph,
        graph.nodes.layer[first],
        graph.nodes.feature[first],
        {
            "label": "Texas places",
            "source": "heuristic",
            "explainer": "heuristic:shared-peak-token",
            "score": 0.83,
            "score_method": "detection balanced accuracy",
            "density": 0.4,
            "details": {
                "examples_quantiles": [{"quantile_name": "top", "examples": [example]}],
                "top_logits": [" Austin", " Texan"],
                "top_logit_values": [1.5, 1.25],
                "bottom_logits": [" Paris"],
                "act_max": 4.0,
                "n_tokens": 12000,
                "histogram": {"edges": [0, 1, 2, 3], "counts": [10, 4, 1]},
            },
        },
    )
    extension.set_feature(
        graph, graph.nodes.layer[second], graph.nodes.feature[second], {"label": "x", "source": "human"}
    )
    _valid("features", extension.features(graph))
    report = pdf.report_context(graph, top=6)
    views = feature_details.build(report)
    assert [v.row.index for v in views] == [first, second]
    v = views[0]
    assert (v.source, v.score, v.density, v.dense) == ("heuristic", "0.83", "0.4", True)
    assert v.top_logits == [" Austin (1.5)", " Texan (1.25)"] and v.bottom_logits == [" Paris"]
    assert v.examples[0].tokens == [("in", 0.0), (" Lubbock", 1.0), (" county", 0.5)]
    assert len(list(ElementTree.fromstring(v.histogram).iter("{http://www.w3.org/2000/svg}rect"))) == 3
    assert views[1].examples == [] and views[1].histogram is None and views[1].density == ""
    text = _pdf_text(graph, tmp_path, top=6)
    for expected in (
        "Feature details",
        "density 0.4 · dense",
        "Label heuristic (heuristic:shared-peak-token)",
        "score 0.83 (detection balanced accuracy)",
        "Austin (1.5)",
        "Lubbock",
        "corpus tokens 12,000",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    "where, value",
    [
        ("examples_quantiles", 5),
        ("tokens", 5),
        ("tokens_acts_list", 5),
        ("pinnedIds", 5),
        ("supernodes", 5),
        ("pinnedIds", "abc"),
    ],
)
def test_report_builds_whatever_a_hand_edited_file_holds(graph, where, value):
    """A scan that set each `metadata`, `qParams` and `attrgraph` field of a demo graph to values of other
    types found these crashing the PDF report and the SVG ("'int' object is not iterable")."""
    from attrgraph_cli.report.svg import render_svg

    first = int(semantics.top_nodes(graph, 1, (NodeKind.FEATURE,))[0])
    example = {"tokens": ["a", "b"], "tokens_acts_list": [0.0, 1.0]}
    details = {"examples_quantiles": [{"quantile_name": "top", "examples": [example]}]}
    if where in example:
        example[where] = value
    elif where in details:
        details[where] = value
    else:
        graph.qparams[where] = value
    entry = {"label": "x", "source": "human", "details": details}
    extension.set_feature(graph, graph.nodes.layer[first], graph.nodes.feature[first], entry)
    html, _ = pdf.build_html(graph)
    assert "Feature details" in html
    assert render_svg(graph).svg.startswith("<svg")


def test_feature_details_left_out_without_entries(graph):
    assert feature_details.build(pdf.report_context(graph)) is None
    assert interventions.build(pdf.report_context(graph)) is None
    assert provenance.build(pdf.report_context(graph)) is None


@needs_pdf
def test_provenance_shows_the_history_written_by_convert(tmp_path, cli):
    """A real stage: `convert` writes its record; the PDF shows stage, version, settings and the digest."""
    from attrgraph_cli.io import load_graph, save_graph

    src, out = tmp_path / "g.json", tmp_path / "c.json"
    save_graph(random_graph(n_links=300, seed=2), src)
    proc = cli("convert", src, "-o", out, "--slug", "converted", fresh=True)
    assert proc.code == 0, proc.stderr
    graph = load_graph(out)
    history = extension.history(graph)
    assert [r["stage"] for r in history] == ["convert"]
    data = provenance.build(pdf.report_context(graph))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert data[0].inputs[0].digest == digest[:12] + "\u2026"
    assert ("slug", "converted") in data[0].settings and ("node_threshold", "\u2014") in data[0].settings
    text = _pdf_text(graph, tmp_path)
    assert "Provenance" in text and "1. convert attrgraph" in text and digest[:12] in text
    assert "slug converted" in text and "started " + history[0]["started"] in text


def test_settings_list_model_transcoders_and_thresholds(graph):
    graph.metadata.update(
        scan="gemma-2-2b",
        transcoder_list=[f"t/{i}" for i in range(26)],
        pruning_settings={"node_threshold": 0.8, "edge_threshold": 0.98},
        info={"generator": {"name": "circuit-tracer", "version": "0.5.0"}},
    )
    rows = dict(figure.settings(graph))
    assert rows["Model (scan)"] == "gemma-2-2b"
    assert rows["Transcoders"].startswith("26 per-layer sets: t/0") and "t/25" in rows["Transcoders"]
    assert rows["Pruning: edge threshold"] == "0.98"
    assert rows["Generator"] == "circuit-tracer 0.5.0"
    assert "links" in rows["Size"]


def test_sections_are_built_once_per_report(graph):
    report = pdf.report_context(graph)
    built = build_sections(report)
    assert [s.name for s in built] == ["figure", "top_nodes"]  # nothing else to show for a bare graph


def test_svg_and_pdf_modules_do_not_import_torch():
    code = (
        "import sys\n"
        "from attrgraph_testing.synthetic import random_graph\n"
        "from attrgraph_cli.report import pdf, svg\n"
        "g = random_graph(n_links=100, seed=1)\n"
        "svg.render_svg(g); pdf.build_html(g)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
