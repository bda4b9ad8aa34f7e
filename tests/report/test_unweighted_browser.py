"""The older CLT-Forge layout (no adjacency_matrix) says in the viewer that its link widths mean nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.trace, pytest.mark.xdist_group("render_browser")]


def test_viewer_graph_panel_says_the_graph_is_unweighted(browser, clt_forge_pt: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")

    from attrgraph_cli.io import load_graph
    from attrgraph_cli.io.clt_forge import UNWEIGHTED_NOTE
    from attrgraph_cli.report.html import write_html

    data = torch.load(clt_forge_pt, weights_only=True)
    dropped = ("adjacency_matrix", "full_adjacency_matrix", "selected_features", "activation_values")
    path = tmp_path / "older.attribution_graph.pt"
    torch.save({k: v for k, v in data.items() if k not in dropped}, path)
    html = tmp_path / "older.html"
    write_html(load_graph(path), html)
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    try:
        page.goto(html.as_uri())
        page.evaluate("window.attrgraph.ready")
        panel = page.locator("#ag-graph-info").inner_text()
    finally:
        page.close()
    assert UNWEIGHTED_NOTE in panel
