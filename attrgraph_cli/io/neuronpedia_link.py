"""A Neuronpedia graph link (or `np:MODEL/SLUG`) as a graph input: download, apply the link's view, cache.

`https://HOST/MODEL/graph?slug=S&pinnedIds=A,B&supernodes=[[...]]&clerps=[[...]]&pruningThreshold=..`
is served by HOST itself (Neuronpedia can be self-hosted); `np:MODEL/SLUG` by `ATTRGRAPH_NEURONPEDIA_URL`
(default https://www.neuronpedia.org). The graph's metadata comes from `/api/graph/MODEL/SLUG`, its JSON
from the `url` that metadata names (see `neuronpedia.client`). Both are cached by content and reused:
a second run, or a run offline, makes no request.

The link's view is applied as Neuronpedia's graph page applies it (`app/[modelId]/graph/page.tsx` and
`components/provider/graph-provider.tsx` in hijohnnylin/neuronpedia): `pinnedIds` split on commas ->
`qParams.pinnedIds`; `supernodes` (JSON `[[name, node_id, ...], ...]`) -> `qParams.supernodes`; `clerps`
(JSON `[[featureId, label], ...]`, featureId = `{layer}_{feature}_{ctx_idx}` of a node) -> that node's
`clerp`, the label the page shows in place of the node's own; `pruningThreshold` / `densityThreshold` ->
`qParams`. The graph's page is recorded in `metadata.info.neuronpedia_graph_page`.

The result is written as a graph JSON file in the cache, so every command reads it like any file.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.net.http import NetError, check_url

_RESTORE = re.compile(r"^(https?):/(?!/)")  # pathlib collapses `https://` to `https:/`
_NP_SHORT = re.compile(r"^np:([A-Za-z0-9][A-Za-z0-9._-]{0,127})/(.+)$")
MAX_VIEW_ITEMS = 20_000
MAX_LABEL_CHARS = 2_000
VIEWS_BUDGET = 1 << 30


class LinkError(AttrgraphError):
    """A Neuronpedia link that cannot be used as it is (one line, exit 2)."""


@dataclass
class Link:
    base: str  # the Neuronpedia server: scheme://host[:port]
    model: str
    slug: str
    pinned: list[str] | None = None
    supernodes: list[list[str]] | None = None
    clerps: list[list[str]] | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    @property
    def page(self) -> str:
        from attrgraph_cli.neuronpedia.ids import graph_page_url

        return graph_page_url(self.base, self.model, self.slug)

    def view_key(self) -> str:
        import orjson

        view = [self.pinned, self.supernodes, self.clerps, sorted(self.thresholds.items())]
        return hashlib.sha256(orjson.dumps(view)).hexdigest()[:16]


def restore(text: str) -> str:
    """Undo what `pathlib.Path` does to a URL (`https://h/x` -> `https:/h/x`)."""
    return _RESTORE.sub(r"\1://", text)


def looks_like_link(text: Any) -> bool:
    """True for `np:MODEL/SLUG` and for http(s) URLs (also in their Path-collapsed form)."""
    if not isinstance(text, (str, Path)):
        return False
    s = restore(str(text))
    return s.startswith(("np:", "http://", "https://"))


def parse_link(text: str) -> Link:
    """The server, model, slug and view of a link (LinkError / NetError with one line when it is none)."""
    from attrgraph_cli.neuronpedia.ids import base_url, is_np_id

    s = restore(str(text).strip())
    short = _NP_SHORT.match(s)
    if short:
        model, rest = short.group(1), short.group(2)
        slug, _, query = rest.partition("?")
        try:
            base = base_url()
        except ValueError as exc:
            raise LinkError(str(exc)) from None
        link = Link(base, model, slug)
        if query:
            _read_view(link, parse_qs(query, keep_blank_values=False))
        return _check_slug(link, is_np_id)
    check_url(s.replace(" ", "%20"), "the Neuronpedia link")  # a pasted link may hold raw JSON
    parts = urlsplit(s)
    if "@" in parts.netloc:  # user:password@host would be sent, cached and recorded in the graph's page link
        raise LinkError("the Neuronpedia link holds a user name or password before its host: remove them")
    segs = [p for p in parts.path.split("/") if p]
    if len(segs) < 2 or segs[-1] != "graph":
        raise LinkError(
            f"not a Neuronpedia graph link (expected https://HOST/MODEL/graph?slug=...): {s[:200]}"
        )
    model = segs[-2]
    prefix = "/".join(segs[:-2])
    base = f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")
    params = parse_qs(parts.query, keep_blank_values=False)
    slugs = params.get("slug") or []
    if len(slugs) != 1 or not slugs[0]:
        raise LinkError("the Neuronpedia link names no graph (its slug=... parameter is missing)")
    link = Link(base, model, slugs[0])
    if not is_np_id(model):
        raise LinkError(f"the Neuronpedia link's model {model[:80]!r} is not a Neuronpedia model id")
    _read_view(link, params)
    return _check_slug(link, is_np_id)


def _check_slug(link: Link, is_np_id: Any) -> Link:
    if not is_np_id(link.model):
        raise LinkError(f"{link.model[:80]!r} is not a Neuronpedia model id")
    if len(link.slug) > 512 or any(ord(c) < 32 or ord(c) == 127 for c in link.slug):
        raise LinkError("the graph's slug is too long or holds control characters")
    return link


def _read_view(link: Link, params: dict[str, list[str]]) -> None:
    def one(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values else None

    pinned = one("pinnedIds")
    if pinned:
        ids = [p for p in pinned.split(",") if p]
        if len(ids) > MAX_VIEW_ITEMS:
            raise LinkError(f"the link pins {len(ids):,} nodes (at most {MAX_VIEW_ITEMS:,})")
        link.pinned = ids
    raw = one("supernodes")
    if raw:
        link.supernodes = _string_lists(raw, "supernodes", min_len=1)
    raw = one("clerps")
    if raw:
        link.clerps = _string_lists(raw, "clerps", exact=2)
    for name in ("pruningThreshold", "densityThreshold"):
        raw = one(name)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            raise LinkError(f"the link's {name}={raw[:40]!r} is not a number") from None
        if not math.isfinite(value) or not 0 <= value <= 1:
            raise LinkError(f"the link's {name}={raw[:40]!r} is outside 0..1")
        link.thresholds[name] = value
    link.ignored = sorted(k for k in ("subgraph", "logitDiff") if k in params)


def _string_lists(raw: str, name: str, *, min_len: int = 1, exact: int | None = None) -> list[list[str]]:
    import orjson

    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise LinkError(f"the link's {name} parameter is not JSON ({str(exc)[:80]})") from None
    if not isinstance(doc, list) or len(doc) > MAX_VIEW_ITEMS:
        raise LinkError(f"the link's {name} parameter is not a JSON array of arrays (or too long)")
    out = []
    for n, item in enumerate(doc):
        ok = isinstance(item, list) and all(isinstance(x, str) for x in item) and len(item) >= min_len
        if not ok or (exact is not None and len(item) != exact):
            shape = f"[{', '.join(['string'] * exact)}]" if exact else "an array of strings"
            raise LinkError(f"the link's {name}[{n}] is not {shape}")
        if any(len(x) > MAX_LABEL_CHARS for x in item):
            raise LinkError(f"the link's {name}[{n}] holds a string over {MAX_LABEL_CHARS:,} characters")
        out.append(list(item))
    return out


# ---------------------------------------------------------------------------------------------------
# fetching and materialising
# ---------------------------------------------------------------------------------------------------
def graph_document(link: Link, *, on_request: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(graph JSON document, GraphMetadata row) of the link's graph: from the cache, else downloaded.

    A download is cached only after it parsed as a graph, so a failure never poisons the cache.
    """
    import orjson

    from attrgraph_cli.io.neuronpedia_json import document_to_graph
    from attrgraph_cli.net.cache import BlobCache
    from attrgraph_cli.net.http import parse_json
    from attrgraph_cli.neuronpedia import client as npc

    what = f"graph {link.model}/{link.slug}"
    cache = BlobCache("neuronpedia-graphs", max_bytes=2 << 30)
    key = f"{link.base}\n{link.model}\n{link.slug}"
    meta_data = cache.get("meta\n" + key)
    graph_data = cache.get("graph\n" + key)
    if meta_data is not None and graph_data is not None:
        try:
            return orjson.loads(graph_data), orjson.loads(meta_data)
        except orjson.JSONDecodeError:
            pass  # cannot happen for a blob that passed its hash; download again
    with npc.client(link.base, on_request=on_request, send_key=_is_configured_server(link.base)) as np:
        meta = npc.graph_metadata(np, link.model, link.slug)
        response = np.request(
            "GET",
            meta["url"],
            f"the JSON of {what}",
            limits=_graph_limits(np),
            credentials=False,
        )
    doc = parse_json(
        response.body, response.headers.get("content-type", ""), f"the JSON of {what}", meta["url"]
    )
    if not isinstance(doc, dict):
        raise NetError(f"the JSON of {what} is not a JSON object (not a graph)")
    try:
        document_to_graph(doc)
    except AttrgraphError as exc:
        raise NetError(f"the JSON of {what} is not a graph ({exc})") from None
    except (ValueError, TypeError, KeyError, RecursionError) as exc:  # a shape the reader did not expect
        raise NetError(f"the JSON of {what} is not a graph ({type(exc).__name__})") from None
    cache.put("graph\n" + key, response.body)
    cache.put("meta\n" + key, orjson.dumps(meta))
    return doc, meta


