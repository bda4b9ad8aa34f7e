"""The standalone SVG figure: valid XML, escaped strings, tight box, labels without overlaps, merged edges."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report.label_placement import Box, label_box
from attrgraph_cli.report.layout import compute_layout
from attrgraph_cli.report.svg import EDGE_WIDTHS, FigureOptions, render_svg, write_svg
from attrgraph_cli.report.textmetrics import text_width
from attrgraph_testing.synthetic import random_graph

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def big():
    """A Neuronpedia-sized graph: 55k links, about 1.3k nodes."""
    return random_graph(n_links=55_000)


@pytest.fixture(scope="module")
def big_figure(big):
    return render_svg(big)


def _small(**kw):
    return random_graph(n_links=300, n_tokens=6, n_layers=6, seed=3, **kw)


def _texts(root, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}text") if cls in (e.get("class") or "").split()]


def test_svg_parses_and_hostile_strings_stay_text(tmp_path):
    graph = _small(label="f{i} " + HOSTILE + " ]]> \x00\x07\x1b end")
    graph.metadata["prompt"] = "prompt " + HOSTILE
    graph.metadata["prompt_tokens"] = [HOSTILE, " ]]>", "\x01ctl", " café", " 東京", "\n"]
    ids = graph.nodes.ids.tolist()
    graph.qparams["supernodes"] = [["group " + HOSTILE, *ids[:3]]]
    out = tmp_path / "fig.svg"
    write_svg(graph, out, max_label_width=5000.0, labels=8)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<?xml")
    assert "<img" not in text and "<script" not in text.lower() and "\x00" not in text
    root = ET.fromstring(text.encode("utf-8"))  # raises on anything that is not well-formed XML
    assert not [e for e in root.iter() if e.tag.endswith("img") or e.tag.endswith("script")]
    labels = [e.text for e in _texts(root, "label")]
    assert any(HOSTILE in t and "]]>" in t for t in labels), labels
    assert all("\x00" not in t and "\x07" not in t and "\x1b" not in t for t in labels)
    assert any(("group " + HOSTILE) == e.text for e in _texts(root, "supernode-label"))
    tokens = [e.text for e in _texts(root, "token")]
    assert tokens[0].startswith("</script><img") and tokens[0].endswith("\u2026")  # long tokens are cut
    assert tokens[1:5] == ["]]>", "\ufffdctl", "café", "東京"]
    assert root.find(f"{SVG}title").text == "Attribution graph: prompt " + HOSTILE


def test_edges_are_merged_into_a_few_paths_and_only_the_strongest_drawn(big, big_figure):
    root = ET.fromstring(big_figure.svg)
    paths = [p for p in root.iter(f"{SVG}path") if "edges" in (p.get("class") or "")]
    assert 1 < len(paths) <= 2 * len(EDGE_WIDTHS)
    segments = sum(p.get("d").count("M") for p in paths)
    assert segments == big_figure.n_edges_drawn == FigureOptions().max_edges
    # the drawn edges are exactly the strongest: everything left out is weaker than the threshold
    mag = np.sort(np.abs(big.edges.weight))[::-1]
    assert big_figure.edge_threshold == pytest.approx(mag[big_figure.n_edges_drawn - 1])
    assert mag[big_figure.n_edges_drawn] <= big_figure.edge_threshold
    # positive and negative edges have different colours; thicker buckets draw the stronger edges
    assert len({p.get("stroke") for p in paths}) == 2
    caption = " ".join(e.text for e in _texts(root, "caption"))
    assert f"1,000 of {len(big.edges):,} edges drawn" in caption
    assert f"{big_figure.edge_threshold:.3g}" in caption


def test_min_weight_option_is_applied_and_stated(big):
    figure = render_svg(big, FigureOptions(min_weight=3.0, max_edges=100_000))
    mag = np.abs(big.edges.weight)
    assert figure.n_edges_drawn == int((mag >= 3.0).sum())
    assert figure.edge_threshold >= 3.0
    assert "|w| \u2265 3" in " ".join(figure.caption)
    none = render_svg(big, FigureOptions(max_edges=0))
    assert none.n_edges_drawn == 0 and "no edges drawn" in " ".join(none.caption)


def test_labels_never_overlap_each_other_or_the_axes(big, big_figure):
    placed = big_figure.labels
    assert len(placed) >= 15  # the dense graph still gets most of its requested labels
    boxes = [lab.box for lab in placed]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    # independent check from the SVG text itself: recompute each label's box from its attributes
    root = ET.fromstring(big_figure.svg)
    drawn = []
    for e in _texts(root, "label") + _texts(root, "row-label"):
        size = float(e.get("font-size"))
        drawn.append(
            label_box(
                e.text,
                float(e.get("x")),
                float(e.get("y")),
                e.get("text-anchor"),
                size,
                e.get("font-weight") == "bold",
            )
        )
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    # the most influential labelled features really are the top of the influence ranking
    feats = [lab.node for lab in placed if lab.node >= 0 and big.nodes.kind[lab.node] == NodeKind.FEATURE]
    ranked = np.argsort(np.where(big.mask(NodeKind.FEATURE), big.nodes.influence, np.inf))[:24]
    assert set(feats) <= set(ranked.tolist())


def test_tight_bounding_box_holds_everything(big, big_figure):
    root = ET.fromstring(big_figure.svg)
    x0, y0, w, h = map(float, root.get("viewBox").split())
    assert float(root.get("width")) == pytest.approx(w, abs=0.1)
    boxes: list[Box] = []
    for e in root.iter(f"{SVG}text"):
        if e.get("transform"):
            continue
        boxes.append(
            label_box(
                e.text, float(e.get("x")), float(e.get("y")), e.get("text-anchor"), float(e.get("font-size"))
            )
        )
    xs, ys = big_figure.node_x, big_figure.node_y
    r = big_figure.node_r
    assert np.nanmin(xs) - r >= 0 and np.nanmax(xs) + r <= w
    assert np.nanmin(ys) - r >= 0 and np.nanmax(ys) + r <= h
    left = min(b.x0 for b in boxes) - x0
    right = x0 + w - max(b.x1 for b in boxes)
    bottom = y0 + h - max(b.y1 for b in boxes)
    assert 0 <= left <= 6 and 0 <= bottom <= 6 and right >= 0
    assert right <= 6 or np.nanmax(xs) + r >= w - 6 - 2 * 5  # the right edge hugs a label or the graph


def test_axes_tokens_under_columns_and_row_labels():
    graph = _small()
    layout = compute_layout(graph)
    figure = render_svg(graph, layout=layout)
    root = ET.fromstring(figure.svg)
    x0 = float(root.get("viewBox").split()[0])
    tokens = _texts(root, "token")
    assert [t.text for t in tokens] == [t.strip() for t in graph.prompt_tokens]
    rows = [t.text for t in _texts(root, "row-label")]
    assert rows[0] == "Logits" and rows[-1] == "Emb" and "L0" in rows
    # token i sits under column i: its anchor x is the column centre (nodes of that position around it)
    for p, tok in enumerate(tokens):
        cx = float(tok.get("x")) - x0
        in_col = figure.node_x[graph.nodes.position == p]
        assert np.nanmin(in_col) - 1 <= cx <= np.nanmax(in_col) + 1 or len(in_col) == 0


def test_supernodes_and_pinned_nodes_are_drawn():
    graph = _small()
    ids = graph.nodes.ids.tolist()
    graph.qparams["supernodes"] = [
        ["capital", *ids[:3]],
        ["say Austin", ids[10], ids[11]],
        ["ghost", "nope_1_2"],
    ]
    graph.qparams["pinnedIds"] = ids[20:22]
    root = ET.fromstring(render_svg(graph).svg)
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "supernode"]
    assert len(rects) == 2  # the group with no node in the graph is skipped
    names = {e.text for e in _texts(root, "supernode-label")}
    assert names == {"capital", "say Austin"}
    pinned = [p for p in root.iter(f"{SVG}path") if p.get("class") == "pinned"]
    assert len(pinned) == 1 and pinned[0].get("d").count("M") == 2


def test_influence_threshold_and_error_toggle_hide_nodes():
    graph = _small()
    fig = render_svg(graph, FigureOptions(display_influence_threshold=0.5, show_errors=False))
    inner = graph.mask(NodeKind.FEATURE) | graph.mask(NodeKind.ERROR)
    hidden = np.isnan(fig.node_x)
    assert hidden[graph.mask(NodeKind.ERROR)].all()
    assert hidden[inner & (graph.nodes.influence > 0.5)].all()
    assert not hidden[graph.mask(NodeKind.EMBEDDING) | graph.mask(NodeKind.LOGIT)].any()
    assert "influence \u2264 0.5" in " ".join(fig.caption)


@pytest.mark.parametrize(
    "make",
    [
        lambda: random_graph(n_links=0, n_nodes=40, seed=1),
        lambda: random_graph(n_links=1, n_nodes=1, n_tokens=1, n_logits=1, n_errors=0, seed=2),
        lambda: random_graph(n_links=2000, n_tokens=200, seed=4),
    ],
    ids=["no-links", "tiny", "200-tokens"],
)
def test_odd_graphs_render(make):
    graph = make()
    figure = render_svg(graph)
    root = ET.fromstring(figure.svg)
    assert figure.width > 0 and figure.height > 0
    tokens = _texts(root, "token")
    assert len(tokens) == graph.n_positions
    if graph.n_positions > 50:  # long prompts: tokens are rotated so they do not collide
        assert all(t.get("transform", "").startswith("rotate(") for t in tokens)


def test_text_metrics_match_the_font():
    assert text_width("", 10) == 0
    assert text_width("iiii", 10) < text_width("MMMM", 10)
    assert text_width("Hello", 20) == pytest.approx(2 * text_width("Hello", 10))
    assert text_width("Bold", 10, bold=True) > text_width("Bold", 10)
    assert re.fullmatch(r"[\d.]+", f"{text_width('東京', 10):.1f}")


@pytest.mark.parametrize("n_links", [300, 55_000])
def test_readable_at_a_single_column_width(n_links):
    """Scaled to a 3.5 in paper column, labels and tokens are still at least 5 pt."""
    graph = random_graph(n_links=n_links, seed=3)
    figure = render_svg(graph)
    opts = FigureOptions()
    column_px = 3.5 * 96
    scale = column_px / figure.width
    assert opts.label_size * scale * 0.75 >= 5.0
    assert opts.token_size * scale * 0.75 >= 5.0
