"""The HTML report in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import numpy as np
import pytest

from attrgraph_cli.extension import append_history, set_feature
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.io.neuronpedia_json import read_json
from attrgraph_cli.report.html import write_html
from attrgraph_testing.paths import TESTS
from attrgraph_testing.synthetic import random_graph
from attrgraph_testing.viewer_page import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("render_browser")]

HOSTILE = "</script><img src=x onerror=alert(1)>"
HISTORY = [
    {
        "stage": "trace",
        "attrgraph_version": "0.3.0",
        "settings": {"max_feature_nodes": 4096, "node_threshold": 0.8},
        "inputs": [{"name": "prompt <b>.txt", "role": "prompt", "sha256": "ab" * 32}],
        "started": "2026-11-30T10:00:00Z",
        "duration_s": 12.5,
    },
    {
        "stage": "autointerp",
        "attrgraph_version": "0.3.1",
        "settings": {"explainer": "heuristic"},
        "inputs": [{"name": "g.json", "role": "graph", "sha256": "cd" * 32}],
        "started": "2026-11-30T11:00:00Z",
        "duration_s": 0.25,
    },
]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small graph with supernodes, pins, feature details, a hostile label and non-ASCII tokens."""
    g = random_graph(n_links=500, n_nodes=90, n_tokens=6, n_layers=6, seed=11, n_errors=6)
    ids = g.nodes.ids.tolist()
    feats = [i for i in range(len(ids)) if g.nodes.kind[i] == NodeKind.FEATURE]
    g.nodes.label[feats[0]] = HOSTILE
    g.qparams["supernodes"] = [
        ["capital cities", ids[feats[1]], ids[feats[2]], ids[feats[3]]],
        ["Texas <b>", ids[feats[4]], ids[feats[5]]],
        ["say Austin", ids[feats[6]]],
    ]
    g.metadata["prompt_tokens"] = ["<bos>", " Dallas", " 東京", " ü\n", " 🙂", " is"]
    f = feats[7]
    set_feature(
        g,
        int(g.nodes.layer[f]),
        int(g.nodes.feature[f]),
        {
            "label": str(g.nodes.label[f]),
            "source": "llm",
            "explainer": "np_max-act-logits",
            "score": 0.81,
            "density": 0.00123,
            "details": {
                "index": 7,
                "top_logits": [" Austin", " Houston"],
                "bottom_logits": [" Paris"],
                "examples_quantiles": [
                    {
                        "quantile_name": "Top activations",
                        "examples": [
                            {
                                "tokens": ["The", " capital", " of", " Texas"],
                                "tokens_acts_list": [0, 0.5, 0, 3],
                            }
                        ],
                    }
                ],
            },
        },
    )
    append_history(g, HISTORY[0])
    append_history(g, HISTORY[1])
    g.metadata["node_threshold"] = 1.0
    path = tmp_path_factory.mktemp("html") / "small.html"
    write_html(g, path)
    return {"graph": g, "path": path, "feats": feats}


@pytest.fixture
def small_page(browser, small):
    page = Page(browser, small["path"])
    yield page
    errors, dialogs = list(page.console), list(page.dialogs)
    page.close()
    assert errors == [] and dialogs == []  # no test on the small page may leave a JS error or a dialog


def visible_feature(page: Page, graph, candidates) -> str:
    """A feature id that the nearest-node lookup resolves to itself (not hidden behind a neighbour)."""
    for i in candidates:
        nid = str(graph.nodes.ids[i])
        page.hover(nid)
        if page.state()["hovered"] == nid:
            return nid
    raise AssertionError("no hoverable feature")


# ---------------------------------------------------------------------------------------------- tests
def test_opening_makes_no_network_request(browser, tmp_path):
    g = random_graph(n_links=55_000, seed=0)
    path = tmp_path / "big.html"
    write_html(g, path)
    page = Page(browser, path)
    st = page.state()
    assert st["nodes"] == len(g.nodes) and st["links"] == 55_000
    assert 0 < st["visibleNodes"] <= st["nodes"] and 0 < st["visibleLinks"] <= st["links"]
    page.hover(str(g.nodes.ids[0]))
    page.page.mouse.move(300, 300)
    page.page.wait_for_timeout(100)
    assert {urlsplit(u).scheme for u in page.requests} <= {"file", "data", "blob"}
    assert [u for u in page.requests if u.startswith("file:")] == [path.as_uri()]
    assert page.console == []
    page.close()


