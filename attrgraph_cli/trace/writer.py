"""Write a trace's outputs: the graph JSON, optionally the raw circuit-tracer `.pt` and the HTML report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from attrgraph_cli.trace.export import save_html, save_json, save_raw


def write_outputs(
    result: Any,
    *,
    json_path: Path | None,
    raw_path: Path | None = None,
    html_path: Path | None = None,
) -> dict[str, float]:
    """Write what was asked for (each file atomically); the write times join the graph's phase timings."""
    timings = result.timings
    if raw_path is not None:
        start = time.perf_counter()
        save_raw(result.raw, raw_path)
        timings["write_raw"] = time.perf_counter() - start
    record_timings(result.graph, timings)
    if json_path is not None:
        start = time.perf_counter()
        save_json(result.graph, json_path)
        timings["write_json"] = time.perf_counter() - start
    if html_path is not None:
        start = time.perf_counter()
        save_html(result.graph, html_path)
        timings["render_html"] = time.perf_counter() - start
    return timings


def record_timings(graph: Any, timings: dict[str, float]) -> None:
    """Refresh the trace record's `details.wall_time_s` and duration with every phase timed so far."""
    from attrgraph_cli.extension import history

    records = [r for r in history(graph) if isinstance(r, dict) and r.get("stage") == "trace"]
    if records:
        record = records[-1]
        record.setdefault("details", {})["wall_time_s"] = {k: round(v, 4) for k, v in timings.items()}
        record["duration_s"] = round(sum(timings.values()), 4)
