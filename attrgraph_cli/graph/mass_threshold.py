"""The score threshold that keeps a fraction of the total mass, without sorting every score.

circuit-tracer's `find_threshold` sorts all scores (N^2 of them for edges), takes a cumulative sum and
returns the first sorted score at which the cumulative share reaches the fraction. This module returns
the same value while sorting only a thin band of candidates around the answer:

1. a random sample (seeded) of the scores brackets the answer in mass space (the fraction plus or minus
   a few standard errors of the sample's estimate);
2. one pass over the scores, block by block, sums the mass above the bracket (in float64) and collects
   the candidates inside it;
3. the candidates alone are sorted; if the answer is not inside the bracket (a sample can mislead), the
   bracket widens and, in the end, covers every positive score: the result is always exact.

Float semantics follow circuit-tracer on PyTorch's CPU kernels, checked on this machine: the cumulative
sum is accumulated in float64 and rounded to float32 at every element, the share is a float32 division
by the float32 total, and the fraction is compared as float32 (`searchsorted`, left side). The total is
the float64 sum rounded to float32; PyTorch sums float32 with its own cascade order, which can differ by
an ulp (see `attrgraph_cli.graph.prune` for what that means for the masks).
"""

from __future__ import annotations

import numpy as np

#: scores at or below this many are sorted outright (as fast as bracketing, and simpler)
_SORT_OUTRIGHT = 1 << 21
#: sample size used to bracket the answer
_SAMPLE = 1 << 18
#: elements per block in the streaming passes (fits the L2/L3 caches)
_BLOCK = 1 << 20
_TINY = np.float32(np.nextafter(np.float32(0), np.float32(1)))


def mass_threshold(scores: np.ndarray, fraction: float, *, n_total: int | None = None) -> np.float32:
    """The value `t` such that keeping `scores >= t` keeps `fraction` of the total, as circuit-tracer.

    `scores`: non-negative float32, any shape (C order; a view is used, never a copy of the whole).
    `n_total`: the number of scores when `scores` holds only some of them and the rest are implicit
    zeros (the stored values of a sparse matrix); it matters only when the fraction is never reached,
    where circuit-tracer returns the smallest score.
    """
    flat = np.ravel(scores)
    if flat.dtype != np.float32:
        flat = flat.astype(np.float32)
    n = flat.size if n_total is None else n_total
    has_implicit_zeros = n > flat.size
    if flat.size == 0:
        return np.float32(0)
    target = np.float32(fraction)
    total64 = _sum64(flat)
    total32 = np.float32(total64)
    if not total32 > 0:  # no mass at all: every share is 0/0; keep everything, as the smallest score does
        return np.float32(0) if has_implicit_zeros else np.float32(flat.min())

    if flat.size <= _SORT_OUTRIGHT:
        return _exact(flat, 0.0, target, total32, flat, has_implicit_zeros)

    sample = _positive_sample(flat)
    for spread in (6.0, 60.0, None):
        upper, lower = _bracket(sample, float(fraction), spread)
        above64, candidates = _split(flat, upper, lower)
        if _share(above64, total32) >= target and np.isfinite(upper):
            continue  # the answer lies above the bracket
        reached = _share(above64 + _sum64(candidates), total32) >= target
        if not reached and lower > _TINY:
            continue  # the answer lies below the bracket
        return _exact(candidates, above64, target, total32, flat, has_implicit_zeros)
    raise AssertionError("unreachable: the last bracket covers every positive score")


def _exact(
    candidates: np.ndarray,
    above64: float,
    target: np.float32,
    total32: np.float32,
    everything: np.ndarray,
    has_implicit_zeros: bool,
) -> np.float32:
    """Sort the candidates and find the first share >= target; the smallest score if none is."""
    ordered = np.sort(candidates)[::-1]
    cumulative = (above64 + np.cumsum(ordered, dtype=np.float64)).astype(np.float32)
    shares = cumulative / total32
    index = int(np.searchsorted(shares, target, side="left"))
    if index < len(ordered):
        return np.float32(ordered[index])
    if has_implicit_zeros:
        return np.float32(0)
    return np.float32(everything.min())


def _share(mass64: float, total32: np.float32) -> np.float32:
    return np.float32(mass64) / total32


def _sum64(values: np.ndarray) -> float:
    """float64 sum of float32 values, block by block (no float64 copy of the whole array)."""
    total = 0.0
    for start in range(0, values.size, _BLOCK):
        total += float(values[start : start + _BLOCK].sum(dtype=np.float64))
    return total


def _positive_sample(flat: np.ndarray) -> np.ndarray:
    """A seeded uniform sample of the positive scores, sorted descending (a stride could alias with
    the row length of the matrix the scores come from and see only some of its columns)."""
    rng = np.random.default_rng(0)
    sample = flat[rng.integers(0, flat.size, _SAMPLE)]
    sample = sample[sample > 0]
    return np.sort(sample)[::-1]


def _bracket(sample: np.ndarray, fraction: float, spread: float | None) -> tuple[np.float32, np.float32]:
    """(upper, lower): the scores >= upper hold less than `fraction` of the mass, those >= lower more,
    by `spread` standard errors of the sample's estimate of the mass share (plus 1e-4).

    `spread=None` (or an empty sample) gives the widest bracket: every positive score is a candidate.
    """
    inf, tiny = np.float32(np.inf), _TINY
    if spread is None or sample.size == 0:
        return inf, tiny
    values = sample.astype(np.float64)
    shares = np.cumsum(values)
    shares /= shares[-1]
    cut = values[min(int(np.searchsorted(shares, fraction)), sample.size - 1)]
    # standard error of the estimated share of the mass at or above the cut
    deviation = values * (values >= cut) - fraction * values
    error = float(deviation.std()) / (float(values.mean()) * np.sqrt(values.size))
    margin = spread * error + 1e-4
    hi, lo = fraction - margin, fraction + margin
    upper = inf if hi <= 0 else np.float32(sample[min(int(np.searchsorted(shares, hi)), sample.size - 1)])
    lower = tiny if lo >= 1 else np.float32(sample[min(int(np.searchsorted(shares, lo)), sample.size - 1)])
    return upper, max(lower, tiny)


def _split(flat: np.ndarray, upper: np.float32, lower: np.float32) -> tuple[float, np.ndarray]:
    """float64 mass of the scores >= upper, and the scores in [lower, upper)."""
    above = 0.0
    parts = []
    for start in range(0, flat.size, _BLOCK):
        block = flat[start : start + _BLOCK]
        kept = block[block >= lower]
        high = kept >= upper
        if high.any():
            above += float(kept[high].sum(dtype=np.float64))
            kept = kept[~high]
        parts.append(kept)
    return above, np.concatenate(parts) if parts else np.empty(0, np.float32)
