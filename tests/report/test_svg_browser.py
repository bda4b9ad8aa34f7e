"""The standalone SVG opened in a real headless Chromium: nodes drawn where the layout put them, no script."""

from __future__ import annotations

import numpy as np
import pytest

from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report.semantics import kind_color
from attrgraph_cli.report.svg import write_svg
from attrgraph_testing.synthetic import random_graph

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("render_svg_browser")]

HOSTILE = "</script><img src=x onerror=alert(1)>"


def test_chromium_draws_the_svg_nodes_at_their_layout_positions(browser, tmp_path):
    from PIL import Image
    from scipy import ndimage

    graph = random_graph(n_links=300, n_tokens=6, n_layers=6, seed=3, label="f{i} " + HOSTILE)
    out = tmp_path / "fig.svg"
    fig = write_svg(graph, out, max_edges=0, labels=30, max_label_width=2000.0)
    page = browser.new_page(viewport={"width": int(fig.width) + 1, "height": int(fig.height) + 1})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(out.as_uri())
    assert page.evaluate("document.querySelectorAll('img, script').length") == 0
    texts = page.evaluate("Array.from(document.querySelectorAll('text.label')).map(t => t.textContent)")
    page.screenshot(path=str(tmp_path / "shot.png"))
    page.close()
    assert dialogs == [] and any(HOSTILE in t for t in texts)

    rgb = np.asarray(Image.open(tmp_path / "shot.png").convert("RGB")).astype(int)
    colour = kind_color(NodeKind.FEATURE)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    mask = (np.abs(rgb - target) <= 12).all(axis=2)
    labels, n = ndimage.label(mask)
    sizes = ndimage.sum(mask, labels, range(1, n + 1))
    centres = ndimage.center_of_mass(mask, labels, range(1, n + 1))
    found = np.array(
        [(x, y) for (y, x), s in zip(centres, sizes, strict=True) if s >= 0.4 * np.pi * fig.node_r**2]
    )
    feat = graph.mask(NodeKind.FEATURE)
    expected = np.stack([fig.node_x[feat], fig.node_y[feat]], axis=1)
    assert len(found) == len(expected)
    for ex in expected:
        assert np.min(np.hypot(*(found - ex).T)) <= 1.5
