"""`autointerp -l neuronpedia`: every feature's explanation (and feature details) from Neuronpedia's API.

The graph's scan and source set map to Neuronpedia's model and layer ids with `neuronpedia.ids`
(`neuronpedia_source`; `--source-set` overrides the set): feature (L, I) is `{L}-{set}` / `I` there.
Features are asked for with `POST /api/features` in batches, a few batches at a time, through the bounded
client (retry with capped back-off on 429 and 5xx, `NEURONPEDIA_API_KEY` sent to that server only). Each
answer is cached per feature (found or not found), so a rerun asks only for what is missing, and a second
run of the same graph makes no request. From a Neuron row: the label is the `np_max-act-logits`
explanation when there is one (what Neuronpedia's graph page shows), else the first; the details are its
activation examples (`activations`), top and bottom logits (`pos_str`/`neg_str` with their values), the
activation histogram (`freq_hist_data_bar_*`) and density (`frac_nonzero`), in the shape `--dashboards`
writes, so the viewer's and the PDF's feature dashboards fill in.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from attrgraph_cli.autointerp.imported import Imported, SourceError, clean_label
from attrgraph_cli.jsontypes import list_or_empty

NAME = "neuronpedia"
PREFERRED_TYPE = "np_max-act-logits"
BATCH = 128
CONCURRENCY = 4
MAX_ACTS = 8
MAX_TOKENS = 256
MAX_LOGITS = 20
MAX_LABEL_CHARS = 500
NOT_FOUND = b"null"


def is_neuronpedia_source(path: Path) -> bool:
    """`-l neuronpedia` (when no file of that name exists)."""
    return str(path) == NAME and not path.exists()


@dataclass
class Fetched:
    rows: dict[tuple[int, int], dict[str, Any] | None]  # None: Neuronpedia does not have the feature
    requests: int
    cached: int
    model: str
    source_set: str
    base: str


def resolve_source(metadata: dict[str, Any], wanted_set: str | None) -> tuple[str, str]:
    """(model id, source set) for the graph; SourceError naming what to do when unknown."""
    from attrgraph_cli.neuronpedia.ids import TRANSCODER_SETS, is_np_id, neuronpedia_source

    found = neuronpedia_source(metadata)
    scan = metadata.get("scan") if isinstance(metadata, dict) else None
    if wanted_set is not None:
        if not is_np_id(wanted_set):
            raise SourceError(f"--source-set {wanted_set[:80]!r} is not a Neuronpedia source-set id")
        model = found[0] if found else (scan if is_np_id(scan) else None)
        if model is None:
            raise SourceError(
                f"neuronpedia: the graph's scan {str(scan)[:80]!r} is not a Neuronpedia model id, so "
                "--source-set cannot be placed; set metadata.scan to the model id (e.g. gemma-2-2b)"
            )
        return model, wanted_set
    if found is None:
        known = sorted({f"{m}/{s}" for m, s in TRANSCODER_SETS.values()})
        raise SourceError(
            f"neuronpedia: no Neuronpedia source set for the graph's scan {str(scan)[:80]!r} "
            f"(known: {', '.join(known)}; or name one in metadata.feature_details.neuronpedia_source_set "
            "or with --source-set)"
        )
    return found


def fetch(
    metadata: dict[str, Any],
    keys: list[tuple[int, int]],
    *,
    source_set: str | None = None,
    progress: bool = True,
) -> Fetched:
    """The Neuron row of every feature (None where Neuronpedia has none): cache first, then the API."""
    from attrgraph_cli.net.cache import BlobCache
    from attrgraph_cli.neuronpedia import client as npc
    from attrgraph_cli.neuronpedia.ids import base_url, layer_id

    model, sset = resolve_source(metadata, source_set)
    try:
        base = base_url()
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    cache = BlobCache("neuronpedia-features", max_bytes=1 << 30)

    def cache_key(key: tuple[int, int]) -> str:
        return f"{base}\n{model}\n{layer_id(key[0], sset)}\n{key[1]}"

    rows: dict[tuple[int, int], dict[str, Any] | None] = {}
    missing = []
    for key in keys:
        data = cache.get(cache_key(key))
        if data is None:
            missing.append(key)
            continue
        doc = orjson.loads(data)
        rows[key] = doc if isinstance(doc, dict) else None
    cached = len(rows)
    if not missing:
        return Fetched(rows, 0, cached, model, sset, base)

    batches = [missing[i : i + BATCH] for i in range(0, len(missing), BATCH)]
    with npc.client(base) as np, _bar(progress, len(missing), model, sset) as advance:

        def one(batch: list[tuple[int, int]]) -> None:
            wanted = [(layer_id(layer, sset), index) for layer, index in batch]
            answer = npc.features(np, model, wanted, MAX_ACTS)
            by_id = {}
            for row in answer:
                lid, idx = row.get("layer"), row.get("index")
                if isinstance(lid, str) and isinstance(idx, (str, int)) and not isinstance(idx, bool):
                    by_id[(lid, str(idx))] = row
            for key, (lid, index) in zip(batch, wanted, strict=True):
                row = by_id.get((lid, str(index)))
                kept = _trim(row) if row is not None else None
                rows[key] = kept
                cache.put(cache_key(key), orjson.dumps(kept) if kept is not None else NOT_FOUND, evict=False)
            advance(len(batch))

        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            for future in [pool.submit(one, b) for b in batches]:
                future.result()  # the first failed batch raises (what was fetched stays cached)
        requests = np.requests
    cache.evict()
    return Fetched(rows, requests, cached, model, sset, base)


class _bar:
    """A rich progress bar over features (nothing when `enabled` is false)."""

    def __init__(self, enabled: bool, total: int, model: str, sset: str) -> None:
        self.enabled, self.total, self.title = enabled, total, f"Neuronpedia {model}/{sset}"

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        import sys

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from attrgraph_cli.safetext import markup

        self.progress = Progress(
            TextColumn(markup(self.title)),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self.progress.start()
        task = self.progress.add_task("features", total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()


def _finite_list(value: Any, limit: int) -> list[float] | None:
    if not isinstance(value, list):
        return None
    out = []
    for v in value[:limit]:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        out.append(float(v))
    return out


def _str_list(value: Any, limit: int) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value[:limit]):
        return None
    return [t[:200] for t in value[:limit]]


def _trim(row: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Neuron row that are used, checked and clipped (what is cached)."""
    explanations = []
    for e in list_or_empty(row.get("explanations"))[:256]:
        if isinstance(e, dict) and isinstance(e.get("description"), str):
            explanations.append(
                {
                    "description": e["description"][:MAX_LABEL_CHARS],
                    "typeName": e.get("typeName") if isinstance(e.get("typeName"), str) else None,
                    "explanationModelName": e.get("explanationModelName")
                    if isinstance(e.get("explanationModelName"), str)
                    else None,
                }
            )
        if len(explanations) >= 16:
            break
    acts = []
    for a in list_or_empty(row.get("activations"))[:256]:
        if not isinstance(a, dict):
            continue
        tokens, values = _str_list(a.get("tokens"), MAX_TOKENS), _finite_list(a.get("values"), MAX_TOKENS)
        if tokens is None or values is None or len(tokens) != len(values) or not tokens:
            continue
        peak = a.get("maxValueTokenIndex")
        item: dict[str, Any] = {"tokens": tokens, "values": values}
        if isinstance(peak, int) and not isinstance(peak, bool) and 0 <= peak < len(tokens):
            item["peak"] = peak
        acts.append(item)
        if len(acts) >= MAX_ACTS:
            break
    kept: dict[str, Any] = {"explanations": explanations, "activations": acts}
    for key, limit in (("pos_str", MAX_LOGITS), ("neg_str", MAX_LOGITS)):
        if (v := _str_list(row.get(key), limit)) is not None:
            kept[key] = v
    for key, limit in (("pos_values", MAX_LOGITS), ("neg_values", MAX_LOGITS)):
        if (v := _finite_list(row.get(key), limit)) is not None:
            kept[key] = v
    for key in ("freq_hist_data_bar_heights", "freq_hist_data_bar_values"):
        if (v := _finite_list(row.get(key), 200)) is not None:
            kept[key] = v
    for key in ("frac_nonzero", "maxActApprox"):
        v = row.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            kept[key] = float(v)
    return kept


