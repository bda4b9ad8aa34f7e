"""PDF bundles: the report PDF carries its graph and its interactive report; attrgraph reads them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import orjson
import pytest

from attrgraph_cli.io import load_graph, save_graph
from attrgraph_cli.io.neuronpedia_json import graph_to_document
from attrgraph_cli.io.pdf_bundle import read_pdf_attachments
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.synthetic import random_graph

pytestmark = [pytest.mark.xdist_group("render_pdf")]


def _run(*args: str, env: dict | None = None) -> CliResult:
    return run_cli(*args, fresh=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory) -> Path:
    """A real-shaped graph that went through stages: labels, supernodes, an intervention, history."""
    g = random_graph(n_links=20_000, seed=7)
    feats = np.flatnonzero(g.nodes.kind == 1)
    g.nodes.label[feats[0]] = "Texas </script><b>"
    g.qparams["supernodes"] = [["Texas", *map(str, g.nodes.ids[feats[:3]])]]
    g.extra["attrgraph"] = {
        "version": 1,
        "interventions": [
            {
                "name": "zero",
                "kind": "intervention",
                "spec": [{"op": "set", "nodes": [str(g.nodes.ids[feats[0]])], "value": 0.0}],
                "settings": {},
                "targets": [{"token": "Austin", "measured_delta": -1.0}],
            }
        ],
    }
    path = tmp_path_factory.mktemp("bundle") / "g.json"
    save_graph(g, path)
    return path


@pytest.fixture(scope="module")
def report_pdf(graph_file: Path) -> Path:
    out = graph_file.with_name("report.pdf")
    result = _run("render", str(graph_file), "-o", str(out))
    assert result.code == 0, result.stderr
    assert "attachments:" in result.stderr and "MB of the PDF" in result.stderr
    return out


def _float32_links(doc: dict) -> list[tuple[str, str, float]]:
    return [(x["source"], x["target"], float(np.float32(x["weight"]))) for x in doc["links"]]


def test_report_pdf_lists_two_attachments_with_types_and_descriptions(report_pdf):
    listing = subprocess.run(["pdfdetach", "-list", str(report_pdf)], capture_output=True, text=True).stdout
    assert listing.splitlines()[0] == "2 embedded files"
    atts = read_pdf_attachments(report_pdf)
    assert [(a.name.rsplit(".", 2)[-2:], a.mime) for a in atts] == [
        (["graph", "json"], "application/json"),
        (["report", "html"], "text/html"),
    ]
    assert all(len(a.description) > 30 for a in atts)
    text = subprocess.run(
        ["pdftotext", "-l", "1", str(report_pdf), "-"], capture_output=True, text=True
    ).stdout
    assert "pdfdetach -saveall report.pdf" in " ".join(text.split())


def test_extracted_json_validates_and_equals_the_input(report_pdf, graph_file, tmp_path):
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(report_pdf)], check=True)
    [extracted] = list(tmp_path.glob("*.graph.json"))
    assert _run("validate", str(extracted)).code == 0
    ours = orjson.loads(extracted.read_bytes())
    original = graph_to_document(load_graph(graph_file))
    assert ours["nodes"] == original["nodes"]
    assert _float32_links(ours) == _float32_links(original)
    assert ours["qParams"]["supernodes"] == original["qParams"]["supernodes"]
    assert ours["attrgraph"]["interventions"] == original["attrgraph"]["interventions"]


@pytest.mark.browser
def test_extracted_html_opens_offline_with_the_same_counts(browser, report_pdf, graph_file, tmp_path):
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(report_pdf)], check=True)
    [html] = list(tmp_path.glob("*.report.html"))
    graph = load_graph(graph_file)
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.as_uri())
    page.evaluate("window.attrgraph.ready")
    state = page.evaluate("window.attrgraph.state()")
    page.close()
    assert state["nodes"] == len(graph.nodes) and state["links"] == len(graph.edges)
    assert requests == [html.as_uri()]


def test_render_and_validate_read_the_pdf_back(report_pdf, graph_file, tmp_path):
    again = tmp_path / "again.html"
    result = _run("render", str(report_pdf), "-o", str(again))
    assert result.code == 0, result.stderr
    assert again.stat().st_size > 10_000
    result = _run("validate", str(report_pdf))
    assert result.code == 0, result.stdout + result.stderr
    copy = tmp_path / "copy.json"
    assert _run("convert", str(report_pdf), "-o", str(copy)).code == 0
    assert orjson.loads(copy.read_bytes())["nodes"] == graph_to_document(load_graph(graph_file))["nodes"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--embed", "none"], 0),
        (["--embed", "graph"], 1),
        (["--figure-only"], 0),
        (["--figure-only", "--embed", "graph,report"], 2),
    ],
)
def test_embed_choices(graph_file, tmp_path, flags, expected):
    out = tmp_path / "x.pdf"
    result = _run("render", str(graph_file), "-o", str(out), *flags)
    assert result.code == 0, result.stderr
    assert len(read_pdf_attachments(out)) == expected


def test_pdf_without_a_graph_is_one_clear_error(graph_file, tmp_path):
    out = tmp_path / "plain.pdf"
    assert _run("render", str(graph_file), "-o", str(out), "--embed", "none").code == 0
    for command in (
        ["render", str(out), "-o", str(tmp_path / "r.html")],
        ["convert", str(out), "-o", str(tmp_path / "c.json")],
    ):
        result = _run(*command)
        assert result.code == 2
        assert result.stderr.count("\n") == 1 and "carries no attribution graph" in result.stderr
        assert "Traceback" not in result.stderr
    result = _run("validate", str(out))
    assert result.code == 2 and "carries no attribution graph" in result.stdout + result.stderr
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "c.json").exists()


def test_bad_embed_value(graph_file, tmp_path):
    result = _run("render", str(graph_file), "-o", str(tmp_path / "x.pdf"), "--embed", "graph,movie")
    assert result.code == 2 and "--embed" in result.stderr and "movie" in result.stderr


def test_pdf_a_3b_keeps_fonts_embedded_and_text_selectable(graph_file, tmp_path):
    out = tmp_path / "archive.pdf"
    result = _run("render", str(graph_file), "-o", str(out), "--pdf-variant", "pdf/a-3b")
    assert result.code == 0, result.stderr
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # the "emb" column
    assert "Prompt" in subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert b"pdfaid:part" in _metadata_xmp(out) and b"3" in _metadata_xmp(out)
    assert len(read_pdf_attachments(out)) == 2


def _metadata_xmp(path: Path) -> bytes:
    import pypdf

    root = pypdf.PdfReader(str(path)).trailer["/Root"].get_object()
    return root["/Metadata"].get_object().get_data()


# ---- hostile PDFs --------------------------------------------------------------------------------


def _pdf_with_attachment(stream: bytes, params: str, name: str = "x.graph.json") -> bytes:
    """A minimal, valid PDF whose only attachment has `stream` (Flate-encoded) and `params`."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [("
        + name.encode()
        + b") 4 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
        b"<< /Type /Filespec /F (" + name.encode() + b") /EF << /F 5 0 R >> >>",
        b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length "
        + str(len(stream)).encode()
        + b" /Params << "
        + params.encode()
        + b" >> >>\nstream\n"
        + stream
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_a_hand_made_bundle_is_read(tmp_path, graph_file):
    data = graph_file.read_bytes()
    path = tmp_path / "hand.pdf"
    path.write_bytes(_pdf_with_attachment(zlib.compress(data), f"/Size {len(data)}"))
    assert len(load_graph(path).nodes) == len(load_graph(graph_file).nodes)


