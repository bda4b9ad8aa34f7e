"""autointerp's labels in the viewer (real headless Chromium): the Labels panel (sources, scores, list,
histogram as inline SVG), the dense-feature toggle, search over labels, hostile labels as text."""

from __future__ import annotations

import pytest

from attrgraph_cli.autointerp.targets import graph_targets
from attrgraph_cli.extension import features
from attrgraph_cli.io import load_graph, save_graph
from attrgraph_testing.autointerp_fixtures import write_sources
from attrgraph_testing.cli import run_cli
from attrgraph_testing.synthetic import random_graph
from attrgraph_testing.viewer_page import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("render_browser")]

HOSTILE = "</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("labels-browser")
    graph = random_graph(n_links=400, n_nodes=60, seed=4)
    graph.nodes.label[graph.nodes.kind == 1] = ""
    path = folder / "g.json"
    save_graph(graph, path)
    keys = list(graph_targets(graph))
    sources = write_sources(folder / "src", keys)
    table = sources["table"]
    lines = table.read_text().splitlines()
    lines[1] = f"{keys[0][0]},{keys[0][1]},{HOSTILE}"
    table.write_text("\n".join(lines) + "\n")
    args = ["autointerp", path, "-l", table, "-l", sources["details"], "-l", sources["clt-forge"]]
    result = run_cli(*args, "-o", path, "--max-density", "0.25")
    assert result.code == 0, result.stderr
    labelled = load_graph(path)
    entry = features(labelled)[f"{keys[1][0]}_{keys[1][1]}"]
    entry["score"] = 0.875  # as if scored on held-out tokens
    save_graph(labelled, path)
    html = folder / "g.html"
    result = run_cli("render", path, "-o", html)
    assert result.code == 0, result.stderr
    dense = sum(1 for e in features(labelled).values() if e.get("dense"))
    assert dense > 0
    return html, labelled, keys


def test_labels_panel_sources_list_and_histogram(browser, report):
    html, graph, keys = report
    page = Page(browser, html)
    try:
        summary = page.page.text_content("#ag-label-sources")
        assert "labelled features" in summary and "table" in summary  # report/views.py: the PDF's line too
        items = page.page.locator("#ag-label-list li")
        assert items.count() > 0
        scored = items.filter(has_text="0.88")  # the list is in the report's ranking; this one has a score
        assert scored.count() == 1
        scored.first.click()
        assert page.page.locator("#ag-histogram rect").count() == 4
        selected = page.page.text_content("#ag-label-selected")
        assert "table" in selected and "score" in selected
        assert "table" in page.page.text_content("#ag-label-source")  # the Node panel's provenance line
        assert page.page.locator("#ag-feature-details .ag-example span").count() > 0
        assert not page.dialogs and not [u for u in page.requests if not u.startswith("file:")]
        assert not page.console, page.console
    finally:
        page.close()


def test_dense_toggle_hides_dense_features_and_search_finds_labels(browser, report):
    html, graph, keys = report
    page = Page(browser, html)
    try:
        before = page.state()
        assert before["hideDense"] is False
        page.page.click("#ag-hide-dense")
        after = page.state()
        assert after["hideDense"] is True and after["visibleNodes"] < before["visibleNodes"]
        assert "dense=0" in page.page.evaluate("location.hash")
        assert page.page.text_content("#ag-hide-dense").startswith("Show dense features")
        page.page.click("#ag-hide-dense")
        assert page.state()["visibleNodes"] == before["visibleNodes"]

        label = next(e["label"] for e in features(graph).values() if e["label"].startswith("csv "))
        page.page.fill("#ag-search", label)
        hits = page.state()["searchHits"]
        assert hits and all(label in graph.nodes.label[graph.index_of(h)] for h in hits)
        page.page.fill("#ag-search", "onerror")
        assert page.state()["searchHits"]  # the hostile label is searchable text
        assert not page.dialogs and not page.page.locator("img").count()
    finally:
        page.close()


def test_dense_state_survives_in_the_url_hash(browser, report):
    html, _graph, _keys = report
    page = Page(browser, html, "#dense=0")
    try:
        assert page.state()["hideDense"] is True
    finally:
        page.close()
