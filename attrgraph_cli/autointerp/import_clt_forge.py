"""CLT-Forge (FeatFlow) autointerp output: `layer{L}/feature_{i}_complete.json`, one JSON per feature, plus a
feature-frequency file at the top.

A feature file has `layer`, `feature_index`, `description`, `explanation`, `top_examples` (texts with the
activating span marked `<<...>>`), `top_examples_tks` (token ids and activations) and
`top_activating_tokens` (`{token, frequency, average_activation}`). Without the model's tokenizer the ids
cannot be read back, so the examples shown are the marked texts, split into words (marked words carry the
example's `max_val`). The frequency file (`*freq*.json`) maps layer -> list (or dict) of firing rates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attrgraph_cli.autointerp.import_details import load_json_file
from attrgraph_cli.autointerp.imported import (
    Imported,
    SourceError,
    clean_label,
    parse_index,
    parse_layer,
    shown,
)
from attrgraph_cli.jsontypes import json_type_phrase

_LAYER_DIR = re.compile(r"^layer[_-]?([0-9]+)$", re.ASCII)
_FEATURE_FILE = re.compile(r"^feature_([0-9]+)(?:_complete)?\.json$", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
#: list-valued fields of a feature file
_LISTS = ("top_examples", "top_examples_tks", "top_activating_tokens")
_MARK = re.compile(r"<<(.*?)>>", re.DOTALL)


def layer_dirs(folder: Path) -> dict[int, Path]:
    out = {}
    for sub in folder.iterdir():
        m = _LAYER_DIR.match(sub.name)
        layer = parse_layer(m.group(1)) if m else None
        if layer is not None and sub.is_dir():
            out[layer] = sub
    return out


def read_clt_forge(folder: Path, wanted: set[tuple[int, int]]) -> tuple[Iterator[Imported], int]:
    """(entries for the wanted features, number of feature files in the folder)."""
    dirs = layer_dirs(folder)
    n_files = sum(1 for d in dirs.values() for p in d.iterdir() if _FEATURE_FILE.match(p.name))
    return _entries(folder, dirs, wanted), n_files


def _entries(folder: Path, dirs: dict[int, Path], wanted: set[tuple[int, int]]) -> Iterator[Imported]:
    freq = _frequencies(folder)
    for layer, index in sorted(wanted):
        if layer not in dirs:
            continue
        for name in (f"feature_{index}_complete.json", f"feature_{index}.json"):
            path = dirs[layer] / name
            if path.is_file():
                doc = load_json_file(path)
                if not isinstance(doc, dict) or not ("description" in doc or "explanation" in doc):
                    raise SourceError(f"{path}: not a CLT-Forge feature file (no description or explanation)")
                for key in _LISTS:
                    if doc.get(key) is not None and not isinstance(doc[key], list):
                        raise SourceError(f"{path}: {key} is {json_type_phrase(doc[key])}, expected a list")
                yield _imported(doc, layer, index, freq.get((layer, index)))
                break


def _imported(doc: dict[str, Any], layer: int, index: int, density: float | None) -> Imported:
    label = clean_label(doc.get("description")) or clean_label(doc.get("explanation"))
    if label and label.lower() == "unknown":
        label = None
    maxima = [t.get("max_val") for t in doc.get("top_examples_tks") or [] if isinstance(t, dict)]
    examples = []
    for n, text in enumerate(doc.get("top_examples") or []):
        if isinstance(text, str):
            peak = maxima[n] if n < len(maxima) and isinstance(maxima[n], (int, float)) else 1.0
            examples.append(_marked_example(text, float(peak)))
    details: dict[str, Any] = {
        "index": index,
        "examples_quantiles": [{"quantile_name": "Top activations", "examples": [e for e in examples if e]}],
    }
    tokens = [t.get("token") for t in doc.get("top_activating_tokens") or [] if isinstance(t, dict)]
    if tokens and all(isinstance(t, str) for t in tokens):
        details["top_activating_tokens"] = tokens
    return Imported(layer, index, label, "clt-forge", "clt-forge" if label else None, details, density)


def _marked_example(text: str, peak: float) -> dict[str, Any] | None:
    tokens: list[str] = []
    acts: list[float] = []
    last = 0
    for m in _MARK.finditer(text):
        for word in text[last : m.start()].split():
            tokens.append(word)
            acts.append(0.0)
        for word in m.group(1).split():
            tokens.append(word)
            acts.append(peak)
        last = m.end()
    for word in text[last:].split():
        tokens.append(word)
        acts.append(0.0)
    if not tokens or max(acts) <= 0:
        return None
    return {"tokens": tokens, "tokens_acts_list": acts, "train_token_ind": acts.index(max(acts))}


def _frequencies(folder: Path) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for path in sorted(folder.glob("*freq*.json")):
        doc = load_json_file(path, "a feature-frequency file")
        if not isinstance(doc, dict):
            raise SourceError(f"{path}: a feature-frequency file maps layer -> firing rates")
        for layer_key, rates in doc.items():
            m = _DIGITS.search(str(layer_key))
            layer = parse_layer(m.group()) if m else None
            if layer is None:
                if m:
                    raise SourceError(f"{path}: layer key {shown(layer_key)} is not a layer (0 to 4096)")
                continue
            items = (
                enumerate(rates)
                if isinstance(rates, list)
                else rates.items()
                if isinstance(rates, dict)
                else ()
            )
            for idx, rate in items:
                index = parse_index(idx)
                if isinstance(rate, (int, float)) and 0 <= rate <= 1 and index is not None:
                    out[(layer, index)] = float(rate)
    return out
