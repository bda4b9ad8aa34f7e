"""Small label sources shaped like the published formats, for autointerp's tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from attrgraph_cli.graph.ids import feature_number


def example(tokens: list[str], peak: int, act: float = 5.0, other: float = 0.0) -> dict[str, Any]:
    """One feature-details example: `act` at `peak`, `other` elsewhere."""
    acts = [other] * len(tokens)
    acts[peak] = act
    return {"tokens": tokens, "tokens_acts_list": acts, "train_token_ind": peak}


def details(
    index: int, examples: list[dict[str, Any]], top_logits: list[str] | None = None
) -> dict[str, Any]:
    return {
        "index": index,
        "examples_quantiles": [{"quantile_name": "Top activations", "examples": examples}],
        "top_logits": top_logits or [],
        "bottom_logits": [],
        "histogram": {"edges": [0.0, 1.0, 2.0, 3.0, 4.0], "counts": [9, 4, 2, 1]},
    }


def city_details(index: int) -> dict[str, Any]:
    """Peaks on Dallas / Houston (a Texas-city feature)."""
    return details(
        index,
        [
            example(["The", "state", "containing", "Dallas", "is"], 3),
            example(["Houston", "is", "in", "the", "state"], 0, 4.0),
            example(["The", "capital", "near", "Dallas", "is"], 3, 4.5),
            example(["Dallas", "is", "big", ".", "Houston"], 0, 3.0),
        ],
        ["Texas", "Austin"],
    )


def say_details(index: int) -> dict[str, Any]:
    """Peaks on "is" right before Austin (a say-Austin feature); other "is" tokens stay silent."""
    return details(
        index,
        [
            {
                "tokens": ["opposite", "of", "hot", "is", "cold", ".", "capital", "is", "Austin"],
                "tokens_acts_list": [0, 0, 0, 0, 0, 0, 0, 6.0, 0],
                "train_token_ind": 7,
            },
            {
                "tokens": ["1", "+", "2", "is", "3", ".", "Texas", "capital", "is", "Austin"],
                "tokens_acts_list": [0, 0, 0, 0, 0, 0, 0, 0, 5.0, 0],
                "train_token_ind": 8,
            },
            {
                "tokens": ["capital", "of", "Texas", "is", "Austin"],
                "tokens_acts_list": [0, 0, 0, 4.0, 0],
                "train_token_ind": 3,
            },
        ],
        ["Austin", "Sacramento"],
    )


def write_sources(folder: Path, keys: list[tuple[int, int]], schema_version: int = 1) -> dict[str, Path]:
    """One source of each format for the features `keys` (all but the last one, which stays unmatched)."""
    folder.mkdir(parents=True, exist_ok=True)
    matched = keys[:-1]
    out: dict[str, Path] = {}
    records = []
    for layer, index in matched:
        records += [
            {
                "modelId": "gemma-2-2b",
                "layer": f"{layer}-clt-hp",
                "index": str(index),
                "description": f"old {index}",
                "typeName": "oai_token-act-pair",
                "explanationModelName": "gpt-4o-mini",
                "createdAt": "2025-01-01",
            },
            {
                "modelId": "gemma-2-2b",
                "layer": f"{layer}-clt-hp",
                "index": str(index),
                "description": f"np {index}",
                "typeName": "np_max-act-logits",
                "explanationModelName": "claude",
                "createdAt": "2024-01-01",
            },
            {
                "modelId": "gemma-2-2b",
                "layer": f"{layer}-gemmascope-transcoder-16k",
                "index": str(index),
                "description": f"gs {index}",
                "typeName": "np_max-act-logits",
                "createdAt": "2025-02-01",
            },
        ]
    jsonl = folder / "explanations.jsonl.gz"
    jsonl.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in records).encode()))
    out["neuronpedia"] = jsonl
    array = folder / "explanations-clt.json"
    array.write_text(json.dumps([r for r in records if "clt-hp" in r["layer"]]))
    out["neuronpedia-array"] = array

    det = folder / "features"
    det.mkdir()
    for n, (layer, index) in enumerate(matched):
        doc = (
            city_details(feature_number(layer, index, schema_version))
            if n % 2
            else say_details(feature_number(layer, index, schema_version))
        )
        (det / f"{feature_number(layer, index, schema_version)}.json").write_text(json.dumps(doc))
    out["details"] = det

    clt = folder / "clt-forge"
    freq: dict[str, dict[str, float]] = {}
    for layer, index in matched:
        sub = clt / f"layer{layer}"
        sub.mkdir(parents=True, exist_ok=True)
        doc = {
            "layer": layer,
            "feature_index": index,
            "description": f"clt {index}",
            "explanation": f"clt {index}",
            "top_examples": ["The state containing <<Dallas>> is", "<<Houston>> is in the state"],
            "top_examples_tks": [
                {"activations": [0, 1], "tokens": [1, 2], "max_val": 3.5},
                {"activations": [1, 0], "tokens": [2, 1], "max_val": 2.5},
            ],
            "average_activation": 0.3,
            "top_activating_tokens": [
                {"token": "Dallas", "token_id": 9, "frequency": 3, "average_activation": 3.0}
            ],
            "raw_explanation": f"clt {index}",
        }
        (sub / f"feature_{index}_complete.json").write_text(json.dumps(doc))
        freq.setdefault(str(layer), {})[str(index)] = 0.5 if index % 2 else 0.01
    (clt / "feature_frequency.json").write_text(json.dumps(freq))
    out["clt-forge"] = clt

    csv = folder / "labels.csv"
    csv.write_text("layer,feature,label\n" + "".join(f"{ly},{i},csv {i}\n" for ly, i in matched))
    out["table"] = csv
    tsv = folder / "labels.tsv"
    tsv.write_text("".join(f"{ly}\t{i}\ttsv, {i}\n" for ly, i in matched))
    out["tsv"] = tsv
    return out
