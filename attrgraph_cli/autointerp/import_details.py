"""Neuronpedia / circuit-tracer feature-details files: `{feature}.json` (or `{layer}/{index}.json`).

The flat form is what a graph's `feature_json_base_url` serves: the file name and `index` are the graph's
`feature` number (the Cantor pair of layer and index for schema_version 1). Only the graph's features are
read. A label is taken from `clerp`, `label`, `description`, `explanation` or `explanations[0].description`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from attrgraph_cli.autointerp.imported import (
    Imported,
    SourceError,
    clean_label,
    nesting_depth,
    shown,
    text_or,
)
from attrgraph_cli.extension import PARTS
from attrgraph_cli.io.bounded import read_bounded, source_budget
from attrgraph_cli.resources import resource_path

DETAIL_KEYS = (
    "examples_quantiles",
    "top_logits",
    "bottom_logits",
    "top_logit_values",
    "bottom_logit_values",
    "act_max",
    "histogram",
    "n_tokens",
)
LABEL_KEYS = ("clerp", "label", "description", "explanation")
#: deepest nesting of a kept detail value (examples_quantiles[].examples[].tokens[] is 4)
MAX_DEPTH = 8


def load_json_file(path: Path, what: str = "a feature file") -> Any:
    """The JSON document of one file of a source folder (a regular file within the source budget)."""
    data = read_bounded(path, what=what, budget=source_budget(), error=SourceError)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{path}: corrupt or truncated JSON ({exc})") from None


def is_details(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("examples_quantiles"), list)


def read_details_folder(folder: Path, wanted: dict[tuple[int, int], int]) -> tuple[Iterator[Imported], int]:
    """(entries for the wanted features, number of feature files in the folder).

    `wanted` maps (layer, index) -> the graph's `feature` number for that feature.
    """
    flat = sorted(p for p in folder.glob("*.json"))
    layered = sorted(p for p in folder.glob("*/*.json") if p.parent.name.isdigit())
    return _entries(folder, wanted), len(flat) + len(layered)


def _entries(folder: Path, wanted: dict[tuple[int, int], int]) -> Iterator[Imported]:
    for (layer, index), number in wanted.items():
        for path in (folder / f"{number}.json", folder / str(layer) / f"{index}.json"):
            if path.is_file():
                doc = load_json_file(path)
                if not is_details(doc):
                    raise SourceError(f"{path}: not a feature-details object (no examples_quantiles list)")
                yield from_details(doc, layer, index, "feature-details", str(path))
                break


def from_details(doc: dict[str, Any], layer: int, index: int, source: str, where: str) -> Imported:
    """An `Imported` from a feature-details object: its label (if any), details and density.

    The details kept must pass the features schema's `details` part (what `validate` checks in the graph
    written); a value that does not is an error naming `where` (the source file, or file and entry) and the
    field, rather than a graph that autointerp would then refuse to write.
    """
    details = {k: doc[k] for k in DETAIL_KEYS if k in doc}
    deep = next((k for k in details if nesting_depth(details[k], MAX_DEPTH) > MAX_DEPTH), None)
    if deep is not None:
        raise SourceError(
            f"{where} (feature {layer}_{index}): {deep} is nested more than {MAX_DEPTH} levels deep "
            "(feature details nest 4 at most)"
        )
    details["index"] = index
    details["examples_quantiles"] = [
        _quantile(q) for q in details["examples_quantiles"] if isinstance(q, dict)
    ]
    for key in ("top_logits", "bottom_logits"):
        if key in details and not (
            isinstance(details[key], list) and all(isinstance(t, str) for t in details[key])
        ):
            del details[key]
    label = next((clean_label(doc.get(k)) for k in LABEL_KEYS if clean_label(doc.get(k))), None)
    explanations = doc.get("explanations")
    if (
        label is None
        and isinstance(explanations, list)
        and explanations
        and isinstance(explanations[0], dict)
    ):
        label = clean_label(explanations[0].get("description"))
    _check_details(details, f"{where} (feature {layer}_{index})")
    density = doc.get("frac_nonzero", doc.get("density"))
    density = float(density) if isinstance(density, (int, float)) and 0 <= density <= 1 else None
    return Imported(layer, index, label, source, source if label else None, details, density)


def _quantile(q: dict[str, Any]) -> dict[str, Any]:
    examples = []
    for ex in q.get("examples") or []:
        if not isinstance(ex, dict):
            continue
        tokens, acts = ex.get("tokens"), ex.get("tokens_acts_list")
        if (
            isinstance(tokens, list)
            and isinstance(acts, list)
            and len(tokens) == len(acts)
            and all(isinstance(t, str) for t in tokens)
            and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in acts)
        ):
            item: dict[str, Any] = {"tokens": tokens, "tokens_acts_list": acts}
            if isinstance(ex.get("train_token_ind"), int):
                item["train_token_ind"] = ex["train_token_ind"]
            examples.append(item)
    return {"quantile_name": text_or(q.get("quantile_name")), "examples": examples}


@cache
def _details_validator() -> Any:
    """A draft-07 validator of the features schema's `details` object."""
    from jsonschema import Draft7Validator

    schema = orjson.loads(resource_path("schemas", "extension", PARTS["features"]).read_bytes())
    return Draft7Validator(schema["additionalProperties"]["properties"]["details"])


def _check_details(details: dict[str, Any], where: str) -> None:
    error = next(iter(_details_validator().iter_errors(details)), None)
    if error is not None:
        field = ".".join(str(step) for step in error.absolute_path) or "details"
        if error.validator == "type":
            problem = f"{field} is {shown(error.instance)}, expected {error.validator_value}"
        else:
            problem = f"{field}: {error.message[:120]}"
        raise SourceError(f"{where}: {problem} (a feature-details value attrgraph cannot keep)")
