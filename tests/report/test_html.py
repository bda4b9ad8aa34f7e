"""`attrgraph render` to HTML without a browser: payload encoding, page structure, CSP, the command."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from attrgraph_cli.io import save_graph
from attrgraph_cli.report.html import render_html, write_html
from attrgraph_cli.report.layout import compute_layout
from attrgraph_cli.report.payload import build_payload, script_safe_json
from attrgraph_testing.cli import run_cli
from attrgraph_testing.synthetic import random_graph

HOSTILE = "</script><img src=x onerror=alert(1)>"


def _blocks(page: str) -> tuple[dict, bytes]:
    head = re.search(
        r'<script type="([^"]+)" id="attrgraph-head" data-encoding="([^"]+)">(.*?)</script>', page, re.S
    )
    blob = re.search(r'id="attrgraph-blob">(.*?)</script>', page, re.S)
    assert head and blob
    kind, encoding, text = head.groups()
    if encoding == "deflate-raw":
        assert kind == "application/octet-stream"
        text = zlib.decompress(base64.b64decode(text), -15).decode("utf-8")
    else:
        assert (kind, encoding) == ("application/json", "json")
    return json.loads(text), base64.b64decode(blob.group(1))


def _columns(head: dict, packed: bytes) -> dict[str, np.ndarray]:
    raw = zlib.decompress(packed, -15)
    assert len(raw) == head["blob"]["bytes"]
    out = {}
    for c in head["blob"]["columns"]:
        assert c["offset"] % 8 == 0  # typed arrays in the page view the buffer without copying
        dtype = np.dtype(c["dtype"]).newbyteorder("<")
        if c.get("shuffle"):  # byte planes: plane k holds byte k of every item
            planes = np.frombuffer(raw, np.uint8, count=c["length"] * dtype.itemsize, offset=c["offset"])
            out[c["name"]] = planes.reshape(dtype.itemsize, -1).T.copy().view(dtype).ravel()
        else:
            out[c["name"]] = np.frombuffer(raw, dtype=dtype, count=c["length"], offset=c["offset"])
    return out


def test_payload_round_trips_every_column():
    g = random_graph(n_links=3000, seed=5)
    layout = compute_layout(g)
    page = render_html(g, layout=layout)
    head, packed = _blocks(page)
    cols = _columns(head, packed)
    assert head["nodes"]["ids"] == g.nodes.ids.tolist()
    assert head["nodes"]["labels"] == g.nodes.label.tolist()
    ft = head["nodes"]["featureType"]
    assert [ft["table"][i] for i in ft["idx"]] == g.nodes.feature_type.tolist()
    assert len(ft["table"]) == 4  # interned: one entry per distinct string
    np.testing.assert_array_equal(cols["kind"], g.nodes.kind)
    np.testing.assert_array_equal(cols["layer"], g.nodes.layer)
    np.testing.assert_array_equal(cols["pos"], g.nodes.position)
    np.testing.assert_array_equal(cols["influence"], g.nodes.influence)  # NaN-aware, float64 exact
    np.testing.assert_array_equal(cols["activation"], g.nodes.activation)
    np.testing.assert_allclose(cols["x"], layout.x, rtol=1e-6)
    # edges: sorted by |w| descending, and the same multiset of (source, target, weight)
    w = cols["w"]
    assert (np.diff(np.abs(w)) <= 0).all()
    assert cols["src"].dtype == np.uint16  # < 65536 nodes: 2-byte indices
    got = sorted(zip(cols["src"].tolist(), cols["tgt"].tolist(), w.tolist(), strict=True))
    want = sorted(
        zip(
            g.edges.source.tolist(),
            g.edges.target.tolist(),
            g.edges.weight.astype(np.float32).tolist(),
            strict=True,
        )
    )
    assert got == want


def test_script_safe_json_cannot_close_the_script_block():
    text = script_safe_json({"label": HOSTILE, "sep": "a\u2028b", "amp": "&<!--"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"label": HOSTILE, "sep": "a\u2028b", "amp": "&<!--"}


def test_page_is_self_contained_with_a_strict_csp():
    g = random_graph(n_links=500, n_nodes=60, seed=2)
    g.nodes.label[0] = HOSTILE
    page = render_html(g, title=HOSTILE)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    csp = html.unescape(csp)
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # the hashes in the CSP are those of the inline blocks actually in the page
    import hashlib

    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)  # the loader (report/html.py)
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    code = re.search(r'id="attrgraph-code" data-encoding="deflate-raw">(.*?)</script>', page, re.S).group(1)
    viewer = zlib.decompress(base64.b64decode(code), -15).decode("utf-8")  # the script the loader runs
    for text in (script, style, viewer):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    # nothing is loaded from anywhere: no src/href attributes, no @import, no url(http...)
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)=", page)
    assert "@import" not in page and not re.search(r"url\(\s*['\"]?https?:", page)
    # the hostile title is escaped, the hostile label only exists JSON-escaped
    assert HOSTILE not in page
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("</script>") == 4  # head, blob, the viewer's deflated code, the loader


def test_size_is_a_fraction_of_the_graph_json(tmp_path: Path):
    g = random_graph(n_links=20_000, seed=1)
    save_graph(g, tmp_path / "g.json")
    size = write_html(g, tmp_path / "g.html")
    assert size == (tmp_path / "g.html").stat().st_size
    assert size < 0.3 * (tmp_path / "g.json").stat().st_size
    assert build_payload(g).compressed_bytes < build_payload(g).raw_bytes


def test_large_heads_are_deflated_too():
    g = random_graph(n_links=300, n_nodes=60, seed=4)
    g.nodes.label[:] = [f"a rather long label for node {i} " * 40 for i in range(len(g.nodes))]
    page = render_html(g)
    assert 'data-encoding="deflate-raw"' in page
    head, _ = _blocks(page)
    assert head["nodes"]["labels"] == g.nodes.label.tolist()
    block = re.search(r'id="attrgraph-head" data-encoding="deflate-raw">(.*?)</script>', page, re.S).group(1)
    assert len(block) < sum(map(len, head["nodes"]["labels"])) / 3


def test_nan_and_numpy_values_in_extras_become_valid_json():
    g = random_graph(n_links=100, n_nodes=40, seed=4)
    g.extra["interventions"] = {"delta": float("nan"), "arr": np.arange(3)}
    head, _ = _blocks(render_html(g))
    assert head["extra"]["interventions"] == {"delta": None, "arr": [0, 1, 2]}


# ---------------------------------------------------------------------------------------------- command


@pytest.fixture(scope="module")
def graph_json(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("render") / "g.json"
    save_graph(random_graph(n_links=800, n_nodes=80, seed=9), path)
    return path


def test_render_command_writes_html(graph_json: Path, tmp_path: Path):
    out = tmp_path / "sub" / "report.html"
    result = run_cli("render", str(graph_json), "-o", str(out), "--title", "My <graph>")
    assert result.code == 0, result.output
    page = out.read_text()
    assert "<title>My &lt;graph&gt;</title>" in page
    head, _ = _blocks(page)
    assert head["nodes"]["n"] == 80 and head["links"]["m"] == 800


def test_render_format_flag_overrides_the_suffix(graph_json: Path, tmp_path: Path):
    out = tmp_path / "report.out"
    result = run_cli("render", str(graph_json), "-o", str(out), "--format", "html")
    assert result.code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json", "-o", "x.html"], "no such file"),
        (["{graph}", "-o", "x.txt"], "cannot tell the output format"),
        (["{bad}", "-o", "x.html"], "missing top-level key"),
    ],
)
def test_render_bad_input_is_one_line(graph_json: Path, tmp_path: Path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text('{"metadata": {}}')
    args = [a.format(graph=graph_json, bad=bad) for a in args]
    result = run_cli("render", *args)
    assert result.code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.html").exists()


def test_renderer_registry_picks_by_suffix_or_name():
    from dataclasses import fields

    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.report.renderers import RENDERERS, RenderOptions, renderer_for

    assert renderer_for("a/report.HTML").name == "html" and renderer_for("r.htm").name == "html"
    assert renderer_for("fig.svg").name == "svg" and renderer_for("r.pdf").name == "pdf"
    assert renderer_for("r.out", "pdf").name == "pdf"
    suffixes = [s for r in RENDERERS.values() for s in r.suffixes]
    assert len(suffixes) == len(set(suffixes))  # one renderer per suffix
    known = {f.name for f in fields(RenderOptions)}
    assert all(set(r.options) <= known for r in RENDERERS.values())
    with pytest.raises(AttrgraphError, match=r"use a \.html, \.svg, \.pdf name or --format"):
        renderer_for("x.txt")


def test_render_says_when_pdf_output_is_missing(graph_json: Path, tmp_path: Path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pdf(name, *args, **kwargs):
        if name == "attrgraph_cli.report.pdf":
            raise ImportError("No module named 'weasyprint'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pdf)
    result = run_cli("render", str(graph_json), "-o", str(tmp_path / "x.pdf"))
    assert result.code == 2
    assert "PDF output not available" in result.output


def test_render_does_not_import_torch(graph_json: Path, tmp_path: Path):
    code = (
        "import sys; from attrgraph_cli.cli import main; sys.argv=['attrgraph','render',"
        f"{str(graph_json)!r},'-o',{str(tmp_path / 'r.html')!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'torch' not in sys.modules, 'render imported torch'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.html").exists()


def test_render_command_svg_and_pdf_for_real(tmp_path):
    """Both through the CLI, read back: the SVG parsed as XML, the PDF with pdftotext."""
    from xml.etree import ElementTree

    g = random_graph(n_links=300, n_nodes=60, seed=1)
    save_graph(g, tmp_path / "g.json")
    result = run_cli("render", str(tmp_path / "g.json"), "-o", str(tmp_path / "g.svg"))
    assert result.code == 0, result.output
    root = ElementTree.fromstring((tmp_path / "g.svg").read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    caption = " ".join(
        t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "caption"
    )
    assert f"{len(g.nodes)} nodes" in caption and f"of {len(g.edges)} edges drawn" in caption

    pytest.importorskip("weasyprint")
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed")
    result = run_cli("render", str(tmp_path / "g.json"), "-o", str(tmp_path / "g.pdf"), "--top", "4")
    assert result.code == 0, result.output
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", str(tmp_path / "g.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Top 4 nodes by influence" in text and f"of {len(g.edges)} edges drawn" in " ".join(text.split())


def test_viewer_modules_are_all_inlined_in_order_and_hooks_are_not():
    from attrgraph_cli.report import bundle
    from attrgraph_cli.report.html import VIEWER_MODULES, readable_assets, viewer_script
    from attrgraph_cli.resources import resource_path

    folder = resource_path("static_js")
    shipped = {p.relative_to(folder).as_posix() for p in folder.rglob("*.js")}
    # not modules: the loader (runs as written), the minified bundle, the build tools' node_modules
    shipped = {p for p in shipped if p != "loader.js" and not p.startswith(("min/", "tools/"))}
    assert set(VIEWER_MODULES) == shipped  # every module file is listed (a panel is a file plus a line)
    page = render_html(random_graph(n_links=50, n_nodes=20, seed=1))
    code = re.search(r'id="attrgraph-code" data-encoding="deflate-raw">(.*?)</script>', page, re.S).group(1)
    embedded = zlib.decompress(base64.b64decode(code), -15).decode("utf-8")
    assert embedded == bundle.minified(*readable_assets())[0]  # the minified bundle of these very sources
    script = viewer_script()
    marks = [script.index(f"// ---- {name}\n") for name in VIEWER_MODULES]
    assert marks == sorted(marks)
    for hook in ("nearestBench", "hoverTimes"):  # benchmark instrumentation is injected, never shipped
        assert hook not in page and hook not in script
    assert "cluster" not in script.lower()  # one word for them in the viewer: supernodes
