"""Debian's headless Chromium as attrgraph's browser tests and benchmarks start it (test harness: not
shipped in the wheel; tests import it as `chromium`, benchmarks as `attrgraph_testing.chromium`).

Never a downloaded browser: Playwright drives `/usr/bin/chromium` (Debian's `chromium` package, which
`make install` installs). The flags keep a headless run quiet on a machine without a network or a GPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
HEADLESS_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def launch(playwright: Any) -> Any:
    """Start Debian's Chromium headless through a Playwright instance (`sync_playwright()` entered)."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package (make install)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(HEADLESS_ARGS))
