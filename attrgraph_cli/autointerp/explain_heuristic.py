"""The offline, deterministic explainer: a 1-6 word label from a feature's dashboard and its graph context.

In the spirit of Neuronpedia's np_max-act-logits, it looks at the peaks of the feature's examples and its top
logits, and builds up to four candidates:

1. `shared-peak-token`: the few tokens (at most 3) the peaks share, e.g. "Dallas, Houston";
2. `next-token`: the few tokens that consistently follow the peaks, e.g. "say Austin";
3. `top-logits`: the feature's top logits, when they are also what follows its peaks, e.g. "say Texas";
4. `strongest-peak`: the token at the strongest activation (the fallback, and the benchmark's baseline).

A "say" label is prefixed with the peak tokens when one or two of them cover >= 80% of the peaks
("is → say Austin, Tokyo": fires on "is", and most strongly where Austin or Tokyo comes next); such a
peak-token label is qualified the same way when the tokens after it are rated >= 0.3 and are among the
feature's top logits or the logits it drives in the graph (so "Dallas" never becomes "Dallas → say is").

Candidates 1-3 are rated on the examples themselves by coverage x precision: coverage is the share of peak
activation the token set explains; precision is the share of window positions matching the set (the token
itself, or the token after it for "say" labels) that fire at >= 20% of their example's peak. The best rated
candidate wins, its rating weighted by the order above (1, 0.8, 0.75: a "say" label must be clearly better).
The graph context qualifies it, which no peer does: the prompt token at the node's position and the logits it
drives are put first in a set when the peaks select them, and appended when the peaks support them (>= 10% of
the weight); between two candidates rated within 0.05, the one that agrees with the graph context wins.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from attrgraph_cli.autointerp.examples import Peak, clean_token, norm, peaks

MAX_WORDS = 6
MAX_SET = 3
COVERAGE = 0.8
SUPPORT = 0.10
FIRE_SHARE = 0.2
TIE = 0.05
#: a peak-token label is qualified with "→ say X" when X is rated this well and is among the top logits
MIN_SAY = 0.3
N_LOGITS = 10
#: the issue's order as weights: a later candidate must be rated clearly higher to win
PRIORITY = {"shared-peak-token": 1.0, "next-token": 0.8, "top-logits": 0.75}


@dataclass(frozen=True)
class Explanation:
    label: str
    rule: str
    rating: float


@dataclass(frozen=True)
class GraphContext:
    """Tokens of the graph around a feature: its prompt positions and the logits it drives."""

    position_tokens: tuple[str, ...] = ()
    output_tokens: tuple[str, ...] = ()


def strongest_peak_label(details: dict[str, Any]) -> Explanation | None:
    """The baseline: the token at the feature's strongest activation, alone."""
    found = peaks(details)
    if not found:
        return None
    best = max(found, key=lambda p: p.act)
    return Explanation(_words(clean_token(best.token)), "strongest-peak", 0.0)


