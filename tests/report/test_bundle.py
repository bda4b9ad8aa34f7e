"""The viewer as a report embeds it (report/bundle.py, report/html.py; issue 27 point 6): minified by esbuild
at build time from the readable sources in static_js/, deflated in the page; at most 60 KB of viewer code in
a report, and a report of a real Neuronpedia graph of 0.5 MB and up at most 30% of the graph JSON."""

from __future__ import annotations

import base64
import re
import zlib
from pathlib import Path

import pytest

from attrgraph_cli.io import load_graph
from attrgraph_cli.report import bundle
from attrgraph_cli.report.html import readable_assets, render_html
from attrgraph_testing.paths import SHARED
from attrgraph_testing.synthetic import random_graph

#: the budget for the viewer's code in one report (script, loader and stylesheet, as embedded)
VIEWER_CODE_BUDGET = 60_000


def _blocks(page: str) -> dict[str, str]:
    return {
        "code": re.search(
            r'id="attrgraph-code" data-encoding="deflate-raw">(.*?)</script>', page, re.S
        ).group(1),
        "loader": re.search(r"<script>(.*?)</script>", page, re.S).group(1),
        "css": re.search(r"<style>(.*?)</style>", page, re.S).group(1),
    }


def test_the_minified_bundle_matches_the_sources():
    """A stale static_js/min/ (sources edited, `make viewer` not run) fails here, never silently in a page."""
    js, css = readable_assets()
    assert bundle.minified(js, css) is not None, "static_js/min/ is stale: run `make viewer`"
    assert bundle.minified(js + "\n", css) is None  # any other source: the readable code is embedded instead


def test_a_report_embeds_the_minified_viewer_within_its_budget():
    page = render_html(random_graph(n_links=200, seed=3))
    blocks = _blocks(page)
    code = zlib.decompress(base64.b64decode(blocks["code"]), -15).decode("utf-8")
    js, css = readable_assets()
    min_js, min_css = bundle.minified(js, css)
    assert code == min_js and blocks["css"] == min_css
    assert len(min_js) < 0.6 * len(js)  # minified: names shortened, comments and blanks gone
    size = sum(len(b.encode("utf-8")) for b in blocks.values())
    assert size <= VIEWER_CODE_BUDGET, size


def _real_graphs() -> list[Path]:
    folder = SHARED / "data" / "groupings"
    return sorted(p for p in folder.glob("*.graph.json") if p.stat().st_size >= 500_000)


@pytest.mark.parametrize("path", _real_graphs(), ids=lambda p: p.name)
def test_reports_of_real_neuronpedia_graphs_are_at_most_30_percent(path):
    ratio = len(render_html(load_graph(path)).encode("utf-8")) / path.stat().st_size
    assert ratio <= 0.30, f"{path.name}: HTML/JSON {ratio:.3f}"
