"""Matched random controls: other features drawn to match a set of features on layer, position and influence.

A claim "these features carry the effect" is refuted when other features like them do as much. "Like them"
means what could explain the effect without their identity: where they sit (layer, position), how much they
matter to the output (influence) and how many there are. So each control set has one feature per member,
drawn from a pool (every active feature of the prompt, not only the graph's), at the member's layer and
position, among the `k_nearest` closest to it in log influence. When that place has fewer free features
than members sitting there, the match widens: same position (any layer), then same layer (any position),
then anywhere; the level reached is recorded per member. A pruned graph keeps the most influential features,
so at their places the other features are usually far less influential: a second kind of control, matched
on influence alone (`place=False`), answers "does any equally influential set do as much?". Many draws
give a distribution; a set's effect is read as a percentile of it. No torch here: numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: match levels, strictest first
LEVELS = ("layer+position", "position", "layer", "any")


@dataclass(frozen=True)
class Pool:
    """Candidate control features: one entry each (layer, position, influence; `key` names it)."""

    layer: np.ndarray
    position: np.ndarray
    influence: np.ndarray
    key: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.layer)


@dataclass
class MatchedDraws:
    """`draws[d]` = pool indices of control set d (one per member, in member order)."""

    draws: list[np.ndarray]
    levels: list[str]  # per member: how it was matched (LEVELS)
    member_influence: float
    control_influence: list[float]  # per draw: summed influence

    def summary(self) -> dict:
        """How close the match is: summed influence of the members and of the draws (median, 5-95%)."""
        ci = np.asarray(self.control_influence) if self.control_influence else np.zeros(0)
        return {
            "n_draws": len(self.draws),
            "member_influence": self.member_influence,
            "control_influence_median": float(np.median(ci)) if len(ci) else None,
            "control_influence_p5_p95": [float(np.percentile(ci, 5)), float(np.percentile(ci, 95))]
            if len(ci)
            else None,
            "match_levels": {lv: self.levels.count(lv) for lv in dict.fromkeys(self.levels)},
        }


def _log_influence(x: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.abs(np.asarray(x, dtype=float)), 1e-12))


def matched_draws(
    pool: Pool,
    members: Sequence[tuple[int, int, float]],
    exclude: Sequence[int],
    n_draws: int,
    rng: np.random.Generator,
    *,
    k_nearest: int = 4,
    place: bool = True,
) -> MatchedDraws:
    """`n_draws` control sets for `members` = [(layer, position, influence)], from `pool` less `exclude`
    (pool indices: the members themselves and anything else that must not serve as a control). With
    `place=False` the match is on influence alone (any layer and position: level "influence")."""
    allowed = np.ones(len(pool), dtype=bool)
    allowed[np.asarray(list(exclude), dtype=int)] = False
    log_inf = _log_influence(pool.influence)
    candidates: list[np.ndarray] = []
    levels: list[str] = []
    need = max(k_nearest, 1)
    for layer, pos, influence in members:
        sharing = sum(1 for m in members if (m[0], m[1]) == (layer, pos))  # distinct controls needed here
        same_layer, same_pos = pool.layer == layer, pool.position == pos
        masks = (same_layer & same_pos, same_pos, same_layer, np.ones(len(pool), dtype=bool))
        for level, mask in zip(LEVELS, masks, strict=True) if place else [("influence", masks[-1])]:
            idx = np.flatnonzero(mask & allowed)
            if len(idx) >= sharing or level in ("any", "influence"):
                break
        order = np.argsort(np.abs(log_inf[idx] - _log_influence(np.array([influence]))[0]), kind="stable")
        # a few more than k, so that members sharing a place can still be given distinct features
        candidates.append(idx[order[: need + len(members)]])
        levels.append(level)
    draws: list[np.ndarray] = []
    sums: list[float] = []
    for _ in range(n_draws if all(len(c) for c in candidates) else 0):
        used: set[int] = set()
        chosen = []
        for cand in candidates:
            free = [int(c) for c in cand[:need] if int(c) not in used] or [
                int(c) for c in cand if int(c) not in used
            ]
            if not free:
                break
            pick = free[int(rng.integers(len(free)))]
            used.add(pick)
            chosen.append(pick)
        if len(chosen) == len(candidates):
            arr = np.asarray(chosen, dtype=int)
            draws.append(arr)
            sums.append(float(np.abs(pool.influence[arr]).sum()))
    return MatchedDraws(draws, levels, float(sum(abs(m[2]) for m in members)), sums)


def percentile(value: float, controls: Sequence[float]) -> float | None:
    """Share (0-100) of control values strictly below `value` (ties count half); None without controls."""
    c = np.asarray(list(controls), dtype=float)
    if not len(c):
        return None
    return float(100.0 * ((c < value).sum() + 0.5 * (c == value).sum()) / len(c))


def distribution(values: Sequence[float]) -> dict:
    """Median, 5th and 95th percentile, min and max of the control values."""
    v = np.asarray(list(values), dtype=float)
    if not len(v):
        return {"n": 0}
    return {
        "n": len(v),
        "median": float(np.median(v)),
        "p5": float(np.percentile(v, 5)),
        "p95": float(np.percentile(v, 95)),
        "min": float(v.min()),
        "max": float(v.max()),
    }