def explain(details: dict[str, Any], context: GraphContext | None = None) -> Explanation | None:
    """The heuristic label of one feature (None when the dashboard has no firing example)."""
    context = context or GraphContext()
    found = peaks(details)
    if not found:
        return None
    position = {norm(t) for t in context.position_tokens}
    outputs = {norm(t) for t in context.output_tokens}
    candidates: list[tuple[Explanation, bool]] = []
    current = _token_set([p.token for p in found], [p.act for p in found], position)
    if current:
        rating = _rating(found, set(current), after=False)
        text = ", ".join(clean_token(current[t]) for t in current)
        candidates.append(
            (Explanation(_words(text), "shared-peak-token", rating), bool(position & set(current)))
        )
    following = [(p.next_token, p.act) for p in found if p.next_token]
    nxt = _token_set([t for t, _ in following], [a for _, a in following], outputs)
    say: Explanation | None = None
    logits = [t for t in details.get("top_logits") or [] if isinstance(t, str) and norm(t)]
    if nxt:
        rating = _rating(found, set(nxt), after=True)
        text = "say " + ", ".join(clean_token(nxt[t]) for t in nxt)
        say = Explanation(_words(text), "next-token", rating)
        candidates.append((say, bool(outputs & set(nxt))))
    if logits:
        wanted = {norm(t): t for t in logits[:MAX_SET]}
        shown = {k: v for k, v in wanted.items() if any(norm(p.next_token) == k for p in found)}
        if shown:
            ordered = _ordered(shown, outputs)
            rating = _rating(found, set(shown), after=True) * _coverage(following, set(shown))
            text = "say " + ", ".join(clean_token(shown[t]) for t in ordered)
            candidates.append((Explanation(_words(text), "top-logits", rating), bool(outputs & set(shown))))
    if not candidates:
        return strongest_peak_label(details)
    best, best_ctx = candidates[0]
    for cand, ctx in candidates[1:]:
        old, new = best.rating * PRIORITY[best.rule], cand.rating * PRIORITY[cand.rule]
        if new > old + TIE or (abs(new - old) <= TIE and ctx and not best_ctx):
            best, best_ctx = cand, ctx
    if best.rating <= 0:
        return strongest_peak_label(details)
    narrow = bool(current) and len(current) <= 2
    narrow = narrow and _coverage([(p.token, p.act) for p in found], set(current)) >= COVERAGE
    if best.rule != "shared-peak-token" and narrow:
        prefix = ", ".join(clean_token(current[t]) for t in current)
        return Explanation(_words(f"{prefix} → {best.label}"), f"{best.rule}+peak", best.rating)
    promoted = {norm(t) for t in logits[:N_LOGITS]} | outputs
    if best.rule == "shared-peak-token" and narrow and say and say.rating >= MIN_SAY and promoted & set(nxt):
        return Explanation(_words(f"{best.label} → {say.label}"), "shared-peak-token+next-token", best.rating)
    return best


def _token_set(tokens: list[str], weights: list[float], preferred: set[str]) -> dict[str, str]:
    """The fewest tokens (<= MAX_SET) covering COVERAGE of the weight; preferred ones with support first."""
    mass: dict[str, float] = defaultdict(float)
    shown: dict[str, str] = {}
    for token, weight in zip(tokens, weights, strict=True):
        key = norm(token)
        if not key:
            continue
        mass[key] += weight
        shown.setdefault(key, token)
    total = sum(mass.values())
    if total <= 0:
        return {}
    ranked = sorted(mass, key=lambda k: (-mass[k], k))
    chosen: list[str] = []
    covered = 0.0
    for key in ranked[:MAX_SET]:
        chosen.append(key)
        covered += mass[key]
        if covered >= COVERAGE * total:
            break
    ordered = _ordered(dict.fromkeys(chosen), preferred)
    for key in ranked:
        if key in preferred and key not in ordered and mass[key] >= SUPPORT * total:
            ordered = [*ordered[: MAX_SET - 1], key]
    return {k: shown[k] for k in ordered}


def _ordered(keys: dict[str, Any], preferred: set[str]) -> list[str]:
    return sorted(keys, key=lambda k: (k not in preferred, list(keys).index(k)))


def _coverage(following: list[tuple[str, float]], keys: set[str]) -> float:
    total = sum(a for _, a in following)
    return sum(a for t, a in following if norm(t) in keys) / total if total > 0 else 0.0


def _rating(found: list[Peak], keys: set[str], after: bool) -> float:
    """Coverage of the peaks x precision of the set over the example windows."""
    total = sum(p.act for p in found)
    covered = 0.0
    matches = fired = 0
    for p in found:
        tokens = [norm(t) for t in p.tokens]
        probe = tokens[1:] + [""] if after else tokens
        if probe[p.index] in keys:
            covered += p.act
        for k, key in enumerate(probe):
            if key in keys and (after is False or k + 1 < len(tokens)):
                matches += 1
                fired += p.acts[k] >= FIRE_SHARE * p.act
    if total <= 0 or matches == 0:
        return 0.0
    return (covered / total) * (fired / matches)


def _words(text: str) -> str:
    words = text.split()
    return " ".join(words[:MAX_WORDS]).rstrip(",")
