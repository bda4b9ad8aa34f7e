"""HTML report: render time, file size, time to draw in headless Chromium, hover latency, 1M links.

Peers, side by side in the same run:
- render: attrgraph's own Neuronpedia JSON writer on the same graph (what a tool must at least do to hand
  the graph to circuit-tracer's viewer or Neuronpedia; their viewers cannot run offline);
- size: the same graph's Neuronpedia JSON, compact (strict) and indented (as circuit-tracer writes it);
- open: Chromium loading a page holding the plain Neuronpedia JSON and only running `JSON.parse` on it;
- hover: the same nearest-node question answered by a linear scan over every visible node, in the page.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from attrgraph_cli.io import load_graph
from attrgraph_cli.io.neuronpedia_json import dumps
from attrgraph_cli.report.html import write_html
from attrgraph_testing.chromium import CHROMIUM, launch
from attrgraph_testing.synthetic import random_graph
from benchmarks.viewer_hooks import install_hooks

PEER_PAGE = (
    '<!DOCTYPE html><meta charset="utf-8"><script type="application/json" id="g">{data}</script>'
    "<script>const t0 = performance.now(); const doc = JSON.parse(document.getElementById('g').textContent);"
    "window.parsed = {{at: performance.now(), parseMs: performance.now() - t0, links: doc.links.length}};"
    "</script>"
)


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


#: in the page: move a slider to each value in turn (starting just after a frame) and time from the input
#: event to the next animation frame, by which the redrawn view is on the canvas
SLIDER_JS = """async ([selector, values]) => {
  const el = document.querySelector(selector), out = [];
  for (const v of values) {
    await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    el.value = v;
    const t0 = performance.now();
    el.dispatchEvent(new Event('input'));
    await new Promise(r => requestAnimationFrame(() => r()));
    out.push(performance.now() - t0);
  }
  return out;
}"""
EDGE_VALUES = [500, 650, 350, 800, 200, 500]
NODE_VALUES = [0.5, 0.65, 0.35, 0.8, 0.2, 0.5]


def _open(browser, path: Path) -> tuple[dict, list[float], list[float], dict]:
    """Open the report; return its metrics, hover timings (ours, scan peer) and slider timings (ms)."""
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.goto(path.as_uri())
    install_hooks(page)
    metrics = page.evaluate("window.attrgraph.metrics()")
    opened = page.evaluate("window.attrgraph.state()")
    box = page.eval_on_selector(
        "#ag-plot", "el => { const r = el.getBoundingClientRect(); return [r.x, r.y]; }"
    )
    import random

    rng = random.Random(0)
    for _ in range(200):
        page.mouse.move(box[0] + 60 + rng.random() * 900, box[1] + 20 + rng.random() * 650)
    ours = page.evaluate("window.attrgraph.hoverTimes()")
    scan = page.evaluate("window.attrgraph.nearestBench(20000)")
    edge_ms = page.evaluate(SLIDER_JS, ["#ag-edge-threshold", EDGE_VALUES])
    node_ms = page.evaluate(SLIDER_JS, ["#ag-display-influence", NODE_VALUES])
    # once the slider rests the full picture is drawn (JS time of that redraw)
    settled_ms = page.evaluate(
        "new Promise(r => setTimeout(() => r(window.attrgraph.metrics().lastDrawMs), 400))"
    )
    state = page.evaluate("window.attrgraph.state()")
    state["edge_ms"] = statistics.median(edge_ms)
    state["node_ms"] = statistics.median(node_ms)
    state["slider_max_ms"] = max(edge_ms + node_ms)
    state["opened"] = opened
    state["settled_ms"] = settled_ms
    page.close()
    return metrics, ours, scan, state


def _best_open(browser, path: Path, repeat: int = 3) -> tuple[dict, list[float], list[float], dict]:
    """`_open` `repeat` times: the run with the earliest drawn time, slider medians best of the runs."""
    runs = [_open(browser, path) for _ in range(repeat)]
    best = min(runs, key=lambda r: r[0]["readyAt"])
    for key in ("edge_ms", "node_ms", "slider_max_ms", "settled_ms"):
        best[3][key] = min(r[3][key] for r in runs)
    return best


def _open_peer(browser, json_bytes: bytes, folder: Path) -> dict:
    path = folder / "peer.html"
    data = json_bytes.decode("utf-8").replace("</", "<\\/")
    path.write_text(PEER_PAGE.format(data=data), encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    page.wait_for_function("window.parsed !== undefined", timeout=120_000)
    parsed = page.evaluate("window.parsed")
    page.close()
    return parsed


def _case(name: str, n_links: int, browser, folder: Path) -> list[dict]:
    graph = random_graph(n_links=n_links, seed=0)
    json_path = folder / f"{name}.json"
    compact = dumps(graph)
    json_path.write_bytes(compact)
    indented = len(dumps(graph, indent=True))
    html = folder / f"{name}.html"
    render_s = _best(lambda: write_html(graph, html), 3 if n_links < 200_000 else 1)
    cli_s = _best(lambda: write_html(load_graph(json_path), html), 1)
    peer_write_s = _best(lambda: dumps(graph), 3 if n_links < 200_000 else 1)
    size = html.stat().st_size
    tag = f"{name} ({len(graph.nodes)} nodes, {n_links} links)"
    rows = [
        {
            "name": f"render html {tag}",
            "ours_s": render_s,
            "peer": "write Neuronpedia JSON (orjson)",
            "peer_s": peer_write_s,
            "ratio": peer_write_s / render_s,
            "note": f"load JSON + render {cli_s:.2f}s; budget < 1 s for 55k",
        },
        {
            "name": f"html size {tag}",
            "ours_s": None,
            "peer": "Neuronpedia JSON size",
            "peer_s": None,
            "ratio": len(compact) / size,
            "note": f"html {size / 1e6:.2f} MB = {100 * size / len(compact):.1f}% of compact JSON "
            f"({len(compact) / 1e6:.2f} MB), {100 * size / indented:.1f}% of indented "
            f"({indented / 1e6:.2f} MB); budget <= 30%",
        },
    ]
    if browser is None:
        return rows
    metrics, ours, scan, state = _best_open(browser, html)
    peer = _open_peer(browser, compact, folder)
    drawn_s = metrics["readyAt"] / 1000
    rows.append(
        {
            "name": f"open in chromium {tag}",
            "ours_s": drawn_s,
            "peer": "load + JSON.parse of the graph JSON",
            "peer_s": peer["at"] / 1000,
            "ratio": peer["at"] / metrics["readyAt"],
            "note": f"graph drawn {drawn_s:.2f}s after navigation (decode {metrics['decodeMs']:.0f} ms, "
            f"first draw {metrics['firstDrawMs']:.0f} ms); peer JSON.parse alone {peer['parseMs']:.0f} ms; "
            f"{state['opened']['visibleLinks']} visible links, {state['opened']['drawnLinks']} drawn; "
            "best of 3 opens; "
            "budget < 1 s for 55k, < 0.8 s for 1M",
        }
    )
    med, worst = statistics.median(ours), max(ours)
    rows.append(
        {
            "name": f"hover {tag}",
            "ours_s": scan["gridMs"] / 1000,
            "peer": "nearest node by linear scan",
            "peer_s": scan["scanMs"] / 1000,
            "ratio": scan["scanMs"] / scan["gridMs"] if scan["gridMs"] else None,
            "note": f"per query, grid index vs scan (same answers: {scan['agree']}); {len(ours)} real mouse "
            f"hovers incl. tooltip + link overlay: median {med:.2f} ms, max {worst:.2f} ms (timer "
            f"resolution 0.1 ms); budget < 16 ms",
        }
    )
    slider_ms = max(state["edge_ms"], state["node_ms"])
    rows.append(
        {
            "name": f"sliders {tag}",
            "ours_s": slider_ms / 1000,
            "peer": "two frames at 60 Hz (budget)",
            "peer_s": 0.033,
            "ratio": 33.0 / slider_ms if slider_ms else None,
            "note": f"input event -> next frame drawn, median of {len(EDGE_VALUES)} moves, best of 3 opens: "
            f"min |edge| {state['edge_ms']:.0f} ms, node influence {state['node_ms']:.0f} ms "
            f"(worst single move {state['slider_max_ms']:.0f} ms; light link budget while it moves, the full "
            f"picture once it rests: redraw {state['settled_ms']:.0f} ms JS); budget <= 33 ms",
        }
    )
    return rows


def run() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        browser = None
        try:
            from playwright.sync_api import sync_playwright

            ctx = sync_playwright().start()
            if CHROMIUM.exists():
                browser = launch(ctx)
        except Exception:  # noqa: BLE001 - no browser: size and render rows still make sense
            ctx = None
        try:
            rows += _case("55k", 55_000, browser, folder)
            rows += _case("1M", 1_000_000, browser, folder)
        finally:
            if browser is not None:
                browser.close()
            if ctx is not None:
                ctx.stop()
    return rows