def _graph_limits(np: Any) -> Any:
    from attrgraph_cli.net.http import ENV_MAX_MB, Limits
    from attrgraph_cli.neuronpedia.client import MAX_GRAPH_BYTES

    lim = np.limits
    cap = lim.max_bytes if os.environ.get(ENV_MAX_MB) else MAX_GRAPH_BYTES
    return Limits(lim.timeout, lim.deadline, cap, lim.retries, lim.backoff, lim.backoff_cap)


def apply_view(doc: dict[str, Any], meta: dict[str, Any], link: Link) -> dict[str, Any]:
    """The graph document with the link's pins, supernodes, clerps and thresholds, as the page shows it."""
    qparams = doc.get("qParams")
    if not isinstance(qparams, dict):
        qparams = {}
        doc["qParams"] = qparams
    if link.pinned is not None:
        qparams["pinnedIds"] = list(link.pinned)
    if link.supernodes is not None:
        qparams["supernodes"] = [list(s) for s in link.supernodes]
    for name, value in link.thresholds.items():
        qparams[name] = value
    if link.clerps:
        overrides = {fid: label for fid, label in link.clerps}
        nodes = doc.get("nodes")
        for node in nodes if isinstance(nodes, list) else []:
            if isinstance(node, dict):
                fid = f"{node.get('layer')}_{node.get('feature')}_{node.get('ctx_idx')}"
                if fid in overrides:
                    node["clerp"] = overrides[fid]
        qparams["clerps"] = [list(c) for c in link.clerps]
    metadata = doc.get("metadata")
    if isinstance(metadata, dict):
        info = metadata.get("info")
        if info is None:
            info = metadata["info"] = {}
        if isinstance(info, dict):
            from attrgraph_cli.neuronpedia.ids import ORIGIN_KEY

            info[ORIGIN_KEY] = link.page
        details = metadata.get("feature_details")
        source_set = meta.get("sourceSetName")
        if details is None and isinstance(source_set, str) and source_set:
            from attrgraph_cli.neuronpedia.ids import is_np_id

            if is_np_id(source_set):
                metadata["feature_details"] = {"neuronpedia_source_set": source_set}
    return doc


