"""The viewer's interventions panel in a real headless Chromium (static_js/panels/interventions.js).

Records are schema-valid (checked with validate's rules before the page is written) and carry hostile
strings: a record is picked from the list, its targets (predicted vs measured), top-k bars and sweep chart
show, its nodes are reported as ringed, the supernode-check ranking is sorted by measured effect, and the
steer composer prints the exact `attrgraph intervene` command (shell-quoted) for a supernode or a node.
"""

from __future__ import annotations

import pytest

from attrgraph_cli.extension import append_intervention
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report.html import write_html
from attrgraph_cli.stages import check_before_write
from attrgraph_testing.synthetic import random_graph

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("render_browser")]

HOSTILE = "</script><img src=x onerror=alert(1)>"


def _record(name, kind, nodes, effect=None, supernode=None, sweep=None):
    rec = {
        "name": name,
        "kind": kind,
        "spec": [
            {"op": "ablate", "nodes": nodes, "supernode": supernode, "value": 0.0, "text": f"--ablate {name}"}
        ],
        "settings": {"freeze_attention": True, "direct": False, "top_k": 3},
        "model": "demo",
        "targets": [
            {
                "token": " Austin",
                "node": None,
                "measured_delta": -1.25,
                "predicted_delta": -2.5,
                "p_before": 0.9,
                "p_after": 0.4,
            },
            {
                "token": HOSTILE,
                "node": None,
                "measured_delta": 0.5,
                "predicted_delta": None,
                "p_before": 0.01,
                "p_after": 0.2,
            },
        ],
        "top_before": [[" Austin", 0.9], [" Dallas", 0.05], [HOSTILE, 0.01]],
        "top_after": [[" Austin", 0.4], [HOSTILE, 0.2], [" Olympia", 0.1]],
        "generated_before": " Austin.",
        "generated_after": " Olympia.",
    }
    if sweep:
        rec["sweep"] = sweep
    if effect is not None:
        rec["check"] = {
            "supernode": supernode,
            "op": "ablate",
            "effect": effect,
            "predicted_effect": effect * 2,
            "influence_rank": 2 if effect < -1 else 1,
            "control": {"n_draws": 5, "mean_abs_effect": 0.1},
        }
    return rec


@pytest.fixture(scope="module")
def page_path(tmp_path_factory):
    g = random_graph(n_links=400, n_nodes=80, n_tokens=5, n_layers=4, seed=5, n_errors=2)
    ids = g.nodes.ids.tolist()
    feats = [ids[i] for i in range(len(ids)) if g.nodes.kind[i] == NodeKind.FEATURE]
    g.qparams["supernodes"] = [["Texas <b>", feats[0], feats[1]], ["say Austin", feats[2]]]
    g.metadata["slug"] = "dallas graph"
    sweep = {
        "parameter": "multiple",
        "values": [-1, 0, 1, 2],
        "series": [
            {"token": " Austin", "p": [0.1, 0.4, 0.9, 0.95]},
            {"token": HOSTILE, "p": [0.5, 0.2, 0.01, 0.0]},
        ],
    }
    append_intervention(g, _record("ablate two", "intervention", feats[3:5]))
    append_intervention(g, _record("sweep it", "sweep", feats[5:6], sweep=sweep))
    append_intervention(g, _record("check Texas <b>", "supernode-check", feats[0:2], -0.5, "Texas <b>"))
    append_intervention(g, _record("check say Austin", "supernode-check", feats[2:3], -3.0, "say Austin"))
    check_before_write(g, "test")  # the records are what the schema allows
    path = tmp_path_factory.mktemp("iv-html") / "iv.html"
    write_html(g, path)
    return {"path": path, "feats": feats}


@pytest.fixture
def page(browser, page_path):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors, requests = [], []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(page_path["path"].as_uri())
    pg.evaluate("window.attrgraph.ready")
    yield pg
    assert errors == [] and [u for u in requests if not u.startswith("file:")] == []
    context.close()


def state(pg):
    return pg.evaluate("window.attrgraph.state()")


def test_pick_a_record_shows_targets_bars_and_rings_its_nodes(page, page_path):
    assert state(page)["interventions"] == 4 and state(page)["selectedIntervention"] is None
    assert page.locator("#ag-iv-list li").count() == 4
    page.click("#ag-iv-list li[data-index='0']")
    st = state(page)
    assert st["selectedIntervention"] == "ablate two" and st["intervenedNodes"] == page_path["feats"][3:5]
    rows = page.locator("#ag-iv-detail .ag-iv-targets tr")
    assert rows.count() == 3
    # the flag column (measured and predicted disagree, intervene.agreement) is empty here: 2x apart is fine
    assert rows.nth(1).inner_text().split("\t") == ['" Austin"', "-2.500", "-1.250", "", "0.900 → 0.400"]
    assert page.locator("#ag-iv-detail .ag-iv-col[data-side='before'] .ag-iv-bar").count() == 3
    assert page.locator("#ag-iv-detail img").count() == 0  # the hostile token stayed text
    assert HOSTILE in page.locator("#ag-iv-detail").inner_text()
    assert "iv=0" in page.evaluate("location.hash")
    page.click("#ag-iv-list li[data-index='0']")  # again: unpicked
    assert state(page)["intervenedNodes"] == []


def test_sweep_chart_is_inline_svg(page):
    page.click("#ag-iv-list li[data-index='1']")
    lines = page.locator("#ag-iv-detail svg.ag-iv-chart polyline")
    assert lines.count() == 2
    assert len(lines.nth(0).get_attribute("points").split()) == 4
    assert lines.nth(1).get_attribute("data-token") == HOSTILE


def test_supernode_check_ranking_by_measured_effect(page):
    rows = page.locator("#ag-iv-ranking tr[data-supernode]")
    assert [rows.nth(i).get_attribute("data-supernode") for i in range(rows.count())] == [
        "say Austin",
        "Texas <b>",
    ]
    assert rows.nth(0).inner_text().split("\t")[2:4] == ["-3.000", "-6.000"]


def test_steer_composer_prints_the_exact_command(page, page_path):
    assert state(page)["steerCommand"] == ""
    assert "select a feature node" in page.inner_text("#ag-steer-why")
    page.select_option("#ag-steer-target", "sn:0")
    page.select_option("#ag-steer-op", "scale")
    page.fill("#ag-steer-value", "-1")
    cmd = "attrgraph intervene 'dallas graph.json' --scale 'Texas <b>=*-1' -o 'dallas graph.json'"
    assert page.inner_text("#ag-steer-cmd") == cmd == state(page)["steerCommand"]
    page.fill("#ag-steer-value", "abc")
    assert page.inner_text("#ag-steer-cmd") == "" and "enter a number" in page.inner_text("#ag-steer-why")
    page.select_option("#ag-steer-op", "ablate")
    page.select_option("#ag-steer-target", "selected")
    node = page_path["feats"][2]
    page.evaluate("id => window.attrgraph.select(id)", node)
    assert (
        page.inner_text("#ag-steer-cmd")
        == f"attrgraph intervene 'dallas graph.json' --ablate {node} -o 'dallas graph.json'"
    )


def test_hash_restores_the_picked_record(browser, page_path):
    context = browser.new_context()
    pg = context.new_page()
    pg.goto(page_path["path"].as_uri() + "#iv=1")
    pg.evaluate("window.attrgraph.ready")
    assert state(pg)["selectedIntervention"] == "sweep it"
    context.close()
