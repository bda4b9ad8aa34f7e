"""The supernodes panel on a clustered graph, in headless Chromium: scores beside each supernode, rename,
add/remove nodes (key and button), merge, delete, stable colours, the collapsed graph in the main canvas,
and the download (Neuronpedia-compatible, extension kept in step)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attrgraph_cli.cluster import ClusterOptions, cluster_graph
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report.html import write_html
from attrgraph_testing.synthetic_groups import planted_graph

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("render_browser")]
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    graph, _ = planted_graph(seed=0)
    cluster_graph(graph, ClusterOptions())
    # the planted graph is too large for the exhaustive ceiling (None); a value shows how the panel prints it
    graph.extra["attrgraph"]["supernodes"]["scores"]["grouping"]["best_possible"] = {
        "contrast": 0.987654,
        "groupings_tried": 512,
    }
    graph.metadata["node_threshold"] = 1.0
    path = tmp_path_factory.mktemp("cluster-html") / "clustered.html"
    write_html(graph, path)
    return graph, path


@pytest.fixture
def page(browser, clustered):
    context = browser.new_context(viewport={"width": 1400, "height": 860}, accept_downloads=True)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("dialog", lambda d: (problems.append("dialog " + d.message), d.dismiss()))
    pg.on("request", lambda r: not r.url.startswith(("file:", "data:", "blob:")) and problems.append(r.url))
    pg.goto(clustered[1].as_uri())
    pg.evaluate("window.attrgraph.ready")
    yield pg
    context.close()
    assert problems == []


def _state(pg) -> dict:
    return pg.evaluate("window.attrgraph.state()")


def _rows(pg):
    return pg.locator("#ag-supernodes li")


def test_names_and_scores_beside_each_supernode(page, clustered):
    graph, _ = clustered
    names = [s[0] for s in graph.supernodes]
    assert _rows(page).count() == len(names) >= 3
    assert _state(page)["supernodes"] == graph.supernodes
    first = _rows(page).nth(0).inner_text()
    assert names[0] in first and "auto" in first and "influence" in first and "similarity" in first
    quality = page.inner_text("#ag-supernode-quality")
    g = graph.extra["attrgraph"]["supernodes"]["scores"]["grouping"]
    assert f"contrast {g['ours']['contrast']:.3f}" in quality and "layer/position" in quality
    assert "best possible 0.988" in quality and "the same grouping" not in quality


def test_rename_refuses_a_taken_name_and_renders_hostile_names_as_text(page, clustered):
    names = [s[0] for s in clustered[0].supernodes]
    page.locator("#ag-supernodes li .ag-rename").nth(1).click()
    page.fill(".ag-sn-rename", names[0])
    page.press(".ag-sn-rename", "Enter")
    assert _state(page)["supernodes"][1][0] == names[1]  # refused
    assert "exists already" in page.inner_text("#ag-status")
    page.locator("#ag-supernodes li .ag-rename").nth(1).click()
    page.fill(".ag-sn-rename", HOSTILE)
    page.press(".ag-sn-rename", "Enter")
    assert _state(page)["supernodes"][1][0] == HOSTILE
    assert HOSTILE in _rows(page).nth(1).inner_text()
    assert page.locator("#ag-supernodes img").count() == 0


def test_add_remove_by_key_and_button_merge_delete_keep_colours(page, clustered):
    graph, _ = clustered
    colours = _state(page)["supernodeColors"]
    assert len(set(colours[:12])) == min(len(colours), 12)  # the palette (12 colours) cycles after that
    loose = [
        str(graph.nodes.ids[i])
        for i in np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)
        if not any(str(graph.nodes.ids[i]) in s for s in graph.supernodes)
    ]
    page.evaluate("id => window.attrgraph.select(id)", loose[0])
    _rows(page).nth(0).click()  # highlight supernode 0
    page.keyboard.press("+")
    assert loose[0] in _state(page)["supernodes"][0]
    page.keyboard.press("-")
    assert loose[0] not in _state(page)["supernodes"][0]
    page.locator("#ag-supernodes li .ag-add-node").nth(2).click()  # the button path
    assert _state(page)["supernodes"][2][-1] == loose[0]
    page.locator("#ag-supernodes li .ag-remove-node").nth(2).click()
    assert loose[0] not in _state(page)["supernodes"][2]

    before = _state(page)["supernodes"]
    _rows(page).nth(1).click()  # 0 and 1 highlighted
    page.click("#ag-merge-supernodes")
    after = _state(page)
    assert len(after["supernodes"]) == len(before) - 1
    assert after["supernodes"][0][0] == before[0][0]
    assert set(after["supernodes"][0][1:]) == set(before[0][1:]) | set(before[1][1:])
    assert after["supernodeColors"] == [colours[0], *colours[2:]]
    page.locator("#ag-supernodes li .ag-remove").nth(0).click()
    assert _state(page)["supernodeColors"] == colours[2:]  # the others keep their colours


def test_collapsed_graph_in_the_main_canvas(page, clustered):
    graph, _ = clustered
    page.click("#ag-collapse-supernodes")
    st = _state(page)
    assert st["collapsed"] is True and "sc=1" in page.evaluate("location.hash")
    collapsed = st["collapsedGraph"]
    names = [s[0] for s in graph.supernodes]
    # loose pinned nodes, the target logit and the tokens that feed them first, the supernodes last (issue 28)
    assert collapsed["nodes"][-len(names) :] == names and collapsed["links"] > 0
    view = collapsed["view"]
    owner = {m: k for k, ms in enumerate(view["members"]) for m in ms}
    loose = [p for p in graph.qparams["pinnedIds"] if p not in owner or view["supernode"][owner[p]] is None]
    assert all(view["supernode"][owner[p]] is None for p in loose)
    group_names = collapsed["nodes"]
    ids = graph.nodes.ids
    want: dict[tuple[str, str], float] = {}
    for s, t, w in zip(graph.edges.source, graph.edges.target, graph.edges.weight, strict=True):
        a, b = owner.get(str(ids[s])), owner.get(str(ids[t]))
        if a is not None and b is not None and a != b:
            key = (group_names[a], group_names[b])
            want[key] = want.get(key, 0.0) + float(w)
    got = {(a, b): w for a, b, w in collapsed["sums"]}
    assert got.keys() == want.keys()
    for key, w in want.items():
        assert got[key] == pytest.approx(w, rel=1e-5)
    pixels = page.evaluate(
        "() => { const c = document.getElementById('ag-overlay');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n / (d.length / 4); }"
    )
    assert pixels > 0.9  # the collapsed graph covers the canvas
    page.keyboard.press("c")
    assert _state(page)["collapsed"] is False


def test_download_is_neuronpedia_json_with_the_extension_in_step(
    page, clustered, neuronpedia_schema_path, tmp_path, cli
):
    import jsonschema

    names = [s[0] for s in clustered[0].supernodes]
    page.locator("#ag-supernodes li .ag-rename").nth(0).click()
    page.fill(".ag-sn-rename", "Texas")
    page.press(".ag-sn-rename", "Enter")
    page.locator("#ag-supernodes li .ag-remove").nth(1).click()
    with page.expect_download() as info:
        page.click("#ag-download-supernodes")
    path = tmp_path / "edited.json"
    Path(info.value.path()).replace(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(doc, json.loads(neuronpedia_schema_path.read_text()))
    assert doc["qParams"]["supernodes"] == _state(page)["supernodes"]
    groups = doc["attrgraph"]["supernodes"]["groups"]
    assert [g["name"] for g in groups] == ["Texas", *names[2:]]
    assert groups[0]["origin"] == "auto" and "scores" in groups[0]  # renamed only: scores still describe it
    done = cli("validate", path, fresh=True, timeout=120)
    assert done.code == 0 and " 0 warnings" in done.stdout, done.stdout
