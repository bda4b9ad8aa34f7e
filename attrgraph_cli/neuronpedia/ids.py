"""Neuronpedia's ids for a graph's features, and the page links built from them (no network here).

Conventions read from Neuronpedia's source (hijohnnylin/neuronpedia, apps/webapp):
- a feature page is `/{modelId}/{layer}/{index}` (route `app/[modelId]/[layer]/[index]/page.tsx`) where
  the layer id is `{layer number}-{source set}`, e.g. `20-gemmascope-transcoder-16k`, `0-clt-hp`
  (`components/provider/graph-provider.tsx` builds `${layerNum}-${sourceSet}` for `/api/features`);
- a graph page is `/{modelId}/graph?slug={slug}` (`makeGraphPublicAccessGraphUri` in
  `app/[modelId]/graph/utils.ts`);
- a graph names its source set in `metadata.feature_details.neuronpedia_source_set` (the graph schema;
  `api/graph/generate/route.ts` also reads `metadata.info.neuronpedia_source_set`), and `metadata.scan` is
  used "as a model ID only";
- a gemma-2-2b graph without a source set uses `gemmascope-transcoder-16k`, and circuit-tracer's Llama
  transcoders are `llama-3.2-1b` / `skip-transcoder-mntss` (`MODEL_TO_SOURCESET_ID`,
  `ANT_MODEL_ID_TO_NEURONPEDIA_MODEL_ID` in an earlier `utils.ts`).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_BASE = "https://www.neuronpedia.org"
ENV_BASE = "ATTRGRAPH_NEURONPEDIA_URL"

# Neuronpedia's model and source-set ids are short slugs; anything else in a file is not trusted as one.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# Transcoder sets (circuit-tracer's `scan`, a graph's `info.transcoder_set`, `transcoder_list`) whose
# features Neuronpedia hosts: repo -> (model id, source set). The CLT row is what Neuronpedia's own
# generated gemma-2-2b graphs record (info.transcoder_set beside a source_urls entry `/gemma-2-2b/clt-hp`).
TRANSCODER_SETS: dict[str, tuple[str, str]] = {
    "mwhanna/gemma-scope-transcoders": ("gemma-2-2b", "gemmascope-transcoder-16k"),
    "mntss/gemma-scope-transcoders": ("gemma-2-2b", "gemmascope-transcoder-16k"),
    "mntss/transcoder-llama-3.2-1b": ("llama-3.2-1b", "skip-transcoder-mntss"),
    "mntss/clt-gemma-2-2b-2.5m": ("gemma-2-2b", "clt-hp"),
}

# A model id with no source set named anywhere: the set Neuronpedia's viewer falls back to.
DEFAULT_SOURCE_SET: dict[str, str] = {"gemma-2-2b": "gemmascope-transcoder-16k"}

#: hosts of Neuronpedia pages (a graph's source_urls / creator_url pointing here name its maker)
NEURONPEDIA_HOSTS = ("neuronpedia.org", "www.neuronpedia.org")


def base_url() -> str:
    """The Neuronpedia server: `$ATTRGRAPH_NEURONPEDIA_URL` when set (http or https), else DEFAULT_BASE.

    Raises ValueError (one line) for a value that is not an http(s) URL with a host.
    """
    raw = os.environ.get(ENV_BASE, "").strip()
    if not raw:
        return DEFAULT_BASE
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise ValueError(f"{ENV_BASE} holds control characters")
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_BASE} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{ENV_BASE} must be an http(s) URL, got {raw[:200]!r}")
    return raw.rstrip("/")


def is_np_id(value: Any) -> bool:
    """True for a string Neuronpedia could use as a model or source-set id (a short slug)."""
    return isinstance(value, str) and bool(_ID.match(value))


def _strip_scan(scan: str) -> str:
    """circuit-tracer writes `repo//subfolder@revision`: keep the repo, lower-cased."""
    return scan.split("@", 1)[0].split("//", 1)[0].strip().lower()


def _source_from_urls(urls: Any) -> tuple[str, str] | None:
    if not isinstance(urls, list):
        return None
    for url in urls[:64]:
        if not isinstance(url, str) or len(url) > 2000:
            continue
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.hostname not in NEURONPEDIA_HOSTS:
            continue
        segs = [s for s in parts.path.split("/") if s]
        if len(segs) == 2 and is_np_id(segs[0]) and is_np_id(segs[1]):
            return segs[0], segs[1]
    return None


def neuronpedia_source(metadata: dict[str, Any]) -> tuple[str, str] | None:
    """(Neuronpedia model id, source-set id) for a graph's features, or None when Neuronpedia hosts none.

    In order: `feature_details.neuronpedia_source_set` (or `info.neuronpedia_source_set`) with the scan as
    model id; a Neuronpedia source page in `info.source_urls` (`https://neuronpedia.org/MODEL/SET`); a known
    transcoder set (scan, `info.transcoder_set`, `transcoder_list`); a model id's default set. Every id is
    checked to be a plain slug (the file is untrusted), so the result is safe in a URL path.
    """
    if not isinstance(metadata, dict):
        return None
    scan = metadata.get("scan")
    scan = scan if isinstance(scan, str) else ""
    info = metadata.get("info")
    info = info if isinstance(info, dict) else {}
    details = metadata.get("feature_details")
    details = details if isinstance(details, dict) else {}

    transcoder_hit = None
    candidates = [scan, info.get("transcoder_set")]
    tl = metadata.get("transcoder_list")
    if isinstance(tl, list):
        candidates.extend(tl[:8])
    for cand in candidates:
        if isinstance(cand, str) and _strip_scan(cand) in TRANSCODER_SETS:
            transcoder_hit = TRANSCODER_SETS[_strip_scan(cand)]
            break
    model = scan if is_np_id(scan) else (transcoder_hit[0] if transcoder_hit else None)

    for named in (details.get("neuronpedia_source_set"), info.get("neuronpedia_source_set")):
        if named is not None:
            return (model, named) if model and is_np_id(named) else None
    from_urls = _source_from_urls(info.get("source_urls"))
    if from_urls and (model is None or from_urls[0] == model):
        return from_urls
    if transcoder_hit and (model is None or model == transcoder_hit[0]):
        return transcoder_hit
    if model in DEFAULT_SOURCE_SET:
        return model, DEFAULT_SOURCE_SET[model]
    return None


def layer_id(layer: int, source_set: str) -> str:
    """Neuronpedia's layer id of a feature: `20-gemmascope-transcoder-16k`."""
    return f"{int(layer)}-{source_set}"


