"""Groups from scipy's hierarchical clustering, cut under the supernode constraints; the baseline grouping.

`constrained_groups` runs average linkage on 1 - similarity and keeps every merge that stays within
`max_size` members, `layer_band` layers and `max_distance`; a merge that breaks one is refused, and so
are all merges above it. The groups are the largest accepted merges; a feature left alone then joins the
group it is closest to on average when that fits the same limits (else it stays unclustered).
The candidates are shuffled by `seed` first, which only decides ties.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage


def constrained_groups(
    sim: np.ndarray,
    layer: np.ndarray,
    *,
    max_size: int,
    max_distance: float,
    layer_band: int | None,
    seed: int,
    sizes: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Groups of row indices of `sim` (each with >= 2 members), largest first. With `sizes` a row stands
    for that many members (a feature unit of several nodes): `max_size` bounds the summed size."""
    n = len(sim)
    if n < 2:
        return []
    weight = np.ones(n) if sizes is None else np.asarray(sizes, dtype=np.float64)
    order = np.random.default_rng(seed).permutation(n)
    upper = np.triu_indices(n, k=1)  # the condensed form, taken in the shuffled order
    condensed = 1.0 - sim[order[upper[0]], order[upper[1]]].astype(np.float64)
    del upper
    np.maximum(condensed, 0.0, out=condensed)
    z = linkage(condensed, method="average")
    del condensed
    lay = layer[order]
    low = np.concatenate([lay, np.zeros(n - 1, dtype=lay.dtype)])
    high = low.copy()
    ok = np.concatenate([weight[order] <= max_size, np.zeros(n - 1, dtype=bool)])
    count = np.concatenate([weight[order], np.zeros(n - 1)])
    members: dict[int, list[int]] = {}
    band = np.inf if layer_band is None else layer_band
    for r, (a, b, d, _count) in enumerate(z):
        a, b, i = int(a), int(b), n + r
        low[i], high[i] = min(low[a], low[b]), max(high[a], high[b])
        count[i] = count[a] + count[b]
        ok[i] = ok[a] and ok[b] and d <= max_distance and count[i] <= max_size and high[i] - low[i] <= band
        if ok[i]:
            members[i] = members.pop(a, [a]) + members.pop(b, [b])
    groups = [list(order[np.asarray(m)]) for m in members.values()]
    _attach_singletons(groups, sim, layer, weight, max_size=max_size, max_distance=max_distance, band=band)
    return sorted((np.sort(np.asarray(g)) for g in groups), key=lambda g: (-len(g), int(g[0])))


def _attach_singletons(
    groups: list[list[int]],
    sim: np.ndarray,
    layer: np.ndarray,
    weight: np.ndarray,
    *,
    max_size: int,
    max_distance: float,
    band: float,
) -> None:
    """Each feature left alone joins the group it is closest to on average (the average-linkage distance),
    if that is within `max_distance` and the group has room and stays within the layer band: a refused
    merge higher in the tree must not leave a feature out that fits a group on its own."""
    grouped = np.zeros(len(sim), dtype=bool)
    for g in groups:
        grouped[g] = True
    for i in np.flatnonzero(~grouped):
        best, best_d = -1, max_distance
        for k, g in enumerate(groups):
            lay = layer[g]
            span = max(lay.max(), layer[i]) - min(lay.min(), layer[i])
            if weight[g].sum() + weight[i] > max_size or span > band:
                continue
            d = 1.0 - float(sim[i, g].mean())
            if d <= best_d:
                best, best_d = k, d
        if best >= 0:
            groups[best].append(int(i))


def baseline_groups(layer: np.ndarray, position: np.ndarray, k: int) -> np.ndarray:
    """The control: the same features in (at most) k groups by position and layer band only.

    Average linkage on (position, layer) with positions kept apart (a position step costs more than the
    whole layer range), cut into k clusters; when features share cells so that fewer than k come out,
    the largest group is halved (in layer order) until there are k. Returns a group id per feature.
    """
    n = len(layer)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1 or k <= 1:
        return np.zeros(n, dtype=np.int64)
    span = float(layer.max() - layer.min() + 1)
    coords = np.stack([position.astype(np.float64) * span * 2.0, layer.astype(np.float64)], axis=1)
    z = linkage(coords, method="average", metric="cityblock")
    group = fcluster(z, t=min(k, n), criterion="maxclust").astype(np.int64) - 1
    count = int(group.max()) + 1
    while count < min(k, n):
        sizes = np.bincount(group)
        big = int(np.argmax(sizes))
        rows = np.flatnonzero(group == big)
        rows = rows[np.lexsort((rows, layer[rows]))]
        group[rows[len(rows) // 2 :]] = count
        count += 1
    return group