def test_hover_shows_tooltip_and_lights_links(small_page, small):
    g = small["graph"]
    nid = visible_feature(small_page, g, small["feats"][1:])
    i = g.index_of(nid)
    tip = small_page.page.inner_text("#ag-tooltip")
    assert nid in tip and g.nodes.label[i] in tip
    assert f"L{g.nodes.layer[i]}" in tip and f"pos {g.nodes.position[i]}" in tip
    assert f"activation {g.nodes.activation[i]:.3f}" in tip
    assert small_page.state()["overlayLinks"] > 0
    # the grid index answers exactly what a scan of every visible node answers
    assert small_page.page.evaluate("window.attrgraph.nearestBench(3000)")["agree"] is True
    times = small_page.page.evaluate("window.attrgraph.hoverTimes()")
    assert times and all(t >= 0 for t in times)
    small_page.page.mouse.move(2, 2)
    assert small_page.state()["hovered"] is None
    assert small_page.page.is_hidden("#ag-tooltip")


def test_click_selects_and_shows_details(small_page, small):
    g = small["graph"]
    nid = visible_feature(small_page, g, small["feats"][1:])
    small_page.click(nid)
    st = small_page.state()
    assert st["selected"] == nid
    detail = small_page.page.inner_text("#ag-detail")
    i = g.index_of(nid)
    for text in (
        nid,
        "cross layer transcoder",
        f"L{g.nodes.layer[i]}",
        "Strongest inputs",
        "Strongest outputs",
    ):
        assert text in detail
    assert f"{g.nodes.influence[i]:.3f}" in detail
    # clicking a listed neighbour selects it
    first = small_page.page.locator("#ag-detail .ag-edges li").first
    target = first.get_attribute("data-node")
    first.click()
    assert small_page.state()["selected"] == target
    # Esc clears the selection
    small_page.page.keyboard.press("Escape")
    assert small_page.state()["selected"] is None


def test_ctrl_click_pins_into_subgraph_pane(small_page, small):
    g = small["graph"]
    nid = visible_feature(small_page, g, small["feats"][10:])
    small_page.click(nid, ["Control"])
    st = small_page.state()
    assert st["pinned"] == [nid] and st["selected"] is None
    sub = small_page.page.inner_text("#ag-subgraph")
    label = g.nodes.label[g.index_of(nid)]
    assert label[:15] in sub
    assert "capital cities" in sub and "Texas <b>" in sub  # supernodes are in the pane too
    small_page.click(nid, ["Meta"])  # cmd-click toggles it off again
    assert small_page.state()["pinned"] == []


def test_sliders_filter_and_restyle(small_page):
    st0 = small_page.state()
    small_page.set_range("#ag-display-influence", 0.3)
    st1 = small_page.state()
    assert st1["displayInfluenceThreshold"] == 0.3 and st1["visibleNodes"] < st0["visibleNodes"]
    assert st1["visibleLinks"] < st0["visibleLinks"]
    small_page.set_range("#ag-edge-threshold", 900)
    st2 = small_page.state()
    assert st2["minWeight"] > 0 and st2["visibleLinks"] < st1["visibleLinks"]
    small_page.set_range("#ag-node-size", 9)
    assert small_page.state()["nodeSize"] == 9
    small_page.set_range("#ag-label-density", 0)
    assert small_page.state()["labelsShown"] == 0
    small_page.set_range("#ag-label-density", 1)
    assert small_page.state()["labelsShown"] > 0
    assert small_page.page.is_visible("#ag-node-size")  # node size lives in the top bar


