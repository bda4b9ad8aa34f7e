"""The label-quality score: detection balanced accuracy of a lexical simulator on held-out corpus tokens.

The simulator reads the label alone. Words before "say" name tokens on which the feature should fire;
words after "say" name tokens it should predict, i.e. it should fire on the token *before* them
("Dallas, Houston" -> fires on Dallas or Houston; "say Austin" -> fires where the next token is Austin).
Words are compared lower-cased, without tokenizer space markers; a few filler words are ignored.

Held-out tokens come from corpus contexts the explainer never saw (`dashboards.HELDOUT_EVERY`): positives are
tokens where the feature reaches >= 20% of its maximum, negatives random tokens where it is 0. Detection is
(TPR + TNR) / 2 in [0, 1]; 0.5 is chance, and a label that predicts nothing scores 0.5.

A label's *output claim* (the words after "say") is also checked against what the feature writes: the share of
claimed tokens among its top `OUTPUT_TOP_K` logits (its dashboard's `top_logits`). With such a claim the score
is the mean of detection and that share, so "is -> say Oslo, Paris" no longer scores like "is -> say Austin"
on a feature that writes Austin. Below `MIN_POSITIVES` held-out positives the score is not given ("too few
examples": 2 positives cannot tell 1.000 from luck). `baselines` scores trivial labels the same way on the
same feature (the token the graph's features most often fire on, as one constant label, and another
feature's label), so a score reads against them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from attrgraph_cli.autointerp.dashboards import HeldOut
from attrgraph_cli.autointerp.examples import norm

METHOD = "detection-ba+output-logits:lexical-simulator:heldout-v2"
#: fewer held-out positives than this: the score is "too few examples" (null)
MIN_POSITIVES = 10
#: an output claim counts as true when the token is among this many of the feature's top logits
OUTPUT_TOP_K = 10
_FILLER = {"say", "says", "saying", "token", "tokens", "word", "words"}
_SPLIT = re.compile(r"[,/;|()\"'“”→:]+|\s+")


@dataclass(frozen=True)
class Simulator:
    """Which tokens a label says fire the feature: `current` (the token itself) and `following` (after it)."""

    current: frozenset[str]
    following: frozenset[str]

    @classmethod
    def from_label(cls, label: str) -> Simulator:
        text = label.strip()
        lowered = text.lower()
        cut = re.search(r"\bsay\b", lowered)
        before, after = (text[: cut.start()], text[cut.end() :]) if cut else (text, "")
        return cls(_words(before), _words(after))

    def predicts(self, token: str, next_token: str) -> bool:
        return norm(token) in self.current or (bool(next_token) and norm(next_token) in self.following)


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in (norm(part) for part in _SPLIT.split(text)) if w and w not in _FILLER)


@dataclass(frozen=True)
class Score:
    score: float
    tpr: float
    tnr: float
    n_pos: int
    n_neg: int
    detection: float
    output: float | None = None  # share of the claimed output tokens among the top logits
    claimed: tuple[str, ...] = ()
    too_few: bool = False

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tpr": round(self.tpr, 4),
            "tnr": round(self.tnr, 4),
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
            "detection": round(self.detection, 4),
        }
        if self.output is not None:
            out["output"] = round(self.output, 4)
            out["claimed_outputs"] = list(self.claimed)
        if self.too_few:
            out["too_few_examples"] = True
            out["min_positives"] = MIN_POSITIVES
        return out


def output_share(label: str, top_logits: Sequence[str] | None) -> tuple[float | None, tuple[str, ...]]:
    """(share of the label's claimed output tokens among the top logits, the claimed tokens); None without a
    claim or without top logits."""
    claimed = tuple(sorted(Simulator.from_label(label).following))
    if not claimed or not top_logits:
        return None, claimed
    top = {norm(t) for t in list(top_logits)[:OUTPUT_TOP_K] if isinstance(t, str)}
    return sum(c in top for c in claimed) / len(claimed), claimed


def score_label(label: str, heldout: HeldOut, top_logits: Sequence[str] | None = None) -> Score | None:
    """The label's score on the held-out tokens (None without positives or negatives); `too_few` below
    `MIN_POSITIVES` positives (the caller shows no number then)."""
    if not heldout.positives or not heldout.negatives or not label.strip():
        return None
    sim = Simulator.from_label(label)
    tp = sum(sim.predicts(t, n) for t, n in heldout.positives)
    fp = sum(sim.predicts(t, n) for t, n in heldout.negatives)
    tpr = tp / len(heldout.positives)
    tnr = 1 - fp / len(heldout.negatives)
    detection = (tpr + tnr) / 2
    output, claimed = output_share(label, top_logits)
    score = detection if output is None else (detection + output) / 2
    too_few = len(heldout.positives) < MIN_POSITIVES
    return Score(
        score, tpr, tnr, len(heldout.positives), len(heldout.negatives), detection, output, claimed, too_few
    )


def most_common_token(heldout: Mapping[Any, HeldOut]) -> str | None:
    """The token the graph's features most often fire on (pooled held-out positives): one constant label that
    a lazy labeller could give every feature (on the demo Dallas graph, "is")."""
    counts = Counter(norm(t) for h in heldout.values() for t, _ in h.positives)
    counts.pop("", None)
    return counts.most_common(1)[0][0] if counts else None


def baselines(
    labels: Mapping[Any, str], heldout: Mapping[Any, HeldOut], top_logits: Mapping[Any, Sequence[str] | None]
) -> dict[Any, dict[str, dict[str, Any]]]:
    """Per feature (with held-out data), the same scorer on trivial labels: the most common firing token (one
    constant label for every feature) and a shuffled label (the next feature's, in key order)."""
    keys = [k for k in sorted(labels) if k in heldout]
    common = most_common_token(heldout)
    out: dict[Any, dict[str, dict[str, Any]]] = {}
    for i, k in enumerate(keys):
        trivial = {"most_common_token": common}
        if len(keys) > 1:
            trivial["shuffled"] = labels[keys[(i + 1) % len(keys)]]
        row = {}
        for name, text in trivial.items():
            found = score_label(text, heldout[k], top_logits.get(k)) if text else None
            if found is not None:
                row[name] = {"label": text, "score": round(found.score, 4)}
        out[k] = row
    return out


def apply_baselines(
    graph: Any, keys: Sequence[Any], heldout: Mapping[Any, HeldOut], details: Mapping
) -> dict | None:
    """Score the trivial labels of every scored feature of `graph` (`score_baselines` beside `score` in its
    `attrgraph.features` entry); the means over the features that have a score, or None."""
    from attrgraph_cli.extension import feature_key, features, set_feature

    table = features(graph)
    entries = {k: table.get(feature_key(*k)) or {} for k in keys}
    labels = {k: e["label"] for k, e in entries.items() if e.get("label") and k in heldout}
    tops = {k: (details.get(k) or {}).get("top_logits") for k in labels}
    found = baselines(labels, heldout, tops)
    sums: dict[str, list[float]] = {"score": [], "most_common_token": [], "shuffled": []}
    for k, row in found.items():
        entry = dict(entries[k])
        entry["score_baselines"] = row
        set_feature(graph, k[0], k[1], entry)
        if entry.get("score") is not None and len(row) == 2:
            sums["score"].append(entry["score"])
            for name in ("most_common_token", "shuffled"):
                sums[name].append(row[name]["score"])
    if not sums["score"]:
        return None
    common = next(iter(found.values()))["most_common_token"]["label"]
    return {name: round(sum(v) / len(v), 4) for name, v in sums.items()} | {
        "n": len(sums["score"]),
        "most_common_token_label": common,
    }