def materialise(text: str, *, on_request: Any = None) -> Path:
    """The path of a graph JSON file holding the link's graph with its view applied (cached)."""
    import orjson

    from attrgraph_cli.net.cache import cache_root, write_atomic

    link = parse_link(text)
    doc, meta = graph_document(link, on_request=on_request)
    doc = apply_view(doc, meta, link)
    data = orjson.dumps(doc)
    digest = hashlib.sha256(data).hexdigest()[:20]
    safe_slug = re.sub(r"[^A-Za-z0-9._-]", "_", link.slug)[:80] or "graph"
    path = cache_root() / "neuronpedia-views" / digest / f"{safe_slug}.json"
    if not path.is_file():
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise LinkError(f"cannot write the graph to the cache folder {path.parent} ({exc})") from None
        _evict_views(path.parent.parent, keep=path.parent)
    if link.ignored:
        import sys

        from attrgraph_cli.safetext import printable

        sys.stderr.write(
            f"attrgraph: warning: the link's {', '.join(link.ignored)} parameter is not applied "
            f"(a saved subgraph or logit difference is shown by Neuronpedia only) [{printable(link.slug)}]\n"
        )
    return path


def _evict_views(folder: Path, keep: Path) -> None:
    import contextlib
    import shutil

    entries = []
    total = 0
    for sub in folder.iterdir():
        if sub == keep or not sub.is_dir():
            continue
        size = sum(f.stat().st_size for f in sub.glob("*") if f.is_file())
        entries.append((sub.stat().st_mtime, size, sub))
        total += size
    for _mtime, size, sub in sorted(entries):
        if total <= VIEWS_BUDGET:
            break
        with contextlib.suppress(OSError):
            shutil.rmtree(sub)
            total -= size


