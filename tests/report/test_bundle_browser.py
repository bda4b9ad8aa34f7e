"""The minified viewer in Chromium: the loader inflates and runs exactly the minified bundle under the page's
Content-Security-Policy, the graph draws, and the page makes no request (every other browser test runs the
same minified viewer: report/html.py embeds nothing else)."""

from __future__ import annotations

import pytest

from attrgraph_cli.report import bundle
from attrgraph_cli.report.html import readable_assets, write_html
from attrgraph_testing.synthetic import random_graph

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("render_browser")]


def test_the_page_runs_the_minified_viewer(browser, tmp_path):
    g = random_graph(n_links=300, n_nodes=50, seed=2)
    path = tmp_path / "g.html"
    write_html(g, path)
    page = browser.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(path.as_uri())
        page.evaluate("window.attrgraph.ready")
        ran = page.evaluate("Array.from(document.scripts).filter(s => !s.type && !s.id).map(s => s.text)")
        min_js, _ = bundle.minified(*readable_assets())
        assert ran[-1] == min_js  # the loader's script element holds the minified bundle, nothing else
        assert page.evaluate("window.attrgraph.viewer().metrics.readyAt") > 0  # drawn
        assert page.evaluate("window.attrgraph.viewer().g.n") == len(g.nodes)
        assert not problems, problems
        assert requests == [path.as_uri()]
    finally:
        page.close()