def test_search_and_slash_shortcut(small_page, small):
    g = small["graph"]
    small_page.page.click("#ag-plot", position={"x": 5, "y": 5})
    small_page.page.keyboard.press("/")
    assert small_page.page.evaluate("document.activeElement.id") == "ag-search"
    small_page.page.keyboard.type("capital")
    small_page.page.keyboard.type("")
    st = small_page.state()
    assert st["query"] == "capital" and st["searchHits"] == []  # supernode names are not node labels
    small_page.page.fill("#ag-search", "feature 1")
    hits = small_page.state()["searchHits"]
    expected = [str(n) for n, lab in zip(g.nodes.ids, g.nodes.label, strict=True) if "feature 1" in lab]
    assert sorted(hits) == sorted(expected) and hits
    small_page.page.fill("#ag-search", str(g.nodes.ids[5]))
    assert str(g.nodes.ids[5]) in small_page.state()["searchHits"]
    small_page.page.press("#ag-search", "Enter")
    assert small_page.state()["selected"] == small_page.state()["searchHits"][0]


def test_supernodes_toggle_and_stay_active(small_page, small):
    items = small_page.page.locator("#ag-supernodes li")
    assert items.count() == 3
    assert "capital cities" in items.nth(0).inner_text() and "3" in items.nth(0).inner_text()
    items.nth(0).click()
    small_page.page.locator("#ag-supernodes li").nth(1).click()
    assert small_page.state()["activeSupernodes"] == ["capital cities", "Texas <b>"]
    nid = visible_feature(small_page, small["graph"], small["feats"][10:])
    small_page.click(nid)  # clicking around keeps them
    small_page.page.keyboard.press("Escape")
    assert small_page.state()["activeSupernodes"] == ["capital cities", "Texas <b>"]
    small_page.page.locator("#ag-supernodes li").nth(0).click()
    assert small_page.state()["activeSupernodes"] == ["Texas <b>"]
    assert small_page.page.locator("#ag-supernodes li.active").count() == 1


def test_feature_details_panel(small_page, small):
    g = small["graph"]
    f = small["feats"][7]
    small_page.page.evaluate("id => window.attrgraph.select(id)", str(g.nodes.ids[f]))
    details = small_page.page.inner_text("#ag-feature-details")
    for text in (
        "Top logits",
        "Austin",
        "Bottom logits",
        "Paris",
        "Top activations",
        "capital",
        "density 0.00123",
    ):
        assert text in details
    assert "llm · np_max-act-logits · score 0.81" in details
    highlighted = small_page.page.eval_on_selector_all(
        "#ag-feature-details .ag-example span",
        "els => els.filter(e => e.style.background).map(e => e.textContent)",
    )
    assert highlighted == [" capital", " Texas"]


def test_hostile_label_renders_as_text(small_page, small):
    g = small["graph"]
    f = small["feats"][0]
    small_page.hover(str(g.nodes.ids[f]))
    assert small_page.state()["hovered"] == str(g.nodes.ids[f])
    assert HOSTILE in small_page.page.inner_text("#ag-tooltip")
    small_page.page.evaluate("id => window.attrgraph.select(id)", str(g.nodes.ids[f]))
    assert HOSTILE in small_page.page.inner_text("#ag-detail")
    assert small_page.page.input_value("#ag-label-edit") == HOSTILE
    small_page.page.wait_for_timeout(100)
    assert small_page.dialogs == []
    assert small_page.page.locator("img").count() == 0
    # head, blob, the deflated viewer code, the loader, and the viewer script the loader ran (report/html.py)
    assert small_page.page.evaluate("document.querySelectorAll('script').length") == 5
    assert small_page.console == []


