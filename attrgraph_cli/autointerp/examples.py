"""Reading feature-details objects: the peak of each example, the token after it, the window around it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

#: quantile names that hold the top activations (Neuronpedia's and attrgraph's)
_SPACE_MARKERS = re.compile(r"^[\s\u2581\u0120]+|[\s\u2581\u0120]+$")


@dataclass(frozen=True)
class Peak:
    """One example, seen through its peak: the token, the next token, the activation, and the window."""

    token: str
    next_token: str
    act: float
    tokens: tuple[str, ...]
    acts: tuple[float, ...]
    index: int


@functools.lru_cache(maxsize=1 << 16)
def clean_token(token: str) -> str:
    """A token as a word: SentencePiece / GPT-2 space markers and surrounding whitespace removed."""
    text = _SPACE_MARKERS.sub("", str(token))
    if not text:
        return {"\n": "newline", "\t": "tab"}.get(str(token).strip(" "), "space" if token else "")
    return text


@functools.lru_cache(maxsize=1 << 16)
def norm(token: str) -> str:
    """The form compared by the heuristic and the simulator: cleaned and lower-cased."""
    return clean_token(token).lower()


def peaks(details: dict[str, Any]) -> list[Peak]:
    """Every example of every quantile, by its peak (the recorded `train_token_ind`, else the argmax)."""
    out: list[Peak] = []
    for quantile in details.get("examples_quantiles") or []:
        if not isinstance(quantile, dict):
            continue
        for example in quantile.get("examples") or []:
            peak = _peak(example)
            if peak is not None:
                out.append(peak)
    return out


def _peak(example: Any) -> Peak | None:
    if not isinstance(example, dict):
        return None
    tokens, acts = example.get("tokens"), example.get("tokens_acts_list")
    if not isinstance(tokens, list) or not isinstance(acts, list) or not tokens or len(tokens) != len(acts):
        return None
    try:
        values = tuple(float(a) for a in acts)
    except (TypeError, ValueError):
        return None
    index = example.get("train_token_ind")
    if not isinstance(index, int) or not 0 <= index < len(tokens) or values[index] <= 0:
        index = max(range(len(values)), key=values.__getitem__)
    if values[index] <= 0:
        return None
    tokens_t = tuple(str(t) for t in tokens)
    nxt = tokens_t[index + 1] if index + 1 < len(tokens_t) else ""
    return Peak(tokens_t[index], nxt, values[index], tokens_t, values, index)
