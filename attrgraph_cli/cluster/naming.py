"""Names for supernodes, from their members' labels, else from where they sit.

In order: `say X` when at least half of the labelled members are say-features ("say X", "say 'X'",
"is → say X, Y") and X is their most common (first) target; else the content word shared by at least half
of the labelled members (two words when both are); else a descriptive fallback, `L1–3 @ "Dallas"`
(layers @ the positions' tokens).
Names are made unique against the names already taken by appending " (2)", " (3)", ...
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from attrgraph_cli.cluster.signals import content_words

#: "say X" anywhere in a label ("say Austin", 'say "Austin"', "is → say Austin, Texas"); X ends at , ; "
_SAY = re.compile(r"""\bsay(?:s|ing)?\s+["'“‘`]?\s*([^,;"'“”‘’`]+?)\s*(?:["'”’`]|[,;]|$)""", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
MAX_LEN = 60


def clean(text: str) -> str:
    """One line, no control characters, at most `MAX_LEN` characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_LEN else text[: MAX_LEN - 1].rstrip() + "…"


def _say_target(label: str) -> str | None:
    match = _SAY.search(label)
    return match.group(1).strip() if match else None


def _shared_words(labels: list[str]) -> list[str]:
    counts: Counter[str] = Counter()
    spelled: dict[str, Counter[str]] = {}
    for label in labels:
        for word in content_words(label):
            counts[word] += 1
        for raw in _WORD.findall(label):
            spelled.setdefault(raw.lower(), Counter())[raw] += 1
    need = max(2, (len(labels) + 1) // 2)
    common = [(c, w) for w, c in counts.items() if c >= need]
    common.sort(key=lambda cw: (-cw[0], cw[1]))
    best = [w for c, w in common if c == common[0][0]][:2] if common else []
    return [spelled[w].most_common(1)[0][0] if w in spelled else w for w in best]


def fallback_name(layers: np.ndarray, positions: np.ndarray, tokens: list[str]) -> str:
    """`L1–3 @ "Dallas"`: the layer range and the positions' tokens (or their count)."""
    lo, hi = int(layers.min()), int(layers.max())
    where = f"L{lo}" if lo == hi else f"L{lo}–{hi}"
    pos = sorted(set(int(p) for p in positions))
    words = [tokens[p].strip() if 0 <= p < len(tokens) and tokens[p].strip() else f"pos {p}" for p in pos]
    if len(pos) <= 2:
        return f"{where} @ " + ", ".join(f'"{clean(w)}"' for w in words)
    return f"{where} @ {len(pos)} positions"


def propose(
    labels: list[str], layers: np.ndarray, positions: np.ndarray, tokens: list[str]
) -> tuple[str, str]:
    """(name, how it was chosen: "say-x", "shared-word" or "fallback")."""
    labelled = [x for x in labels if x.strip()]
    if labelled:
        targets = [t for t in map(_say_target, labelled) if t]
        if targets and len(targets) * 2 >= len(labelled):
            target = Counter(targets).most_common(1)[0][0]
            return clean(f"say {target}"), "say-x"
        words = _shared_words(labelled) if len(labelled) >= 2 else []
        if words:
            return clean(" ".join(words)), "shared-word"
    return clean(fallback_name(layers, positions, tokens)), "fallback"


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)`, ... whichever is not in `taken` (which is updated)."""
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name} ({k})", k + 1
    taken.add(candidate)
    return candidate