#: the command arguments that name an input graph (render's is `graph`, validate's `paths`)
GRAPH_ARGUMENTS = ("source", "graph", "paths")


def resolve_links(arguments: dict[str, Any]) -> dict[str, Any]:
    """Command arguments with each Neuronpedia link among the input graphs replaced by the path of its
    materialised file. Anything that exists as a local file stays a file; nothing else is touched, so a
    command given files makes no request."""
    out = dict(arguments)
    for name in GRAPH_ARGUMENTS:
        value = out.get(name)
        if isinstance(value, (list, tuple)):
            out[name] = type(value)(_resolve_one(v) for v in value)
        elif value is not None:
            out[name] = _resolve_one(value)
    return out


def _is_configured_server(base: str) -> bool:
    """True when `base` is the Neuronpedia the user configured (`$ATTRGRAPH_NEURONPEDIA_URL` or the default):
    only that server gets `$NEURONPEDIA_API_KEY`, not whatever host a pasted link names."""
    from attrgraph_cli.net.http import origin
    from attrgraph_cli.neuronpedia.ids import base_url

    try:
        return origin(base) == origin(base_url())
    except ValueError:
        return False


def _is_file(value: Any) -> bool:
    try:
        return Path(str(value)).exists()
    except (OSError, ValueError):  # a link longer than a file name can be (ENAMETOOLONG), a NUL
        return False


def _resolve_one(value: Any) -> Any:
    if not looks_like_link(value) or _is_file(value):
        return value
    path = materialise(_as_typed(value))
    return type(value)(path) if isinstance(value, Path) else str(path)


def _as_typed(value: Any) -> str:
    """The link as the user typed it: a `Path` argument lost `//` runs (in a label, say), so the command
    line's own word is used when one matches."""
    import sys

    if isinstance(value, Path):
        for word in sys.argv[1:]:
            if looks_like_link(word) and str(Path(word)) == str(value):
                return word
    return str(value)