def feature_page_url(base_url: str, model_id: str, source_set: str, layer: int, index: int) -> str:
    """`{base}/{model}/{layer}-{set}/{index}`, e.g. https://www.neuronpedia.org/gemma-2-2b/20-clt-hp/1234."""
    return (
        f"{base_url.rstrip('/')}/{quote(model_id, safe='')}/"
        f"{quote(layer_id(layer, source_set), safe='')}/{int(index)}"
    )


def graph_page_url(base_url: str, model_id: str, slug: str) -> str:
    """`{base}/{model}/graph?slug={slug}`: the page Neuronpedia shows a hosted graph on."""
    return f"{base_url.rstrip('/')}/{quote(model_id, safe='')}/graph?slug={quote(slug, safe='')}"


# Where a graph read from a Neuronpedia link records its page (set by the link reader, read by reports).
ORIGIN_KEY = "neuronpedia_graph_page"


def graph_origin(metadata: dict[str, Any]) -> str | None:
    """The Neuronpedia page a graph was opened from (`metadata.info.neuronpedia_graph_page`), if http(s)."""
    info = metadata.get("info") if isinstance(metadata, dict) else None
    page = info.get(ORIGIN_KEY) if isinstance(info, dict) else None
    if not isinstance(page, str) or len(page) > 4096:
        return None
    return http_url(page)


def http_url(url: Any) -> str | None:
    """`url` when it is an http(s) URL with a host and no control characters, else None."""
    if not isinstance(url, str) or any(ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None
