"""One graph rendered three ways (SVG, PDF read back with poppler, the viewer's payload): the same labels,
colours and ranking, because all three take them from `report/semantics.py`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report import semantics
from attrgraph_cli.report.payload import build_payload
from attrgraph_cli.report.svg import FigureOptions, render_svg
from attrgraph_testing.synthetic import random_graph

pytest.importorskip("weasyprint")
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")

TOP = 12


@pytest.fixture(scope="module")
def graph():
    g = random_graph(n_links=1500, n_tokens=5, n_layers=5, seed=7, label="feat{i}")
    feats = np.flatnonzero(g.nodes.kind == NodeKind.FEATURE)
    g.nodes.label[feats[::3]] = ""  # shown as L{layer}/{index}
    err = int(np.flatnonzero(g.nodes.kind == NodeKind.ERROR)[0])
    g.nodes.influence[err] = -1.0  # an error node ranked first: the tables show it, labelled the same way
    g.nodes.influence[feats[5]] = g.nodes.influence[feats[6]]  # a tie, broken by |activation|
    return g


@pytest.fixture(scope="module")
def sem(graph):
    return semantics.compute(graph)


@pytest.fixture(scope="module")
def pdf_text(graph, tmp_path_factory):
    from attrgraph_cli.report.pdf import write_pdf

    out = tmp_path_factory.mktemp("agree") / "g.pdf"
    write_pdf(graph, out, top=TOP, labels=10)
    pages = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    )
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile", str(out),
                    str(out.with_suffix(""))], check=True)  # fmt: skip
    return pages.stdout, out.with_suffix(".png")


def test_svg_labels_colours_and_choice_of_labelled_nodes(graph, sem):
    fig = render_svg(graph, FigureOptions(labels=10))
    labelled = [lab for lab in fig.labels if lab.node >= 0]
    kinds = {int(graph.nodes.kind[lab.node]) for lab in labelled}
    assert kinds == {NodeKind.FEATURE, NodeKind.LOGIT}
    for lab in labelled:
        if graph.nodes.kind[lab.node] == NodeKind.FEATURE:
            assert lab.text == sem.display[lab.node]
        else:
            assert lab.text == sem.short[lab.node] and lab.text in sem.display[lab.node]
    top = set(semantics.top_nodes(graph, 10).tolist())
    feats = {lab.node for lab in labelled if graph.nodes.kind[lab.node] == NodeKind.FEATURE}
    assert feats <= top and len(feats) >= 5  # the best-ranked features, where a label fits
    assert any(re.fullmatch(r"L\d+/\d+", sem.display[i]) for i in top)  # unlabelled features are named too
    for kind, name in semantics.KIND_NAMES.items():
        colour = semantics.PALETTE[name]
        assert re.search(rf'class="nodes {name}"[^>]*(fill|stroke)="{colour}"', fig.svg), name
        assert all(
            c == colour for c, k in zip(sem.color, graph.nodes.kind.tolist(), strict=True) if k == kind
        )


def test_pdf_tables_and_figure_use_the_same_labels_and_ranking(graph, sem, pdf_text):
    text, _ = pdf_text
    table = text[text.index(f"Top {TOP} nodes") :]
    expected = semantics.top_nodes(graph, TOP, (NodeKind.FEATURE, NodeKind.ERROR)).tolist()
    assert graph.nodes.kind[expected[0]] == NodeKind.ERROR
    where = [table.index(str(graph.nodes.ids[i])) for i in expected]
    assert where == sorted(where)  # rows in rank order
    flat = " ".join(table.split())
    for i in expected:
        assert sem.display[i] in flat, sem.display[i]
    page1 = " ".join(text.split("\f")[0].split())
    fig = render_svg(graph, FigureOptions(labels=10))
    for lab in fig.labels:
        assert lab.text in page1, lab.text
    # the front page's top-logits table: short labels (the tokens) in probability order
    logits = semantics.top_logits(graph, 3).tolist()
    where = [page1.index(f"{sem.short[i]} {graph.nodes.logit_probability[i]:.3g}") for i in logits]
    assert where == sorted(where)


def test_pdf_figure_is_drawn_in_the_palette(graph, pdf_text):
    from PIL import Image

    _, png = pdf_text
    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    found = {tuple(p) for p in np.unique(pixels, axis=0).tolist()}
    for name in semantics.KIND_NAMES.values():
        colour = semantics.PALETTE[name]
        rgb = tuple(int(colour[k : k + 2], 16) for k in (1, 3, 5))
        assert rgb in found, name


def test_viewer_payload_ships_the_same_semantics(graph, sem):
    payload = build_payload(graph)
    text = payload.head
    if payload.head_encoding != "json":
        import base64
        import zlib

        text = zlib.decompress(base64.b64decode(text), -15).decode("utf-8")
    shipped = json.loads(text)["semantics"]
    assert shipped["display"] == sem.display
    assert shipped["color"] == sem.color
    assert shipped["rank"] == sem.rank.tolist()
    assert shipped["palette"] == semantics.PALETTE
    assert {int(k): v for k, v in shipped["short"].items()} == {
        i: s for i, (s, d) in enumerate(zip(sem.short, sem.display, strict=True)) if s != d
    }