def test_pdf_bomb_is_refused_within_the_input_limit(tmp_path):
    bomb = zlib.compress(b"{" + b" " * (300 << 20), 9)  # 300 MB of JSON whitespace in ~300 kB
    honest = tmp_path / "bomb.pdf"
    honest.write_bytes(_pdf_with_attachment(bomb, "/Size 100"))  # lies about its size
    liar = tmp_path / "declared.pdf"
    liar.write_bytes(_pdf_with_attachment(zlib.compress(b"{}"), "/Size 999999999999"))
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from attrgraph_cli.cli import main\n"
        "sys.argv = ['attrgraph', 'validate', sys.argv[1]]\n"
        "main()\n"
    )
    for path, words in ((honest, "inflates to more than"), (liar, "declares")):
        result = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "ATTRGRAPH_MAX_INPUT_MB": "50"},
            timeout=120,
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert words in result.stdout + result.stderr and "Traceback" not in result.stderr


def test_damaged_pdf_is_one_line(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    result = _run("convert", str(path), "-o", str(tmp_path / "o.json"))
    assert result.code == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


# ---- SVG figures that carry their graph --------------------------------------------------------


def test_svg_embed_graph_round_trip(graph_file, tmp_path):
    import xml.etree.ElementTree as ET

    out = tmp_path / "fig.svg"
    result = _run("render", str(graph_file), "-o", str(out), "--embed-graph")
    assert result.code == 0, result.stderr
    root = ET.parse(out).getroot()  # still well-formed XML
    assert root.find("{http://www.w3.org/2000/svg}metadata") is not None
    back = graph_to_document(load_graph(out))
    assert back["nodes"] == graph_to_document(load_graph(graph_file))["nodes"]
    assert _run("validate", str(out)).code == 0
    plain = tmp_path / "plain.svg"
    assert _run("render", str(graph_file), "-o", str(plain)).code == 0
    assert "<metadata>" not in plain.read_text()
    result = _run("convert", str(plain), "-o", str(tmp_path / "o.json"))
    assert result.code == 2 and "carries no attribution graph" in result.stderr


def test_bundles_are_read_without_torch(report_pdf):
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, *a):\n"
        "        if name.split('.')[0] in ('torch', 'transformers', 'circuit_tracer'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from attrgraph_cli.io import load_graph\n"
        f"print(len(load_graph({str(report_pdf)!r}).nodes))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) > 0
