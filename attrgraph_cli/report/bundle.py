"""The viewer's code: its modules in load order, the readable script, and the minified bundle a report embeds.

The readable sources stay in `static_js/` (the modules `VIEWER_MODULES` lists, and `viewer.css`). `make
viewer` (`python -m attrgraph_cli.report.bundle`) concatenates them as `viewer_script()` does and minifies
the script and the CSS with esbuild (pinned in `static_js/tools/package.json`; npm, build time only) into
`static_js/min/`, each file headed by the SHA-256 of the sources it was made from. A report embeds the
minified files while that digest matches the sources; after an edit that was not rebuilt it embeds the
readable sources instead (correct, only larger), and `tests/report/test_bundle.py` fails until `make
viewer` runs, so a stale bundle is never shipped.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from functools import cache
from pathlib import Path

from attrgraph_cli.resources import resource_path

#: the viewer's modules under static_js/, in load order: each may use those before it. Pure modules first
#: (they also load in Node for tests/js/), then the Viewer and what extends it, the panels, and the boot code.
#: A new panel is one file in static_js/panels/ plus one line here.
VIEWER_MODULES: tuple[str, ...] = (
    "core.js",
    "format.js",
    "decode.js",
    "labels.js",
    "rank.js",
    "collapse.js",
    "state.js",
    "jsonwriter.js",
    "registry.js",
    "dom.js",
    "viewer.js",
    "hit.js",
    "draw.js",
    "svgexport.js",
    "panels/detail.js",
    "panels/labels.js",
    "panels/supernodes.js",
    "panels/interventions.js",
    "panels/subgraph.js",
    "panels/graph.js",
    "boot.js",
)
VIEWER_CSS = "viewer.css"
MIN_FOLDER = "min"
MIN_JS = "viewer.min.js"
MIN_CSS = "viewer.min.css"
#: esbuild's target (the viewer needs DecompressionStream: Chromium 80, Firefox 113, Safari 16.4)
TARGET = "es2020"


def viewer_script(modules: tuple[str, ...] = VIEWER_MODULES) -> str:
    """The viewer's modules concatenated into one script: one function scope holding the shared `AG`."""
    folder = resource_path("static_js")
    parts = ["(function () {\n'use strict';\nvar AG = {};\n"]
    for name in modules:
        text = (folder / name).read_text(encoding="utf-8")
        if "</script" in text.lower():
            raise RuntimeError(f"static_js/{name} must not contain a closing script tag")
        parts.append(f"// ---- {name}\n{text}\n")
    parts.append("})();\n")
    return "".join(parts)


@cache
def readable_assets() -> tuple[str, str]:
    """The viewer's JS and CSS as written in static_js/, read once per process."""
    js = viewer_script()
    css = resource_path("static_js", VIEWER_CSS).read_text(encoding="utf-8")
    if "</style" in css.lower():
        raise RuntimeError(f"{VIEWER_CSS} must not contain a closing style tag")
    return js, css


def _header(digest: str) -> str:
    return f"/* attrgraph viewer, minified from static_js/ (make viewer); sources sha256:{digest} */\n"


def source_digest(js: str, css: str) -> str:
    """SHA-256 of the readable script and stylesheet, as the header of a fresh bundle names it."""
    return hashlib.sha256(js.encode("utf-8") + b"\0" + css.encode("utf-8")).hexdigest()


def _read_min(name: str, digest: str) -> str | None:
    path = resource_path("static_js", MIN_FOLDER, name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    head, _, body = text.partition("\n")
    return body if head + "\n" == _header(digest) else None


@cache
def minified(js: str, css: str) -> tuple[str, str] | None:
    """The minified (script, stylesheet) built from exactly these sources, or None when not (yet) built."""
    digest = source_digest(js, css)
    min_js, min_css = _read_min(MIN_JS, digest), _read_min(MIN_CSS, digest)
    return (min_js, min_css) if min_js is not None and min_css is not None else None


def _esbuild() -> Path:
    path = resource_path("static_js", "tools", "node_modules", ".bin", "esbuild")
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `npm ci` in static_js/tools (make viewer does)")
    return path


def _minify(esbuild: Path, text: str, loader: str) -> str:
    done = subprocess.run(
        [str(esbuild), f"--loader={loader}", "--minify", f"--target={TARGET}", "--legal-comments=none",
         "--charset=utf8"],
        input=text, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"esbuild failed: {done.stderr.strip()}")
    return done.stdout


def build() -> tuple[int, int]:
    """Write `static_js/min/`; returns the minified (script, stylesheet) sizes in bytes."""
    js, css = readable_assets()
    esbuild = _esbuild()
    min_js, min_css = _minify(esbuild, js, "js"), _minify(esbuild, css, "css")
    for text in (min_js, min_css):
        if "</script" in text.lower() or "</style" in text.lower():
            raise SystemExit("the minified viewer holds a closing script or style tag")
    header = _header(source_digest(js, css))
    folder = resource_path("static_js", MIN_FOLDER)
    folder.mkdir(exist_ok=True)
    (folder / MIN_JS).write_text(header + min_js, encoding="utf-8")
    (folder / MIN_CSS).write_text(header + min_css, encoding="utf-8")
    minified.cache_clear()
    return len(min_js.encode("utf-8")), len(min_css.encode("utf-8"))


if __name__ == "__main__":
    js_bytes, css_bytes = build()
    sys.stdout.write(f"static_js/{MIN_FOLDER}: {MIN_JS} {js_bytes} bytes, {MIN_CSS} {css_bytes} bytes\n")
