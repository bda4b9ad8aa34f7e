"""A 50 MB label (issue 23: imported by autointerp, it froze the page for 32 s when its node was selected, and
the viewer's SVG export was 52 MB while the CLI's SVG clipped it): one clip length everywhere
(clip.py MAX_LABEL), applied when the payload is built and in the viewer's SVG export."""

from __future__ import annotations

import time

import pytest

from attrgraph_cli import extension
from attrgraph_cli.clip import MAX_LABEL
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report.html import write_html
from attrgraph_cli.report.svg import render_svg
from attrgraph_testing.synthetic import random_graph

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("render_browser")]

HUGE = 50_000_000


def test_a_50_mb_label_is_clipped_in_the_page_and_its_svg(browser, tmp_path):
    g = random_graph(n_links=200, n_nodes=40, seed=6)
    i = int(next(k for k in range(len(g.nodes)) if g.nodes.kind[k] == NodeKind.FEATURE))
    label = "<b>huge</b> " + "x" * HUGE
    g.nodes.label[i] = label  # as autointerp writes an imported label: the clerp and the feature entry
    extension.set_feature(
        g, int(g.nodes.layer[i]), int(g.nodes.feature[i]), {"label": label, "source": "table"}
    )
    path = tmp_path / "g.html"
    size = write_html(g, path)
    assert size < 200_000, size
    page = browser.new_page()
    try:
        page.goto(path.as_uri())
        page.evaluate("window.attrgraph.ready")
        nid = str(g.nodes.ids[i])
        t0 = time.perf_counter()
        page.evaluate("id => window.attrgraph.select(id)", nid)
        shown = page.inner_text("#ag-detail-label")
        assert time.perf_counter() - t0 < 2.0  # the page froze for 32 s before
        assert shown.startswith("<b>huge</b> xxx") and len(shown) == MAX_LABEL and shown.endswith("\u2026")
        svg = page.evaluate("window.attrgraph.svg()")
        assert len(svg) < 200_000 and "<b>" not in svg
        # the same label edited in the page is cut the same way, in the page and in its SVG export
        page.fill("#ag-label-edit", "y" * 10_000)
        page.press("#ag-label-edit", "Enter")
        assert (
            len(
                page.evaluate(
                    "id => window.attrgraph.viewer().g.display[window.attrgraph.viewer().g.index.get(id)]",
                    nid,
                )
            )
            == MAX_LABEL
        )
        assert len(page.evaluate("window.attrgraph.svg()")) < 200_000
    finally:
        page.close()
    assert len(render_svg(g).svg) < 200_000  # the CLI's SVG: its labels fit their width
