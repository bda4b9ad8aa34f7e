"""The PDF of a clustered graph, read back with poppler: supernodes as labelled groups in the figure, the
collapsed graph on its own page with names and scores, and cluster's quality table."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from attrgraph_cli.cluster import ClusterOptions, cluster_graph
from attrgraph_testing.synthetic_groups import planted_graph

pytest.importorskip("weasyprint")
if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
    pytest.skip("poppler-utils is not installed", allow_module_level=True)

HOSTILE = "<b>Texas</b> & co"


def _pages(pdf) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(p), "-l", str(p), str(pdf), "-"],
            capture_output=True,
            text=True,
        ).stdout
        for p in range(1, n + 1)
    ]


def test_pdf_shows_supernodes_collapsed_page_and_quality(tmp_path):
    from attrgraph_cli.report.pdf import write_pdf

    graph, _ = planted_graph(seed=0)
    result = cluster_graph(graph, ClusterOptions(max_distance=0.3))
    graph.qparams["supernodes"][0][0] = HOSTILE  # a hostile name, renamed as a user would
    graph.extra["attrgraph"]["supernodes"]["groups"][0]["name"] = HOSTILE
    names = [s[0] for s in graph.supernodes]
    pdf = tmp_path / "clustered.pdf"
    write_pdf(graph, pdf)
    pages = _pages(pdf)
    text = " ".join(" ".join(p.split()) for p in pages)
    figure = " ".join(pages[0].split())
    assert HOSTILE in figure and names[1] in figure  # labelled groups in the main figure
    collapsed = next(" ".join(p.split()) for p in pages if "Pinned subgraph" in p)
    collapsed = collapsed.split("Pinned subgraph", 1)[1].split("Supernodes Method", 1)[0]  # that section only
    assert f"{HOSTILE} ({len(graph.supernodes[0]) - 1})" in collapsed  # one node per supernode, named
    scores = result.new[1].scores
    assert f"influence {scores['influence_share']:.3f}" in collapsed
    assert f"similarity {scores['mean_similarity']:.3f}" in collapsed
    grouping = result.scores["grouping"]
    assert "Quality Ours Baseline / control Ratio" in text
    assert (
        f"grouping: contrast {grouping['ours']['contrast']:.3f} {grouping['baseline']['contrast']:.3f}"
        in text
    )
    assert f"{result.scores['coverage']['supernodes']['replacement']:.3f}" in text