def to_imported(key: tuple[int, int], row: dict[str, Any], with_details: bool) -> Imported:
    """One feature's label (preferred explanation type first) and, if asked, its feature details."""
    explanations = row.get("explanations") or []
    chosen = next((e for e in explanations if e.get("typeName") == PREFERRED_TYPE), None)
    chosen = chosen or (explanations[0] if explanations else None)
    label = clean_label(chosen["description"]) if chosen else None
    explainer = None
    if chosen:
        explainer = chosen.get("typeName") or "neuronpedia"
        if chosen.get("explanationModelName") and chosen["explanationModelName"] != explainer:
            explainer = f"{explainer} ({chosen['explanationModelName']})"
    density = row.get("frac_nonzero")
    density = density if isinstance(density, float) and 0 <= density <= 1 else None
    details = _details(key, row) if with_details else None
    return Imported(
        key[0], key[1], label, "neuronpedia", explainer if label else None, details, density, NAME
    )


def _details(key: tuple[int, int], row: dict[str, Any]) -> dict[str, Any] | None:
    examples = []
    for a in row.get("activations") or []:
        ex: dict[str, Any] = {"tokens": a["tokens"], "tokens_acts_list": a["values"]}
        if "peak" in a:
            ex["train_token_ind"] = a["peak"]
        examples.append(ex)
    if not examples and not row.get("pos_str"):
        return None
    details: dict[str, Any] = {
        "index": key[1],
        "examples_quantiles": [{"quantile_name": "Top activations", "examples": examples}]
        if examples
        else [],
    }
    pairs = (("top_logits", "pos_str"), ("bottom_logits", "neg_str"))
    for ours, theirs in pairs:
        if theirs in row:
            details[ours] = row[theirs]
    for ours, theirs, names in (
        ("top_logit_values", "pos_values", "pos_str"),
        ("bottom_logit_values", "neg_values", "neg_str"),
    ):
        if theirs in row and len(row[theirs]) == len(row.get(names, [])):
            details[ours] = row[theirs]
    peaks = [max(a["values"]) for a in row.get("activations") or [] if a["values"]]
    act_max = row.get("maxActApprox") or (max(peaks) if peaks else None)
    if isinstance(act_max, float) and act_max > 0:
        details["act_max"] = act_max
    hist = _histogram(row.get("freq_hist_data_bar_values"), row.get("freq_hist_data_bar_heights"))
    if hist:
        details["histogram"] = hist
    return details


def _histogram(centres: Any, heights: Any) -> dict[str, Any] | None:
    """Neuronpedia's bars (centres and heights) as edges and counts (edges halfway between centres)."""
    if not centres or not heights or len(centres) != len(heights) or len(centres) < 2:
        return None
    if any(b <= a for a, b in zip(centres, centres[1:], strict=False)) or any(h < 0 for h in heights):
        return None
    mids = [(a + b) / 2 for a, b in zip(centres, centres[1:], strict=False)]
    edges = [centres[0] - (mids[0] - centres[0]), *mids, centres[-1] + (centres[-1] - mids[-1])]
    return {"edges": [round(e, 6) for e in edges], "counts": [int(round(h)) for h in heights]}