def test_label_edit_and_download_graph_json(small_page, small, neuronpedia_schema_path, tmp_path):
    import jsonschema

    g = small["graph"]
    ids = g.nodes.ids.tolist()
    nid = visible_feature(small_page, g, small["feats"][12:])
    small_page.click(nid)
    small_page.page.fill("#ag-label-edit", "Texas → Austin ✓")
    small_page.page.press("#ag-label-edit", "Enter")
    assert "Texas → Austin ✓" in small_page.page.inner_text("#ag-detail-label")
    small_page.page.evaluate("id => window.attrgraph.pin(id)", ids[small["feats"][20]])
    path = small_page.download("#ag-download-json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(doc, json.loads(neuronpedia_schema_path.read_text()))
    assert doc["qParams"]["pinnedIds"] == [ids[small["feats"][20]]]
    assert doc["qParams"]["clickedId"] == nid
    assert doc["qParams"]["supernodes"] == g.qparams["supernodes"]
    assert doc["attrgraph"] == g.extra["attrgraph"]
    back = read_json(path) if path.suffix == ".json" else read_json(path.rename(tmp_path / "d.json"))
    # round trip: same nodes and columns, the edited label, same links (weights to float32 precision)
    assert back.nodes.ids.tolist() == ids
    expected_labels = g.nodes.label.copy()
    expected_labels[g.index_of(nid)] = "Texas → Austin ✓"
    assert back.nodes.label.tolist() == expected_labels.tolist()
    for col in ("kind", "layer", "position", "feature", "activation", "influence", "feature_type"):
        np.testing.assert_array_equal(getattr(back.nodes, col), getattr(g.nodes, col), err_msg=col)
    got = sorted(
        zip(back.edges.source.tolist(), back.edges.target.tolist(), back.edges.weight.tolist(), strict=True)
    )
    want = sorted(
        zip(
            g.edges.source.tolist(),
            g.edges.target.tolist(),
            g.edges.weight.astype(np.float32).tolist(),
            strict=True,
        )
    )
    assert got == want
    assert back.metadata["prompt_tokens"] == g.metadata["prompt_tokens"]


def test_export_svg_and_png(small_page, tmp_path):
    import xml.etree.ElementTree as ET

    svg = small_page.download("#ag-export-svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{ns}circle")) > 10 and root.findall(f".//{ns}path")
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "Logits" in texts and "Emb" in texts and " Dallas" in texts
    png = small_page.download("#ag-export-png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_url_hash_reproduces_the_view(browser, small):
    g = small["graph"]
    page = Page(browser, small["path"])
    ids = g.nodes.ids.tolist()
    page.page.evaluate("id => window.attrgraph.select(id)", ids[small["feats"][3]])
    page.page.evaluate("id => window.attrgraph.pin(id)", ids[small["feats"][4]])
    page.page.evaluate("id => window.attrgraph.pin(id)", ids[small["feats"][8]])
    page.set_range("#ag-display-influence", 0.6)
    page.set_range("#ag-edge-threshold", 700)
    page.set_range("#ag-node-size", 6.5)
    page.page.locator("#ag-supernodes li").nth(2).click()
    before = page.state()
    url = page.page.url
    assert "#" in url
    page.close()
    again = Page(browser, small["path"], "#" + url.split("#", 1)[1])
    after = again.state()
    for key in (
        "selected",
        "pinned",
        "displayInfluenceThreshold",
        "minWeight",
        "nodeSize",
        "activeSupernodes",
        "visibleNodes",
    ):
        if key == "minWeight":
            assert after[key] == pytest.approx(before[key], rel=1e-3)
        else:
            assert after[key] == before[key], key
    assert again.console == []
    again.close()


def test_error_nodes_toggle_and_hidden_when_many(browser, tmp_path):
    g = random_graph(n_links=3000, n_nodes=400, n_layers=8, n_tokens=10, n_errors=70, seed=3)
    g.metadata["node_threshold"] = 1.0
    path = tmp_path / "errors.html"
    write_html(g, path)
    page = Page(browser, path)
    st = page.state()
    n_err = int((g.nodes.kind == NodeKind.ERROR).sum())
    assert st["showErrors"] is False and st["visibleNodes"] == len(g.nodes) - n_err
    page.page.click("#ag-toggle-errors")
    st = page.state()
    assert st["showErrors"] is True and st["visibleNodes"] == len(g.nodes)
    page.close()


def _edge_case_graphs():
    none = random_graph(n_links=0, n_nodes=40, seed=1)
    one = random_graph(n_links=0, n_nodes=1, n_tokens=1, n_logits=0, n_errors=0, seed=1)
    one = one.subgraph(np.arange(len(one.nodes)) == 0)
    long = random_graph(n_links=4000, n_nodes=900, n_tokens=200, seed=2)
    long.metadata["prompt_tokens"] = [
        f" token{i}" if i % 7 else " a very long token indeed" for i in range(200)
    ]
    bare = random_graph(n_links=300, n_nodes=60, seed=3)
    bare.nodes.influence[:] = np.nan
    bare.nodes.activation[:] = np.nan
    bare.nodes.label[:] = ""
    bare.metadata = {}
    bare.qparams = {}
    return {"no-links": none, "one-node": one, "200-tokens": long, "missing-fields": bare}


@pytest.mark.parametrize("name", ["no-links", "one-node", "200-tokens", "missing-fields"])
def test_edge_case_graphs_render_cleanly(browser, tmp_path, name):
    g = _edge_case_graphs()[name]
    path = tmp_path / f"{name}.html"
    write_html(g, path)
    page = Page(browser, path)
    st = page.state()
    assert st["nodes"] == len(g.nodes) and st["links"] == len(g.edges)
    assert page.page.locator(".ag-error").count() == 0
    if len(g.nodes):
        nid = str(g.nodes.ids[0])
        page.page.evaluate("id => window.attrgraph.select(id)", nid)
        assert nid in page.page.inner_text("#ag-detail")
    svg = page.page.evaluate("window.attrgraph.svg()")
    assert svg.startswith("<svg")
    if name == "200-tokens":
        # at full view the tokens are thinned so they never overlap; zoomed in, every column has its token
        tokens = page.page.evaluate(
            "window.attrgraph.svg().match(/>( token[0-9]+| a very long[^<]*)<\\/text>/g)"
        )
        assert 60 <= len(tokens) <= 200 == len(g.prompt_tokens)
        page.page.goto(page.page.url.split("#")[0] + "#z=10,0,0")
        page.page.reload()
        page.page.evaluate("window.attrgraph.ready")
        xs = page.page.evaluate(
            '[...window.attrgraph.svg().matchAll(/translate\\(([0-9.]+) |x="([0-9.]+)" y="[0-9.]+">( token|'
            " a very)/g)].map(m => +(m[1] || m[2]))"
        )
        assert len(xs) >= 10
        gaps = np.diff(sorted(xs))
        assert gaps.max() < 2.5 * np.median(gaps)  # no column skipped
    assert page.console == [] and page.dialogs == []
    page.close()


@pytest.mark.slow
def test_million_link_graph_opens_and_stays_responsive(browser, tmp_path):
    g = random_graph(n_links=1_000_000, seed=0)
    path = tmp_path / "million.html"
    write_html(g, path)
    page = Page(browser, path)
    st = page.state()
    assert st["links"] == 1_000_000 and st["nodes"] == len(g.nodes)
    assert st["visibleLinks"] > st["drawnLinks"] > 0  # only the strongest links are drawn
    nid = next(str(g.nodes.ids[i]) for i in range(len(g.nodes)) if page.pos(str(g.nodes.ids[i]))["visible"])
    page.page.evaluate("id => window.attrgraph.select(id)", nid)
    assert page.state()["overlayLinks"] > 0
    page.set_range("#ag-edge-threshold", 800)
    st2 = page.state()
    assert st2["visibleLinks"] < st["visibleLinks"]
    assert page.page.evaluate("window.attrgraph.nearestBench(200)")["agree"] is True
    # zoomed in, the budget goes to the links in view: weaker ones than at full view get drawn
    page.set_range("#ag-edge-threshold", 0)
    full = page.state()
    box = page.page.locator("#ag-plot").bounding_box()
    page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.page.mouse.wheel(0, -2000)
    assert page.state()["drawnLinks"] <= 2500  # while zooming, a light picture
    page.page.wait_for_timeout(400)  # settled: the full budget, spent on the links in view
    zoomed = page.state()
    assert zoomed["zoom"] > 4 and zoomed["drawnLinks"] > 0
    assert zoomed["weakestDrawn"] < full["weakestDrawn"]
    assert page.console == []
    page.close()


def test_group_pinned_nodes_into_a_supernode(small_page, small):
    g = small["graph"]
    ids = g.nodes.ids.tolist()
    a, b = ids[small["feats"][30]], ids[small["feats"][31]]
    small_page.page.evaluate("id => window.attrgraph.pin(id)", a)
    small_page.page.evaluate("id => window.attrgraph.pin(id)", b)
    small_page.page.fill("#ag-supernode-name", "my <group>")
    small_page.page.click("#ag-make-supernode")
    st = small_page.state()
    assert st["supernodes"][-1] == ["my <group>", a, b]
    assert st["pinned"] == [] and "my <group>" in st["activeSupernodes"]
    assert small_page.page.locator("#ag-supernodes li").count() == 4
    path = small_page.download("#ag-download-json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["qParams"]["supernodes"][-1] == ["my <group>", a, b]
    # deleting a supernode keeps the other active supernodes pointing at the right ones
    small_page.page.locator("#ag-supernodes li").nth(1).click()
    small_page.page.locator("#ag-supernodes li .ag-remove").nth(0).click()
    st = small_page.state()
    assert [s[0] for s in st["supernodes"]] == ["Texas <b>", "say Austin", "my <group>"]
    assert st["activeSupernodes"] == ["Texas <b>", "my <group>"]


def test_wheel_zooms_drag_pans_and_fit_resets(small_page, small):
    box = small_page.page.locator("#ag-plot").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    small_page.page.mouse.move(cx, cy)
    small_page.page.mouse.wheel(0, -600)
    st = small_page.state()
    assert st["zoom"] > 1.5
    nid = str(small["graph"].nodes.ids[small["feats"][2]])
    before = small_page.pos(nid)
    small_page.page.mouse.move(cx, cy)
    small_page.page.mouse.down()
    small_page.page.mouse.move(cx + 80, cy + 30, steps=4)
    small_page.page.mouse.up()
    after = small_page.pos(nid)
    assert after["x"] - before["x"] == pytest.approx(80, abs=1)
    assert after["y"] - before["y"] == pytest.approx(30, abs=1)
    assert small_page.state()["selected"] is None  # a drag is not a click
    small_page.page.wait_for_timeout(400)  # the hash follows a drag once it settles
    assert "z=" in small_page.page.url
    small_page.page.click("#ag-reset-view")
    assert small_page.state()["zoom"] == 1


def test_many_feature_details_travel_compressed_and_show(browser, tmp_path):
    g = random_graph(n_links=2000, n_nodes=300, seed=6)
    feats = np.flatnonzero(g.nodes.kind == NodeKind.FEATURE)
    example = {"tokens": [f" w{k}" for k in range(48)], "tokens_acts_list": [float(k % 5) for k in range(48)]}
    for i in feats:
        set_feature(
            g,
            int(g.nodes.layer[i]),
            int(g.nodes.feature[i]),
            {
                "label": str(g.nodes.label[i]),
                "source": "graph",
                "details": {
                    "index": int(i),
                    "examples_quantiles": [{"quantile_name": "Top", "examples": [example] * 5}],
                    "top_logits": [f" t{i}"],
                },
            },
        )
    path = tmp_path / "details.html"
    write_html(g, path)
    assert 'data-encoding="deflate-raw"' in path.read_text()
    page = Page(browser, path)
    nid = str(g.nodes.ids[feats[-1]])
    page.page.evaluate("id => window.attrgraph.select(id)", nid)
    details = page.page.inner_text("#ag-feature-details")
    assert f" t{feats[-1]}" in details and "w47" in details
    assert page.console == []
    page.close()


def test_svg_export_is_well_formed_xml_with_control_characters_in_labels(browser, tmp_path):
    """Issue 9: a label holding \\x01 made the viewer's SVG export unreadable; now it becomes U+FFFD."""
    import xml.etree.ElementTree as ET

    g = random_graph(n_links=200, n_nodes=40, n_tokens=4, seed=4)
    feats = [i for i in range(len(g.nodes)) if g.nodes.kind[i] == NodeKind.FEATURE]
    g.nodes.label[feats[0]] = "bad\x01label\x7f\ufffe"
    g.metadata["prompt_tokens"] = ["<bos>", " a\x02", " b", " c"]
    path = tmp_path / "ctrl.html"
    write_html(g, path)
    page = Page(browser, path, "#ld=1")
    root = ET.fromstring(page.page.evaluate("window.attrgraph.svg()"))
    texts = [t.text or "" for t in root.iter()]
    nid = str(g.nodes.ids[feats[0]])
    assert f"{nid} bad\ufffdlabel\ufffd\ufffd" in texts
    assert " a\ufffd" in texts
    assert page.console == []
    page.close()


def test_graph_panel_shows_the_history(small_page):
    items = small_page.page.locator("#ag-history li")
    assert items.count() == 2
    first, second = items.nth(0).inner_text(), items.nth(1).inner_text()
    for text in ("trace", "attrgraph 0.3.0", "2026-11-30T10:00:00Z", "12.50 s", "max_feature_nodes=4096",
                 "prompt <b>.txt (prompt) sha256:abababababab"):  # fmt: skip
        assert text in first, text
    assert "autointerp" in second and "explainer=heuristic" in second and "0.25 s" in second
    assert small_page.page.locator("#ag-history b").count() == 0  # the file name stayed text


def test_html_and_svg_agree_on_labels_colours_and_ranking(browser, tmp_path):
    """One graph rendered as the HTML viewer and as the CLI's SVG: both take report/semantics.py's labels,
    colours and ranking, so they show the same thing."""
    import re
    import xml.etree.ElementTree as ET

    from attrgraph_cli.report import semantics
    from attrgraph_cli.report.svg import FigureOptions, render_svg

    g = random_graph(n_links=300, n_nodes=50, n_tokens=5, n_layers=5, seed=8, label="feat{i}")
    feats = np.flatnonzero(g.nodes.kind == NodeKind.FEATURE)
    g.nodes.label[feats[::3]] = ""  # named L{layer}/{index} by both
    g.nodes.label[feats[1]] = "two\nlines\x01"  # cleaned the same way by both
    sem = semantics.compute(g)
    fig = render_svg(g, FigureOptions(labels=12))
    path = tmp_path / "agree.html"
    write_html(g, path)
    page = Page(browser, path, "#ld=1&nt=1&err=1")
    root = ET.fromstring(page.page.evaluate("window.attrgraph.svg()"))
    ns = "{http://www.w3.org/2000/svg}"
    shown: dict[str, tuple[str, str]] = {}  # node id -> (label, fill) in the viewer's export
    for shape in root.iter():
        title = shape.find(f"{ns}title")
        if title is not None and shape.get("fill"):
            nid, _, label = (title.text or "").partition(" ")
            shown[nid] = (label, shape.get("fill"))
    ids = [str(v) for v in g.nodes.ids]
    assert len(shown) == len(ids)
    # labels: the viewer shows Python's display label for every node; the figure's feature labels are the same
    assert [shown[i][0] for i in ids] == sem.display
    figure_feats = [lab for lab in fig.labels if g.nodes.kind[lab.node] == NodeKind.FEATURE]
    assert len(figure_feats) >= 5
    for lab in figure_feats:
        assert shown[ids[lab.node]][0] == lab.text
    assert shown[ids[feats[1]]][0] == "two lines\ufffd" and shown[ids[feats[0]]][0].startswith("L")
    # colours: per kind, the viewer's fill is the figure's fill
    for kind, name in semantics.KIND_NAMES.items():
        fills = {shown[ids[i]][1] for i in np.flatnonzero(g.nodes.kind == kind)}
        assert fills == {semantics.PALETTE[name]}, name
        assert re.search(rf'class="nodes {name}"[^>]*(fill|stroke)="{semantics.PALETTE[name]}"', fig.svg)
    # edge colours: the palette's, in both
    strokes = {p.get("stroke") for p in root.iter(f"{ns}path") if p.get("stroke")}
    rgb = {f"rgb({int(c[1:3], 16)},{int(c[3:5], 16)},{int(c[5:7], 16)})": c for c in (
        semantics.PALETTE["positive"], semantics.PALETTE["negative"])}  # fmt: skip
    assert strokes == set(rgb)
    assert all(f'stroke="{c}"' in fig.svg for c in rgb.values())
    # ranking: the viewer places labels in Python's rank order (after the logit row, labelled first as in the
    # figure); the figure labels the best-ranked features
    placed = page.page.evaluate("window.attrgraph.viewer().scene.labels.map(l => l.i)")
    placed = [i for i in placed if g.nodes.kind[i] != NodeKind.LOGIT]
    ranks = sem.rank[placed]
    assert len(placed) >= 10 and (np.diff(ranks) > 0).all()
    best = [int(i) for i in semantics.top_nodes(g, 12)]
    assert {lab.node for lab in figure_feats} <= set(best)
    assert best[0] in placed and best[0] in {lab.node for lab in figure_feats}
    assert page.console == []
    page.close()


def test_a_panel_is_one_file_plus_one_line(browser, tmp_path, monkeypatch):
    """A panel registered from its own file (inserted before boot.js) is mounted in its order, hears every
    change through the one changed() path, and keeps its own state and URL-hash key."""
    from attrgraph_cli.report import html as report_html

    modules = list(report_html.VIEWER_MODULES)
    modules.insert(modules.index("boot.js"), str(TESTS / "js" / "fixtures" / "echo_panel.js"))
    js, css = report_html._assets()
    monkeypatch.setattr(report_html, "_assets", lambda: (report_html.viewer_script(tuple(modules)), css))
    g = random_graph(n_links=300, n_nodes=50, seed=9)
    path = tmp_path / "echo.html"
    write_html(g, path)
    page = Page(browser, path, "#echo=hello")
    order = page.page.eval_on_selector_all(".ag-side > .ag-section", "els => els.map(e => e.id)")
    assert order == [
        "ag-detail",
        "ag-labels",
        "ag-echo",
        "ag-supernodes",
        "ag-interventions",
        "ag-subgraph",
        "ag-graph-info",
    ]
    assert page.page.text_content("#ag-echo h3") == f"Echo of {len(g.nodes)}"
    st = page.state()
    assert st["echoHeard"][0] == "all" and st["echoMark"] == "hello" and st["echoOverlays"] > 0
    nid = str(g.nodes.ids[3])
    page.page.evaluate("id => window.attrgraph.select(id)", nid)
    assert page.state()["echoHeard"][-1] in ("selection", "filters+selection")
    assert page.page.inner_text("#ag-echo-out") == f"selected {nid}"
    page.set_range("#ag-node-size", 7)
    assert page.state()["echoHeard"][-1] == "style"
    page.page.evaluate("window.attrgraph.viewer().panel('echo').setMark('x y', window.attrgraph.viewer())")
    assert page.state()["echoHeard"][-1] == "echo"
    assert "echo=x+y" in page.page.url
    assert page.console == []
    page.close()


def test_supernode_hash_key_and_links_written_before_the_rename(browser, small):
    page = Page(browser, small["path"], "#cl=0,2")  # `cl`: links from before "clusters" became supernodes
    assert page.state()["activeSupernodes"] == ["capital cities", "say Austin"]
    page.page.locator("#ag-supernodes li").nth(1).click()
    page.state()
    assert "sn=0%2C2%2C1" in page.page.url and "cl=" not in page.page.url
    page.close()


HOSTILE_FIELDS = {  # what a hand-edited file may hold where the viewer reads a structure
    "supernodes a string": ("qParams", "supernodes", "abc"),
    "supernodes an object": ("qParams", "supernodes", {"a": 1}),
    "supernode names not strings": ("qParams", "supernodes", [[{"": None}, "0"], [None], [5, "x"]]),
    "pinnedIds a string": ("qParams", "pinnedIds", "abc"),
    "pinnedIds an object": ("qParams", "pinnedIds", {"a": 1}),
    "info a string": ("metadata", "info", "x"),
    "n_layers absurd": ("metadata", "n_layers", 10**12),
    "extension a string": (None, "attrgraph", "x"),
    "extension parts of the wrong type": (None, "attrgraph", {"history": 1, "features": [], "supernodes": 5}),
}


@pytest.mark.parametrize("case", list(HOSTILE_FIELDS))
def test_report_opens_whatever_the_file_holds(browser, tmp_path, case):
    """Before the fix, `supernodes` or `pinnedIds` that were not arrays stopped the viewer at start-up
    ("(qParams.supernodes || []).filter is not a function": a blank page), and `metadata.info` that was
    not an object or an absurd `metadata.n_layers` made `render` itself fail ("unexpected ...")."""
    from attrgraph_cli.io import load_graph, save_graph

    graph = random_graph(n_links=200, n_nodes=50, seed=4)
    source = tmp_path / "g.json"
    save_graph(graph, source)
    doc = json.loads(source.read_text())
    where, key, value = HOSTILE_FIELDS[case]
    (doc.setdefault(where, {}) if where else doc)[key] = value
    source.write_text(json.dumps(doc))
    path = tmp_path / "g.html"
    write_html(load_graph(source), path)
    page = Page(browser, path)
    st = page.state()
    assert st["nodes"] == len(graph.nodes) and st["links"] == len(graph.edges)
    assert page.console == [] and page.dialogs == []
    page.close()
