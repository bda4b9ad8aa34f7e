"""Intervention records in the PDF report, read back with poppler: the per-record tables (registered
section `interventions`) and the `--check-supernodes` ranking (section `supernode_check`), charts vector."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from attrgraph_cli.extension import append_intervention
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.stages import check_before_write
from attrgraph_testing.synthetic import random_graph

pytest.importorskip("weasyprint")
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")

HOSTILE = "</script><img src=x onerror=alert(1)>"


def _check(name, nodes, effect, predicted, op="ablate"):
    return {
        "name": f"check {name}: {op}",
        "kind": "supernode-check",
        "spec": [{"op": op, "nodes": nodes, "supernode": name, "value": 0.0, "text": f"--ablate {name}"}],
        "settings": {"freeze_attention": True},
        "model": "demo",
        "targets": [{"token": "Austin", "measured_delta": effect, "predicted_delta": predicted}],
        "check": {
            "supernode": name,
            "op": op,
            "n_members": len(nodes),
            "influence": 0.5,
            "effect": effect,
            "predicted_effect": predicted,
            "agreement": (effect > 0) == (predicted > 0),
            "effect_rank": 1,
            "influence_rank": 2,
            "control": {"n_draws": 5, "mean_abs_effect": 0.0625, "max_abs_effect": 0.125},
        },
    }


def _pdf_text(graph, tmp_path) -> tuple[str, str]:
    from attrgraph_cli.report.pdf import write_pdf

    out = tmp_path / "r.pdf"
    write_pdf(graph, out)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    images = ""
    if shutil.which("pdfimages"):
        images = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True).stdout
    return " ".join(text.split()), images


def test_supernode_ranking_and_records_in_the_pdf(tmp_path):
    g = random_graph(n_links=300, n_nodes=60, n_tokens=5, n_layers=4, seed=2)
    feats = [str(g.nodes.ids[i]) for i in range(len(g.nodes)) if g.nodes.kind[i] == NodeKind.FEATURE]
    g.qparams["supernodes"] = [["Texas", *feats[:2]], [HOSTILE, feats[2]]]
    append_intervention(g, _check("Texas", feats[:2], -4.5, -5.25))
    append_intervention(g, _check(HOSTILE, feats[2:3], 0.75, -0.25))
    sweep = {
        "name": "sweep Texas",
        "kind": "sweep",
        "spec": [{"op": "scale", "nodes": feats[:2], "supernode": "Texas", "text": "--sweep Texas=*-1:1:1"}],
        "settings": {},
        "targets": [{"token": "Austin", "p_before": 0.99}],
        "sweep": {
            "parameter": "multiple",
            "values": [-1, 0, 1],
            "series": [{"token": "Austin", "p": [0.1, 0.6, 0.99]}],
        },
    }
    append_intervention(g, sweep)
    check_before_write(g, "test")
    text, images = _pdf_text(g, tmp_path)
    assert "Supernode check" in text
    ranking = text[text.rindex("Supernode check Each supernode") :]
    # rows ranked by |measured effect|: Texas (-4.5, predicted -5.25) before the hostile name (0.75)
    assert ranking.index("-4.5 -5.25 same sign") < ranking.index("0.75 -0.25 opposite")
    assert "0.0625 (max 0.125)" in ranking and "</script><img" in ranking
    assert ranking.replace(" ", "").count("ablate(0)2") == 1  # pdftotext may split a word: compare unspaced
    assert "sweep Texas" in text and "p(token) by multiple" not in text  # a chart, not an image caption
    if images:
        assert len(images.strip().splitlines()) <= 2  # header lines only: every chart is vector


def test_clt_forge_sweeps_in_the_pdf(clt_forge_pt, tmp_path):
    pytest.importorskip("torch")
    from attrgraph_cli.io import load_graph

    g = load_graph(clt_forge_pt)
    text, _ = _pdf_text(g, tmp_path)
    assert "Interventions" in text and "clt-forge" in text
    last = g.extra["attrgraph"]["interventions"][-1]
    assert last["name"] in text
