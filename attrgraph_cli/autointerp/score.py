"""The label-quality score: detection balanced accuracy of a lexical simulator on held-out corpus tokens.

The simulator reads the label alone. Words before "say" name tokens on which the feature should fire;
words after "say" name tokens it should predict, i.e. it should fire on the token *before* them
("Dallas, Houston" -> fires on Dallas or Houston; "say Austin" -> fires where the next token is Austin).
Words are compared lower-cased, without tokenizer space markers; a few filler words are ignored.

Held-out tokens come from corpus contexts the explainer never saw (`dashboards.HELDOUT_EVERY`): positives are
tokens where the feature reaches >= 20% of its maximum, negatives random tokens where it is 0. The score is
(TPR + TNR) / 2 in [0, 1]; 0.5 is chance, and a label that predicts nothing scores 0.5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from attrgraph_cli.autointerp.dashboards import HeldOut
from attrgraph_cli.autointerp.examples import norm

METHOD = "detection-ba:lexical-simulator:heldout-v1"
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

    def detail(self) -> dict[str, float | int]:
        return {
            "tpr": round(self.tpr, 4),
            "tnr": round(self.tnr, 4),
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
        }


def score_label(label: str, heldout: HeldOut) -> Score | None:
    """Balanced detection accuracy of `label` on the held-out tokens (None without positives or negatives)."""
    if not heldout.positives or not heldout.negatives or not label.strip():
        return None
    sim = Simulator.from_label(label)
    tp = sum(sim.predicts(t, n) for t, n in heldout.positives)
    fp = sum(sim.predicts(t, n) for t, n in heldout.negatives)
    tpr = tp / len(heldout.positives)
    tnr = 1 - fp / len(heldout.negatives)
    return Score((tpr + tnr) / 2, tpr, tnr, len(heldout.positives), len(heldout.negatives))
