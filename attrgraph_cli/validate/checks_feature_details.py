"""Semantic checks on a feature-details file (`{index}.json`, what `feature_json_base_url` serves)."""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any

from attrgraph_cli.validate.problems import ProblemSink


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_feature_details(doc: dict, file_name: str | None, sink: ProblemSink) -> None:
    index = doc.get("index")
    if _number(index):
        if not (math.isfinite(index) and float(index).is_integer() and index >= 0):
            sink.add(
                "features.index",
                "index",
                f"index {index!r} is not a feature number",
                "a non-negative integer",
            )
        elif file_name is not None:
            stem = PurePath(file_name).stem
            if stem.isdigit():
                if int(stem) != int(index):
                    sink.add(
                        "features.index-name",
                        "index",
                        f"index {int(index)} does not match the file name {PurePath(file_name).name!r}",
                        f"{int(stem)} (the viewer fetches {{feature_json_base_url}}/{{index}}.json)",
                    )
            else:
                sink.add(
                    "features.file-name",
                    "index",
                    f"file name {PurePath(file_name).name!r} is not the feature index",
                    f"{int(index)}.json (the viewer fetches {{feature_json_base_url}}/{{index}}.json)",
                    severity="warning",
                )
    quantiles = doc.get("examples_quantiles")
    if isinstance(quantiles, list):
        for q, quantile in enumerate(quantiles):
            examples = quantile.get("examples") if isinstance(quantile, dict) else None
            if not isinstance(examples, list):
                continue
            for e, example in enumerate(examples):
                if not isinstance(example, dict):
                    continue
                path = f"examples_quantiles[{q}].examples[{e}]"
                acts, tokens = example.get("tokens_acts_list"), example.get("tokens")
                if isinstance(acts, list) and isinstance(tokens, list) and len(acts) != len(tokens):
                    sink.add(
                        "features.example-length",
                        f"{path}.tokens_acts_list",
                        f"{len(acts)} activations for {len(tokens)} tokens",
                        "one activation per token",
                    )
                if isinstance(acts, list):
                    for k, a in enumerate(acts):
                        if _number(a) and not math.isfinite(a):
                            sink.add(
                                "features.activation-not-finite",
                                f"{path}.tokens_acts_list[{k}]",
                                f"activation is {a!r}",
                                "a finite number",
                            )
    for name in ("top_logits", "bottom_logits"):
        if name not in doc:
            sink.add(
                f"features.{name}-missing",
                name,
                "optional field is missing: the feature card shows it",
                "an array of token strings",
                severity="warning",
            )
