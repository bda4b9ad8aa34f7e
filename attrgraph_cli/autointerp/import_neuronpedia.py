"""Neuronpedia explanation exports: a JSON array or JSON Lines of explanation objects (maybe gzipped).

Each object has `modelId`, `layer` (the source-set id, e.g. `20-clt-hp`: the layer, a dash, the set),
`index`, `description` and the explainer (`typeName`, `explanationModelName`), usually `createdAt`.
When several explanations exist for one feature: np_max-act-logits first, then the newest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from attrgraph_cli.autointerp.imported import (
    Imported,
    SourceError,
    clean_label,
    parse_index,
    parse_layer,
    shown,
    text_or,
)

PREFERRED_TYPE = "np_max-act-logits"
_LAYER = re.compile(r"^([0-9]+)-(.+)$", re.ASCII | re.DOTALL)


def looks_like_explanation(record: Any) -> bool:
    return isinstance(record, dict) and "description" in record and "index" in record and "layer" in record


def split_source(layer_field: Any) -> tuple[int, str] | None:
    """`"20-clt-hp"` -> (20, "clt-hp"); a bare integer layer -> (layer, "")."""
    layer = parse_layer(layer_field)
    if layer is not None:
        return layer, ""
    if isinstance(layer_field, str):
        m = _LAYER.match(layer_field)
        if m and parse_layer(m.group(1)) is not None:
            return int(m.group(1)), m.group(2)
    return None


def source_sets(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Source sets present in the export and how many explanations each has."""
    counts: dict[str, int] = {}
    for record in records:
        parsed = split_source(record.get("layer"))
        if parsed:
            counts[parsed[1]] = counts.get(parsed[1], 0) + 1
    return counts


def choose_source_set(sets: dict[str, int], wanted: str | None, graph_hint: str, name: str) -> str | None:
    """The source set to import: `--source-set`, else the only one, else the one the graph's scan names."""
    if wanted is not None:
        if wanted not in sets:
            raise SourceError(
                f"{name}: --source-set {shown(wanted)} is not in this export (it has {set_list(sets)})"
            )
        return wanted
    if len(sets) <= 1:
        return next(iter(sets), None)
    hinted = [s for s in sets if s and _names(graph_hint, s)]
    if len(hinted) == 1:
        return hinted[0]
    raise SourceError(
        f"{name}: explanations for several source sets ({set_list(sets)}): choose one with --source-set"
    )


def _names(hint: str, source_set: str) -> bool:
    """Whether the graph's scan / transcoder set names `source_set` as a whole word (`a` is not named by
    `gemma`, `clt-hp` is named by `gemma-2-2b clt-hp`)."""
    pattern = r"(?<![A-Za-z0-9])" + re.escape(source_set) + r"(?![A-Za-z0-9])"
    return re.search(pattern, hint) is not None


def set_list(sets: dict[str, int], limit: int = 8) -> str:
    """Source sets and their entry counts for a message: `'a' (3), 'b' (2)` (a bare layer shows as '')."""
    ordered = sorted(sets.items(), key=lambda item: (-item[1], item[0]))
    shown_sets = ", ".join(f"{shown(s)} ({n:,})" for s, n in ordered[:limit])
    return shown_sets + (f", and {len(ordered) - limit} more" if len(ordered) > limit else "")


def read_explanations(records: list[dict[str, Any]], name: str, source_set: str | None) -> Iterator[Imported]:
    """One `Imported` per (layer, index) of the chosen source set, the preferred explanation kept."""
    best: dict[tuple[int, int], tuple[tuple[int, str], dict[str, Any]]] = {}
    for n, record in enumerate(records):
        if not looks_like_explanation(record):
            raise SourceError(f"{name}: record {n} is not an explanation (needs layer, index, description)")
        parsed = split_source(record.get("layer"))
        index = _int(record.get("index"))
        if parsed is None or index is None:
            raise SourceError(
                f"{name}: record {n} has layer {shown(record.get('layer'))}, "
                f"index {shown(record.get('index'))} (expected a layer such as 20 or '20-clt-hp' "
                "and an index 0 to 2**53)"
            )
        layer, sset = parsed
        if source_set is not None and sset != source_set:
            continue
        kind = text_or(record.get("typeName")) or text_or(record.get("type"))
        rank = (1 if kind == PREFERRED_TYPE else 0, text_or(record.get("createdAt")))
        key = (layer, index)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, record)
    for (layer, index), (_rank, record) in best.items():
        label = clean_label(record.get("description"))
        if label:
            model = text_or(record.get("explanationModelName"))
            explainer = text_or(record.get("typeName")) or model or "neuronpedia"
            if model and model != explainer:
                explainer = f"{explainer} ({model})"
            yield Imported(layer, index, label, "neuronpedia", explainer)


def _int(value: Any) -> int | None:
    return parse_index(value)
