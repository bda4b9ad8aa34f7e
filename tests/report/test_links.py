"""Links back to Neuronpedia in the HTML report and the PDF (issue 25 point 4, report/links.py): each feature
of a graph whose scan and source set Neuronpedia hosts links to its feature page, a graph from Neuronpedia
links to its page; plain http(s) links, escaped, and the report still makes no request."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.neuronpedia.ids import feature_page_url, graph_page_url
from attrgraph_cli.report import pdf
from attrgraph_cli.report.html import render_html, write_html
from attrgraph_cli.report.links import neuronpedia_links
from attrgraph_testing.synthetic import random_graph

SLUG = 'jordan"><script>alert(1)</script>'


def _np_graph():
    """A graph as Neuronpedia makes them: scan gemma-2-2b, the CLT source set named in info.source_urls."""
    g = random_graph(n_links=200, n_nodes=40, seed=4)
    g.metadata["scan"] = "gemma-2-2b"
    g.metadata["slug"] = SLUG
    g.metadata["info"] = {
        "creator_url": "https://neuronpedia.org",
        "source_urls": ["https://neuronpedia.org/gemma-2-2b/clt-hp", "https://huggingface.co/mntss/clt"],
    }
    return g


def _features(g) -> list[int]:
    return [int(i) for i in np.flatnonzero(g.nodes.kind == NodeKind.FEATURE)]


def test_links_follow_neuronpedias_ids(monkeypatch):
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", "http://127.0.0.1:9/np")
    g = _np_graph()
    links = neuronpedia_links(g)
    assert links.graph == graph_page_url("http://127.0.0.1:9/np", "gemma-2-2b", SLUG)
    assert "<" not in links.graph and '"' not in links.graph  # the slug is URL-quoted
    for i in _features(g):
        want = feature_page_url(
            "http://127.0.0.1:9/np", "gemma-2-2b", "clt-hp", g.nodes.layer[i], g.nodes.feature[i]
        )
        assert links.node(g, i) == want
    assert links.node(g, int(np.flatnonzero(g.nodes.kind == NodeKind.LOGIT)[0])) is None


@pytest.mark.parametrize(
    "change",
    [
        {"scan": "my-own-model", "info": {}},  # Neuronpedia hosts neither its features nor the graph
        {"scan": "gemma-2-2b", "info": {"neuronpedia_source_set": "../../evil"}},  # not a source-set id
        {"scan": "javascript:alert(1)", "info": {"neuronpedia_graph_page": "javascript:alert(1)"}},
    ],
)
def test_no_link_without_a_hosted_graph_or_a_safe_url(change):
    g = random_graph(n_links=50, seed=1)
    g.metadata.update(change)
    links = neuronpedia_links(g)
    assert links.graph is None and all(links.node(g, i) is None for i in _features(g))
    assert "javascript:" not in render_html(g).split("</style>", 1)[1].split('id="attrgraph-head"')[0]


def test_a_bad_server_setting_gives_no_links(monkeypatch):
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", "javascript:alert(1)")
    links = neuronpedia_links(_np_graph())
    assert links.graph is None and links.feature_prefix is None


@pytest.mark.browser
@pytest.mark.xdist_group("render_browser")
def test_the_viewer_links_features_and_the_graph_and_fetches_nothing(browser, tmp_path):
    g = _np_graph()
    path = tmp_path / "g.html"
    write_html(g, path)
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(path.as_uri())
        page.evaluate("window.attrgraph.ready")
        links = neuronpedia_links(g)
        assert page.get_attribute("#ag-np-graph", "href") == links.graph
        assert page.get_attribute("#ag-np-graph", "rel") == "noopener noreferrer"
        for i in _features(g)[:5]:
            page.evaluate("id => window.attrgraph.select(id)", str(g.nodes.ids[i]))
            assert page.get_attribute("#ag-np-feature", "href") == links.node(g, i)
        page.evaluate(
            "id => window.attrgraph.select(id)", str(g.nodes.ids[np.flatnonzero(g.nodes.kind == 0)[0]])
        )
        assert page.locator("#ag-np-feature").count() == 0  # an embedding has no feature page
        assert page.locator("script:not([type]):not([id])").count() == 2  # loader + viewer: nothing injected
        assert requests == [path.as_uri()]
    finally:
        page.close()


def test_the_pdf_links_features_and_the_graph(tmp_path):
    g = _np_graph()
    html, _ = pdf.build_html(g)
    links = neuronpedia_links(g)
    escaped = links.graph.replace("&", "&amp;")
    assert f'<a href="{escaped}">' in html and "<script>alert" not in html
    top = [i for i in _features(g)][:3]
    assert any(f'<a href="{links.node(g, i)}">' in html for i in top)
    path = tmp_path / "g.pdf"
    pdf.write_pdf(g, path)
    from pypdf import PdfReader

    uris = {
        annot.get_object()["/A"]["/URI"]
        for page in PdfReader(path).pages
        for annot in page.get("/Annots") or []
        if "/A" in annot.get_object() and "/URI" in annot.get_object()["/A"]
    }
    assert links.graph in uris
    assert len({u for u in uris if "/gemma-2-2b/" in u and "-clt-hp/" in u}) >= 3  # feature pages
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        assert "On Neuronpedia:" in text
