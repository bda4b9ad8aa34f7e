"""The PDF report read back with poppler: text, pages, sizes, embedded fonts, vector figure, geometry."""

from __future__ import annotations

import importlib.abc
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attrgraph_cli import extension
from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.extension import migrate
from attrgraph_cli.graph.ids import cantor_pair
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report import pdf as pdf_module
from attrgraph_cli.report.semantics import kind_color
from attrgraph_cli.report.svg import FigureOptions
from attrgraph_testing.synthetic import random_graph

pytest.importorskip("weasyprint")
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")

HOSTILE = "</script><img src=x onerror=alert(1)>"
PROMPT = "The capital of the state containing Dallas is"


def _report_graph():
    graph = random_graph(n_links=400, n_tokens=6, n_layers=6, seed=3, label="feat{i} capital")
    graph.metadata["prompt"] = PROMPT
    graph.metadata["prompt_tokens"] = ["The", " capital", " of", " the", " state", " Dallas"]
    graph.metadata["transcoder_list"] = [f"mytranscoders/layer_{i}" for i in range(6)]
    graph.metadata["scan"] = "tiny-test-model"
    ids = graph.nodes.ids.tolist()
    graph.nodes.label[0] = "Texas " + HOSTILE
    graph.qparams["supernodes"] = [["Texas cluster", *ids[:3]], ["say Austin", ids[10], ids[11], "gone_1_1"]]
    graph.qparams["pinnedIds"] = ids[5:8]
    graph.extra["interventions"] = [
        {
            "name": "ablate Texas",
            "set": {ids[0]: 0.0},
            "top_logits_before": [[" Austin", 0.45], [" Dallas", 0.12]],
            "top_logits_after": [{"token": " Houston", "probability": 0.31}],
        },
        "an odd entry",  # not a record: dropped by the migration
    ]
    layer, index = int(graph.nodes.layer[0]), int(graph.nodes.feature[0])
    graph.extra["feature_details"] = {
        str(cantor_pair(layer, index)): {
            "index": index,
            "examples_quantiles": [
                {
                    "quantile_name": "Top",
                    "examples": [
                        {"tokens": ["in", " Lubbock", " county"], "tokens_acts_list": [0, 4.0, 1.0]}
                    ],
                }
            ],
            "top_logits": [" Austin", " Texan"],
            "bottom_logits": [" Paris"],
        }
    }
    # the legacy keys above are what older files hold; readers see them through the migration on load
    migrate(graph)
    extension.append_history(
        graph,
        {
            "stage": "trace",
            "attrgraph_version": "0.1.0",
            "settings": {"model": "tiny-test-model", "batch_size": 256},
            "inputs": [{"name": "model-dir", "role": "model", "sha256": "ab" * 32}],
            "started": "2026-12-01T04:00:00+00:00",
            "duration_s": 1.25,
        },
    )
    return graph


@pytest.fixture(scope="module")
def graph():
    return _report_graph()


@pytest.fixture(scope="module")
def pdfs(graph, tmp_path_factory):
    """The report in three variants, written once for the module."""
    out = tmp_path_factory.mktemp("pdf")
    paths = {"a4": out / "a4.pdf", "letter-landscape": out / "ll.pdf", "figure": out / "fig.pdf"}
    pdf_module.write_pdf(graph, paths["a4"], top=15)
    pdf_module.write_pdf(graph, paths["letter-landscape"], page="letter", landscape=True)
    pdf_module.write_pdf(graph, paths["figure"], figure_only=True)
    return paths


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _info(path: Path) -> dict[str, str]:
    return dict(line.split(":", 1) for line in _run("pdfinfo", str(path)).splitlines() if ":" in line)


def _page_size(path: Path) -> tuple[float, float]:
    w, h = re.match(r"\s*([\d.]+) x ([\d.]+) pts", _info(path)["Page size"]).groups()
    return float(w), float(h)


def _text(path: Path) -> str:
    return _run("pdftotext", "-layout", str(path), "-")


def test_text_is_selectable_and_complete(pdfs, graph):
    text = _text(pdfs["a4"])
    flat = " ".join(text.split())
    assert PROMPT in flat
    assert "tiny-test-model" in flat and "mytranscoders/layer_0" in flat
    assert HOSTILE in flat  # escaped in the HTML, drawn literally in the PDF (table and figure)
    for section in (
        "Pinned subgraph",
        "Top 15 nodes by influence",
        "Supernodes",
        "Provenance",
        "Interventions",
        "Feature details",
    ):
        assert section in flat
    assert "Texas cluster" in flat and "say Austin" in flat and "gone_1_1" in flat
    assert "ablate Texas" in flat and "Houston" in flat and "0.31" in flat and "an odd entry" not in flat
    assert "Lubbock" in flat and "Texan" in flat
    assert "trace attrgraph 0.1.0" in flat and "batch_size 256" in flat and "abababababab" in flat
    # the figure's labels and tokens are text too (page 1 only)
    page1 = " ".join(_run("pdftotext", "-f", "1", "-l", "1", str(pdfs["a4"]), "-").split())
    assert "Dallas" in page1 and "Logits" in page1 and "edges drawn" in page1
    assert sum(f"feat{i} capital" in page1 for i in range(40)) >= 5


