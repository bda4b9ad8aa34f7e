"""The self-contained HTML report: one file holding the data, the viewer's JS and CSS, nothing fetched.

The page is `templates/report.html.j2` (Jinja2, autoescaped) with the viewer's JS modules
(`report/bundle.py` `VIEWER_MODULES`, concatenated in that order inside one function scope) and
`static_js/viewer.css`, minified at build time (`report/bundle.py`, `make viewer`). The script travels
deflated and base64-encoded in a data block that `static_js/loader.js`, the page's only script as written,
inflates and runs; the stylesheet is inlined. A Content-Security-Policy meta tag allows exactly the loader,
the viewer's script and the stylesheet (by their SHA-256 hashes) and no network access of any kind; the
data block is JSON made safe for a `<script>` element (see `payload.script_safe_json`) plus a deflated
base64 blob of typed arrays."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from functools import cache

from attrgraph_cli.clip import MAX_TITLE, clip
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.io.atomic import atomic_write_bytes
from attrgraph_cli.report.bundle import VIEWER_MODULES, minified, readable_assets, viewer_script
from attrgraph_cli.report.layout import Layout, compute_layout
from attrgraph_cli.report.payload import build_payload
from attrgraph_cli.resources import resource_path

__all__ = [
    "VIEWER_MODULES",
    "default_title",
    "packed_code",
    "readable_assets",
    "render_html",
    "viewer_script",
    "write_html",
]

LOADER = "loader.js"
TEMPLATE = "report.html.j2"


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@cache
def _assets() -> tuple[str, str]:
    """The viewer's JS and CSS as a report embeds them: minified when the bundle matches the sources."""
    js, css = readable_assets()
    return minified(js, css) or (js, css)


@cache
def _loader() -> str:
    loader = resource_path("static_js", LOADER).read_text(encoding="utf-8")
    if "</script" in loader.lower():
        raise RuntimeError(f"{LOADER} must not contain a closing script tag")
    return loader


@cache
def packed_code(js: str) -> str:
    """The viewer's script deflated and base64-encoded, as the page's #attrgraph-code block holds it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    code = js.encode("utf-8")
    return base64.b64encode(compressor.compress(code) + compressor.flush()).decode("ascii")


@cache
def _template():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_path("templates", TEMPLATE).parent)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE)


def default_title(graph: AttributionGraph) -> str:
    """`slug — prompt` (or whichever of them exists), else "Attribution graph"."""
    parts = [p for p in (graph.slug, graph.prompt) if p]
    return " — ".join(parts)[:200] or "Attribution graph"


def render_html(graph: AttributionGraph, *, title: str | None = None, layout: Layout | None = None) -> str:
    """The whole report page for `graph` as a string."""
    from markupsafe import Markup

    title = clip(title if title is not None else default_title(graph), MAX_TITLE)
    layout = layout if layout is not None else compute_layout(graph)
    payload = build_payload(graph, layout, title=title)
    js, css = _assets()
    loader, code = _loader(), packed_code(js)
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_csp_hash(loader)} {_csp_hash(js)}",
            f"style-src {_csp_hash(css)}",
            "img-src data: blob:",
            "font-src data:",
            "connect-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    return _template().render(
        title=title,
        csp=csp,
        css=Markup(css),
        loader=Markup(loader),
        code=code,
        head=Markup(payload.head),
        head_type="application/json" if payload.head_encoding == "json" else "application/octet-stream",
        head_encoding=payload.head_encoding,
        blob_b64=payload.blob_b64,
    )


def write_html(
    graph: AttributionGraph,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    layout: Layout | None = None,
) -> int:
    """Write the report to `path` atomically; returns its size in bytes."""
    data = render_html(graph, title=title, layout=layout).encode("utf-8")
    atomic_write_bytes(path, data)
    return len(data)
