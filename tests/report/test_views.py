"""One view of each extension part (report/views.py) for the viewer and the PDF (issue 27 point 2, issue 28).

- collapse.js (the viewer's collapse after an edit) against Python's collapse, in Node, on several graphs;
- in Chromium against a PDF of the same file: the same label summary, the same sweep colours and the same
  collapsed supernode graph (tokens -> supernodes -> target logit); after editing a supernode in the viewer,
  its collapse equals Python's collapse of the graph JSON the viewer downloads.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from attrgraph_cli import extension
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.io import load_graph
from attrgraph_cli.report import pdf, semantics, views
from attrgraph_cli.report.html import write_html
from attrgraph_cli.report.payload import build_payload
from attrgraph_cli.report.subgraph import pinned_view
from attrgraph_testing.paths import TESTS
from attrgraph_testing.synthetic import random_graph

TOOL = TESTS / "js" / "tools" / "collapse.js"


def _graph(seed: int):
    """A graph with overlapping and empty supernodes, a missing member, pins inside and outside them."""
    g = random_graph(n_links=600, n_nodes=80, n_tokens=6, n_layers=4, seed=seed, n_errors=3)
    ids = g.nodes.ids.tolist()
    feats = np.random.default_rng(seed).permutation(np.flatnonzero(g.nodes.kind == NodeKind.FEATURE))
    emb = int(np.flatnonzero(g.nodes.kind == NodeKind.EMBEDDING)[0])
    g.qparams["supernodes"] = [
        ["A", *[ids[i] for i in feats[:4]]],
        ["B", *[ids[i] for i in feats[3:7]], "missing_0_0"],  # feats[3] is A's already
        ["empty", "nope"],
    ]
    g.qparams["pinnedIds"] = [ids[feats[10]], ids[feats[0]], ids[emb], ids[feats[10]]]
    return g


def _same(got: dict, want: views.CollapsedView) -> None:
    for key in ("ids", "names", "colors", "members", "supernode"):
        assert got[key] == getattr(want, key), key
    assert len(got["links"]) == len(want.links)
    for (a, b, w), (c, d, x) in zip(sorted(got["links"]), sorted(want.links), strict=True):
        assert (a, b) == (c, d) and w == pytest.approx(x, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_collapse_js_computes_what_python_ships(tmp_path, seed):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Debian's nodejs package (make install)")
    g = _graph(seed)
    payload = build_payload(g)
    (tmp_path / "head.txt").write_text(payload.head, encoding="utf-8")
    (tmp_path / "head.encoding").write_text(payload.head_encoding, encoding="utf-8")
    (tmp_path / "blob.b64").write_text(payload.blob_b64, encoding="ascii")
    out = subprocess.run([node, str(TOOL), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    want = views.collapsed_view(g, semantics.compute(g))
    _same(result["computed"], want)
    _same(result["shipped"], want)
    # the graph reads tokens -> supernodes -> target logit, and the PDF draws exactly these nodes
    assert pinned_view(g).nodes.ids.tolist() == want.ids
    kinds = [
        int(g.nodes.kind[g.index_of(m[0])])
        for m, s in zip(want.members, want.supernode, strict=True)
        if s is None
    ]
    assert NodeKind.EMBEDDING in kinds and NodeKind.LOGIT in kinds
    assert want.supernode[-2:] == [0, 1] and want.names[-2:] == ["A", "B"]


SWEEP = {
    "parameter": "value",
    "values": [0.0, 0.5, 1.0],
    "series": [{"token": f" t{k}", "p": [0.1 * k, 0.05 * k, 0.02 * k]} for k in range(10)],
}


def _report_graph():
    g = _graph(7)
    feats = np.flatnonzero(g.nodes.kind == NodeKind.FEATURE)
    for n, i in enumerate(feats[:9].tolist()):
        layer, index = int(g.nodes.layer[i]), int(g.nodes.feature[i])
        entry = {"label": f"feature {n}", "source": ["table", "heuristic", "clt-forge"][n % 3]}
        if n % 2:
            entry["score"] = 0.5 + n / 20
            entry["score_method"] = "detection"
        extension.set_feature(g, layer, index, entry)
    record = {"name": "sweep it", "kind": "sweep", "spec": [], "settings": {}, "targets": [], "sweep": SWEEP}
    extension.append_intervention(g, record)
    return g


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views")
    g = _report_graph()
    write_html(g, folder / "g.html")
    return g, folder


@pytest.mark.browser
@pytest.mark.xdist_group("render_browser")
def test_viewer_and_pdf_show_the_same_views(browser, report):
    g, folder = report
    want = views.compute(g)
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto((folder / "g.html").as_uri())
        page.evaluate("window.attrgraph.ready")
        # the label summary
        summary = page.text_content("#ag-label-sources")
        assert summary == want.labels.text and "9 labelled features" in summary
        # the sweep colours (and how many series: the PDF's limit)
        page.click("#ag-iv-list li")
        viewer_colours = page.eval_on_selector_all(
            ".ag-iv-chart polyline", "els => els.map(e => e.getAttribute('stroke'))"
        )
        html, _ = pdf.build_html(g)
        chart = re.search(r'<svg[^>]*class="chart line".*?</svg>', html, re.S).group(0)
        pdf_colours = re.findall(
            r'<path d="M[^"]*" fill="none" stroke="(#[0-9a-f]{6})" stroke-width="1.2"', chart
        )
        assert viewer_colours == pdf_colours == views.SERIES_COLORS[: views.MAX_SERIES]
        # the collapsed supernode graph
        page.click("#ag-collapse-supernodes")
        page.wait_for_function("window.attrgraph.state().collapsedGraph !== null")
        got = page.evaluate("window.attrgraph.state().collapsedGraph.view")
        _same(got, want.supernodes.collapsed)
        assert pinned_view(g).nodes.ids.tolist() == want.supernodes.collapsed.ids  # the PDF's subgraph figure
        # edit a supernode (drop a member, rename it): the viewer's collapse is Python's for what it downloads
        member = g.qparams["supernodes"][0][2]
        page.evaluate("id => window.attrgraph.select(id)", member)
        page.locator("#ag-supernodes li .ag-remove-node").nth(0).click()
        page.locator("#ag-supernodes li .ag-rename").nth(0).click()
        page.fill(".ag-sn-rename", "A renamed")
        page.press(".ag-sn-rename", "Enter")
        page.wait_for_function("window.attrgraph.state().collapsedGraph.view.names.includes('A renamed')")
        edited = page.evaluate("window.attrgraph.state().collapsedGraph.view")
        (folder / "edited.json").write_text(page.evaluate("window.attrgraph.graphJson()"), encoding="utf-8")
        again = load_graph(folder / "edited.json")
        assert member not in again.supernodes[0]
        _same(edited, views.collapsed_view(again, semantics.compute(again)))
        assert not [u for u in requests if not u.startswith("file:")]
    finally:
        page.close()


def test_the_pdf_prints_the_label_summary(report, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed")
    g, _ = report
    path = tmp_path / "g.pdf"
    pdf.write_pdf(g, path)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split()
    )
    assert views.compute(g).labels.text in text