def test_pages_and_sizes(pdfs, graph):
    w, h = _page_size(pdfs["a4"])
    assert (round(w), round(h)) == (595, 842)
    assert int(_info(pdfs["a4"])["Pages"]) >= 3
    w, h = _page_size(pdfs["letter-landscape"])
    assert (round(w), round(h)) == (792, 612)
    for name in ("a4", "letter-landscape"):  # page 1 holds the whole figure and its caption
        page1 = " ".join(_run("pdftotext", "-f", "1", "-l", "1", str(pdfs[name]), "-").split())
        assert "edges drawn" in page1 and "Blue edges excite, red edges inhibit." in page1
    assert int(_info(pdfs["figure"])["Pages"]) == 1
    fig = pdf_module.build_html(graph, figure_only=True)[1]
    w, h = _page_size(pdfs["figure"])
    assert w == pytest.approx(fig.width * 0.75, abs=0.5) and h == pytest.approx(fig.height * 0.75, abs=0.5)


def test_fonts_are_embedded_and_figures_are_vector(pdfs):
    for path in pdfs.values():
        rows = _run("pdffonts", str(path)).splitlines()[2:]
        assert rows, "no fonts at all: the text would not be selectable"
        for row in rows:
            assert "AttrgraphDejaVuSans" in row
            assert row.split()[-5] == "yes", row  # the "emb" column
        images = _run("pdfimages", "-list", str(path)).splitlines()[2:]
        assert images == [], "the figure must be vector, not a raster image"


def _blobs(png: Path, colour: str, min_area: float, tolerance: int = 12) -> np.ndarray:
    """Centres of the connected areas of `colour` of at least `min_area` pixels (anti-aliased strokes of
    other colours can blend into a few stray pixels of the same colour)."""
    from PIL import Image
    from scipy import ndimage

    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    mask = (np.abs(rgb - target) <= tolerance).all(axis=2)
    labels, n = ndimage.label(mask)
    centres = ndimage.center_of_mass(mask, labels, range(1, n + 1))
    sizes = ndimage.sum(mask, labels, range(1, n + 1))
    return np.array([(x, y) for (y, x), s in zip(centres, sizes, strict=True) if s >= min_area])


def _match(expected: np.ndarray, found: np.ndarray, tol: float) -> None:
    assert len(found) == len(expected)
    for ex in expected:
        assert np.min(np.hypot(*(found - ex).T)) <= tol, ex


def test_figure_only_nodes_are_where_the_layout_put_them(graph, tmp_path):
    """Page = figure, 96 dpi = SVG px: every feature node's blob centre is at its layout position."""
    out = tmp_path / "fig.pdf"
    opts = dict(max_edges=0, labels=0, logit_labels=0, caption=False)
    pdf_module.write_pdf(graph, out, figure_only=True, **opts)
    fig = pdf_module.build_html(graph, figure_only=True, figure_options=FigureOptions(**opts))[1]
    subprocess.run(["pdftoppm", "-r", "96", "-png", "-singlefile", str(out), str(tmp_path / "p")], check=True)
    area = 0.4 * np.pi * fig.node_r**2
    found = _blobs(tmp_path / "p.png", kind_color(NodeKind.FEATURE), area)
    feat = graph.mask(NodeKind.FEATURE)
    expected = np.stack([fig.node_x[feat], fig.node_y[feat]], axis=1)
    _match(expected, found, tol=1.5)
    # logits (purple) and embeddings (green) too
    for kind in (NodeKind.LOGIT, NodeKind.EMBEDDING):
        found = _blobs(tmp_path / "p.png", kind_color(kind), area / 3)  # smaller glyphs
        sel = graph.mask(kind)
        _match(np.stack([fig.node_x[sel], fig.node_y[sel]], axis=1), found, tol=1.5)


def test_report_page_one_draws_the_same_geometry(graph, tmp_path):
    """On page 1 the figure is scaled into the page: node blobs are an exact scaled copy of the layout."""
    out = tmp_path / "r.pdf"
    opts = dict(max_edges=0, labels=0, logit_labels=0)
    pdf_module.write_pdf(graph, out, **opts)
    dpi = 100
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(out),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    html, fig = pdf_module.build_html(graph, figure_options=FigureOptions(**opts))
    width_mm = float(re.search(r'<figure class="main" style="width: ([\d.]+)mm', html).group(1))
    scale = width_mm / 25.4 * dpi / fig.width  # figure px -> page pixels
    found = _blobs(tmp_path / "p.png", kind_color(NodeKind.FEATURE), 0.4 * np.pi * (fig.node_r * scale) ** 2)
    feat = graph.mask(NodeKind.FEATURE)
    expected = np.stack([fig.node_x[feat], fig.node_y[feat]], axis=1) * scale
    offset = found.min(axis=0) - expected.min(axis=0)  # where the figure sits on the page
    assert 0 < offset[0] < 80 and 100 < offset[1] < 700
    _match(expected + offset, found, tol=2.0)


