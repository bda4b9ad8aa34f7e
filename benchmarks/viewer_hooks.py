"""Inject the viewer instrumentation (`viewer_hooks.js`) into an opened report page (Playwright)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HOOKS_JS = Path(__file__).with_name("viewer_hooks.js")


def install_hooks(page: Any) -> None:
    """Add hoverTimes(), metrics() and nearestBench(q) to `window.attrgraph` (after it is ready)."""
    page.evaluate("window.attrgraph.ready")
    page.evaluate(HOOKS_JS.read_text(encoding="utf-8"))
