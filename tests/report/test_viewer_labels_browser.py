"""One label rule for the viewer and the PDF (issue 28): every node that has room gets its label, most
important first, and the logit row is labelled on the canvas with each logit's token, as the PDF writes it."""

from __future__ import annotations

import pytest

from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report import semantics
from attrgraph_cli.report.html import write_html
from attrgraph_cli.report.svg import render_svg
from attrgraph_testing.synthetic import random_graph

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("render_browser")]


@pytest.fixture(scope="module")
def labelled(browser, tmp_path_factory):
    g = random_graph(n_links=120, n_nodes=24, n_tokens=4, n_layers=3, seed=11, n_errors=0)
    feats = g.nodes.kind == NodeKind.FEATURE
    g.nodes.label[feats] = [f"feature {k}" for k in range(int(feats.sum()))]
    path = tmp_path_factory.mktemp("labels") / "g.html"
    write_html(g, path)
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.goto(path.as_uri())
    page.evaluate("window.attrgraph.ready")
    page.evaluate("window.attrgraph.state()")
    yield g, page
    page.close()


def _placed(page) -> dict[str, str]:
    return page.evaluate(
        "() => { const v = window.attrgraph.viewer();"
        " return Object.fromEntries(v.scene.labels.map(l => [v.g.ids[l.i], l.text])); }"
    )


def test_the_viewer_labels_every_node_the_pdf_labels(labelled):
    g, page = labelled
    assert semantics.DEFAULTS.label_density == 1.0
    assert page.evaluate("window.attrgraph.state().labelDensity") == 1.0
    placed = _placed(page)
    visible = page.evaluate(
        "() => { const v = window.attrgraph.viewer(); return v.g.ids.filter((id, i) => v.visible[i]); }"
    )
    shown = {str(g.nodes.ids[i]) for i in range(len(g.nodes)) if g.nodes.kind[i] != NodeKind.EMBEDDING}
    assert shown & set(visible) <= set(
        placed
    )  # every visible node but the tokens (written under the columns)
    figure = render_svg(g)
    pdf_labelled = {str(g.nodes.ids[p.node]) for p in figure.labels if p.node >= 0}
    assert pdf_labelled & set(visible) <= set(placed)


def test_the_logit_row_is_labelled_with_tokens(labelled):
    g, page = labelled
    placed = _placed(page)
    sem = semantics.compute(g)
    logits = [i for i in range(len(g.nodes)) if g.nodes.kind[i] == NodeKind.LOGIT]
    assert logits
    for i in logits:
        assert placed[str(g.nodes.ids[i])] == sem.short[i]  # the token alone, as the PDF's logit row
