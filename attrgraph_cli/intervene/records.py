"""The `attrgraph.interventions` records (schemas/extension/interventions.schema.json) and `--format json`.

Deltas are in the units of the graph's logit nodes: circuit-tracer's target is the logit minus the mean
logit over the vocabulary, so `measured_delta = (after[t] - mean(after)) - (before[t] - mean(before))`.
Tokens are spelled as the tokenizer decodes them (`tokenizer.decode([id])`).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits (shifted by the max, so no overflow)."""
    z = logits - logits.max()
    e = np.exp(z)
    return e / e.sum()


def rank_of(logits: np.ndarray, vid: int) -> int:
    """1-based rank of a token among the logits."""
    return int((logits > logits[vid]).sum()) + 1


def demeaned_delta(before: np.ndarray, after: np.ndarray, vid: int) -> float:
    """Change of logit `vid` minus the change of the mean logit."""
    return float((after[vid] - after.mean()) - (before[vid] - before.mean()))


def target_logit(target: Any, logits: np.ndarray) -> float:
    """The target's logit, or for a logit-difference target (`logit(A)-logit(B)`) the difference."""
    value = float(logits[target.vocab_id])
    return value - float(logits[target.minus_id]) if target.minus_id is not None else value


def target_delta(target: Any, before: np.ndarray, after: np.ndarray) -> float:
    """Measured change in the graph's units: demeaned logit, or the logit difference (the mean cancels)."""
    if target.minus_id is None:
        return demeaned_delta(before, after, target.vocab_id)
    return target_logit(target, after) - target_logit(target, before)


#: tokenizer -> {token id: decoded text}: one token's decoding never changes, and a Hugging Face
#: `decode([id])` costs ~20 µs, ten per record (the top-k), mostly the same tokens run after run
_DECODED: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


def decode_token(tokenizer: Any, vid: int) -> str:
    """`tokenizer.decode([vid])`, cached per tokenizer."""
    try:
        cache = _DECODED.setdefault(tokenizer, {})
    except TypeError:  # an object without weak references: no cache
        return tokenizer.decode([vid])
    text = cache.get(vid)
    if text is None:
        text = cache[vid] = tokenizer.decode([vid])
    return text


def top_tokens(tokenizer: Any, logits: np.ndarray, k: int) -> list[list[Any]]:
    """[[token, probability], ...] of the k most likely next tokens."""
    probs = softmax(logits)
    k = min(k, len(probs))
    idx = np.argpartition(-probs, k - 1)[:k]
    idx = idx[np.argsort(-probs[idx], kind="stable")]
    return [[decode_token(tokenizer, int(i)), round(float(probs[i]), 8)] for i in idx]


def target_rows(
    session: Any, before: np.ndarray, after: np.ndarray | None, predicted: dict[int, float] | None
):
    """The `targets` list: every graph logit (and --target extra), before/after, measured and predicted."""
    p_before = softmax(before)
    p_after = softmax(after) if after is not None else None
    rows = []
    for t in session.targets:
        row: dict[str, Any] = {
            "token": t.token,
            "node": t.node,
            "logit_before": target_logit(t, before),
            "logit_after": target_logit(t, after) if after is not None else None,
            "measured_delta": target_delta(t, before, after) if after is not None else None,
            "predicted_delta": (
                predicted.get(t.row) if predicted is not None and t.row is not None else None
            ),
            "p_before": float(p_before[t.vocab_id]),
            "p_after": float(p_after[t.vocab_id]) if p_after is not None else None,
            "rank_before": rank_of(before, t.vocab_id),
            "rank_after": rank_of(after, t.vocab_id) if after is not None else None,
        }
        rows.append(row)
    return rows


def base_record(session: Any, name: str, kind: str, spec: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields every record has (targets and results filled in by the caller)."""
    return {
        "name": name,
        "kind": kind,
        "spec": spec,
        "settings": session.settings.record(session.loaded.n_layers),
        "model": session.loaded.model_name,
        "targets": [],
    }


def json_output(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What `--format json` prints: `{"interventions": [record, ...]}` (the names scripts rely on)."""
    return {"interventions": records}
