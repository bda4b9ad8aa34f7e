"""Write a trace's outputs: the raw circuit-tracer `.pt` (optional), then the graph JSON through the stage
finish every command shares (one history record, validate's check, atomic write), then the HTML report.

The report writer is passed in (`render_html`): the command layer chooses it, so `trace` does not import
`report` (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.io.atomic import atomic_path
from attrgraph_cli.stages import StageOutcome, finish_stage
from attrgraph_cli.trace.metadata import utc_now_at

#: writes a graph's HTML report to a path (`report.html.write_html`)
HtmlWriter = Callable[[Any, Path], Any]


def write_outputs(
    result: Any,
    *,
    json_path: Path,
    raw_path: Path | None = None,
    html_path: Path | None = None,
    render_html: HtmlWriter | None = None,
) -> dict[str, float]:
    """Write what was asked for (each file atomically); the write times join the graph's phase timings.

    The `trace` record holds every phase up to the JSON write; a failed check (exit 2, the rule named)
    leaves no JSON and no report.
    """
    if html_path is not None and render_html is None:
        raise AttrgraphError("an HTML report was asked for but no report writer was given")
    timings = result.timings
    if raw_path is not None:
        start = time.perf_counter()
        save_raw(result.raw, raw_path)
        timings["write_raw"] = time.perf_counter() - start
    start = time.perf_counter()
    finish_trace(result, json_path)
    timings["write_json"] = time.perf_counter() - start
    if html_path is not None and render_html is not None:
        start = time.perf_counter()
        render_html(result.graph, html_path)
        timings["render_html"] = time.perf_counter() - start
    return timings


def finish_trace(result: Any, json_path: Path | None = None) -> Any:
    """The stage finish for a traced graph: its `trace` history record (every phase timed so far),
    validate's check and, with `json_path`, the atomic write. Returns the graph, recorded and checked
    (in memory only when `json_path` is None)."""
    total = sum(result.timings.values())
    details = {**result.details, "wall_time_s": {k: round(v, 4) for k, v in result.timings.items()}}
    finish_stage(
        "trace",
        StageOutcome(result.graph, details),
        result.settings,
        [],
        json_path,
        started_at=utc_now_at(time.time() - total),
        duration_s=total,
    )
    return result.graph


def save_raw(raw: Any, path: str | Path) -> None:
    """`Graph.to_pt` through a temp file, so a half-written .pt never replaces a good one."""
    with atomic_path(path) as tmp:
        raw.to_pt(str(tmp))