def test_no_two_words_of_the_figure_overlap_in_the_pdf(tmp_path):
    """Read back from the PDF itself: on a dense 55k-link figure no word box overlaps another one
    (labels, logit labels, layer labels, caption; the rotated prompt tokens are left out)."""
    from xml.etree import ElementTree

    graph = random_graph(n_links=55_000)
    out = tmp_path / "fig.pdf"
    pdf_module.write_pdf(graph, out, figure_only=True)
    root = ElementTree.fromstring(_run("pdftotext", "-bbox", str(out), "-"))
    tokens = {t.strip() for t in graph.prompt_tokens}
    words = [
        (w.text, *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
        for w in root.iter("{http://www.w3.org/1999/xhtml}word")
        if w.text not in tokens
    ]
    assert sum(w[0] == "feature" for w in words) >= 15  # the labels are there, as text
    eps = 0.05
    for i, (ta, ax0, ay0, ax1, ay1) in enumerate(words):
        for tb, bx0, by0, bx1, by1 in words[i + 1 :]:
            overlap = ax0 < bx1 - eps and bx0 < ax1 - eps and ay0 < by1 - eps and by0 < ay1 - eps
            assert not overlap, (ta, tb, (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1))


def test_missing_pango_is_one_clear_error(graph, tmp_path, monkeypatch):
    class NoPango(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "weasyprint" or name.startswith("weasyprint."):
                raise OSError(
                    "cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file"
                )
            return None

    for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [NoPango(), *sys.meta_path])
    out = tmp_path / "x.pdf"
    with pytest.raises(AttrgraphError) as err:
        pdf_module.write_pdf(graph, out)
    message = str(err.value)
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0" in message and "\n" not in message
    assert not out.exists()


def test_missing_pango_through_the_cli(tmp_path):
    """`attrgraph render x.json -o x.pdf` without Pango: one line on stderr, exit code 2, no traceback."""
    from attrgraph_cli.io import save_graph

    src = tmp_path / "g.json"
    save_graph(random_graph(n_links=50, n_tokens=3, n_layers=3, seed=1), src)
    code = (
        "import importlib.abc, sys\n"
        "class F(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'weasyprint': raise OSError('no libgobject-2.0-0')\n"
        "sys.meta_path.insert(0, F())\n"
        "from attrgraph_cli.cli import main\n"
        f"sys.argv = ['attrgraph', 'render', {str(src)!r}, '-o', {str(tmp_path / 'g.pdf')!r}]\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "libpango" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "g.pdf").exists()


def test_cli_writes_svg_and_pdf(tmp_path, cli):
    from attrgraph_cli.io import save_graph

    src = tmp_path / "g.json"
    graph = random_graph(n_links=200, n_tokens=4, n_layers=4, seed=5)
    graph.metadata["prompt"] = PROMPT
    save_graph(graph, src)
    for name, extra in (
        ("g.svg", []),
        ("g.pdf", ["--page", "letter", "--top", "5"]),
        ("f.pdf", ["--figure-only"]),
        ("l.out", ["--format", "pdf", "--landscape", "--title", "My graph"]),
    ):
        proc = cli("render", src, "-o", tmp_path / name, *extra, fresh=True)
        assert proc.code == 0, proc.stderr
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "attrgraph_cli",
            "render",
            str(src),
            "-o",
            str(tmp_path / "m.svg"),
            "--max-edges",
            "50",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    drawn = re.findall(r'<path class="edges [^"]*" d="([^"]*)"', (tmp_path / "m.svg").read_text())
    assert sum(d.count("M") for d in drawn) == 50
    assert "50 of 200 edges drawn (top 50 by |w|" in (tmp_path / "m.svg").read_text()
    assert PROMPT in " ".join(_text(tmp_path / "g.pdf").split())
    assert round(_page_size(tmp_path / "g.pdf")[0]) == 612
    assert "Top 5 nodes" in _text(tmp_path / "g.pdf")
    assert int(_info(tmp_path / "f.pdf")["Pages"]) == 1
    assert [round(v) for v in _page_size(tmp_path / "l.out")] == [842, 595]
    assert "My graph" in _text(tmp_path / "l.out")


def test_pdf_fetches_nothing_but_the_shipped_fonts(graph):
    assert pdf_module._allowed((pdf_module.resource_dir("templates") / "fonts" / "DejaVuSans.ttf").as_uri())
    assert not pdf_module._allowed("file:///etc/passwd")
    assert not pdf_module._allowed("https://example.com/x.ttf")
    assert not pdf_module._allowed((pdf_module.resource_dir("templates") / "report_pdf.css").as_uri())


def test_unknown_page_size_is_a_user_error(graph, tmp_path):
    with pytest.raises(AttrgraphError, match="unknown page size"):
        pdf_module.write_pdf(graph, tmp_path / "x.pdf", page="a3")
