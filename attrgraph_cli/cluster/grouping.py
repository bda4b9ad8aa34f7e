"""Quality (b), grouping: how alike the members of each supernode are in what they read and write.

- `coupling_modularity`: Newman's weighted modularity Q = Σ_c [W_c / m - (d_c / 2m)²] (W_c: weight
  inside group c, d_c: its summed degree, m: total weight) on the coupling graph W = |P| |P|ᵀ (P: the
  unit edge profiles; W_ij is large when i and j read from and write to the same nodes);
- `wiring_modularity`: the same Q on the undirected |edge| graph among the grouped features (direct
  links). Supernodes of alike features are parallel, not chained, so this one is reported, not sought:
  the collapsed graph hides the links inside a supernode;
- `within` / `between`: mean cosine of the signed edge profiles (`signals.edge_profiles`) over pairs of
  features in the same group / in different groups; `contrast` = within - between.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from attrgraph_cli.cluster.signals import unit_rows


def modularity(adjacency: sp.csr_matrix, nodes: np.ndarray, group: np.ndarray) -> float | None:
    """Weighted modularity of `group` (a group id per entry of `nodes`) on |A| + |A|ᵀ among `nodes`."""
    sub = abs(adjacency[nodes][:, nodes])
    w = sp.csr_matrix(sub + sub.T)
    w.setdiag(0)
    total = float(w.sum())  # = 2m
    if total <= 0:
        return None
    k = int(group.max()) + 1
    onehot = sp.csr_matrix((np.ones(len(group)), (np.arange(len(group)), group)), shape=(len(group), k))
    inside = (onehot.T @ w @ onehot).diagonal()  # 2 W_c
    degree = np.asarray(onehot.T @ np.asarray(w.sum(axis=1)).ravel()).ravel()
    return float(np.sum(inside / total - (degree / total) ** 2))


def coupling_modularity(profiles: sp.csr_matrix, group: np.ndarray) -> float | None:
    """Modularity of `group` on W = |P||Pᵀ| without its diagonal, in O(n · profile length)."""
    n = profiles.shape[0]
    if n == 0:
        return None
    unit = abs(unit_rows(profiles))
    self_w = np.asarray(unit.multiply(unit).sum(axis=1)).ravel()
    total_vec = np.asarray(unit.sum(axis=0)).ravel()
    degree = unit @ total_vec - self_w
    two_m = float(degree.sum())
    if two_m <= 0:
        return None
    k = int(group.max()) + 1
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), group)), shape=(n, k))
    sums = onehot.T @ unit
    inside = np.asarray(sums.multiply(sums).sum(axis=1)).ravel() - np.asarray(onehot.T @ self_w).ravel()
    d_c = np.asarray(onehot.T @ degree).ravel()
    return float(np.sum(inside / two_m - (d_c / two_m) ** 2))


def profile_contrast(profiles: sp.csr_matrix, group: np.ndarray) -> dict[str, float | None]:
    """Mean within-group and between-group cosine of the (unit) profiles, and their difference."""
    n = profiles.shape[0]
    unit = unit_rows(profiles)
    q = (unit.getnnz(axis=1) > 0).astype(np.float64)  # rows with a profile (a zero row has no cosine)
    k = int(group.max()) + 1 if n else 0
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), group)), shape=(n, k))
    sums = onehot.T @ unit  # k x D
    per_group = np.asarray(sums.multiply(sums).sum(axis=1)).ravel()
    q_group = np.asarray(onehot.T @ q).ravel()
    sizes = np.bincount(group, minlength=k).astype(np.float64)
    within_sum = float(np.sum(per_group - q_group))
    within_pairs = float(np.sum(sizes * (sizes - 1)))
    all_vec = np.asarray(unit.sum(axis=0)).ravel()
    total_sum = float(all_vec @ all_vec - q.sum())
    total_pairs = float(n * (n - 1))
    between_pairs = total_pairs - within_pairs
    within = within_sum / within_pairs if within_pairs else None
    between = (total_sum - within_sum) / between_pairs if between_pairs else None
    contrast = within - between if within is not None and between is not None else None
    return {"within": within, "between": between, "contrast": contrast}


def grouping_scores(
    adjacency: sp.csr_matrix, nodes: np.ndarray, profiles: sp.csr_matrix, group: np.ndarray
) -> dict[str, float | None]:
    """All grouping scores of one grouping of `nodes` (profiles: rows in the same order)."""
    scores: dict[str, float | None] = {"groups": int(len(np.unique(group)))}
    scores["coupling_modularity"] = coupling_modularity(profiles, group)
    scores["wiring_modularity"] = modularity(adjacency, nodes, group) if len(nodes) else None
    scores.update(profile_contrast(profiles, group) if len(nodes) else {})
    return scores


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two group-id arrays split the rows the same way (whatever the ids)."""
    if len(a) != len(b):
        return False
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


#: `best_contrast` enumerates at most this many groupings (k^(n-1)); larger problems return None
EXHAUSTIVE_LIMIT = 5_000_000
#: the limit `attrgraph cluster` uses (about 0.1 s); the benchmark uses `EXHAUSTIVE_LIMIT`
CLI_EXHAUSTIVE_LIMIT = 200_000


def best_contrast(profiles: sp.csr_matrix, k: int, limit: int = EXHAUSTIVE_LIMIT) -> dict | None:
    """The largest profile contrast over every grouping of the rows into exactly `k` non-empty groups, by
    exhaustive enumeration (the ceiling any grouping of these features into k groups can reach), or None
    when there are more than `limit` groupings to try. Returns {"contrast", "group", "groupings"}."""
    n = profiles.shape[0]
    if k < 2 or n <= k or k ** (n - 1) > limit:
        return None
    unit = unit_rows(profiles)
    gram = np.asarray((unit @ unit.T).todense(), dtype=np.float64)
    np.fill_diagonal(gram, 0.0)
    total_sum = float(gram.sum())
    total_pairs = float(n * (n - 1))
    powers = k ** np.arange(n - 1, dtype=np.int64)
    count = k ** (n - 1)
    best, best_group = -np.inf, None
    for start in range(0, count, 1 << 16):
        code = np.arange(start, min(start + (1 << 16), count), dtype=np.int64)
        labels = np.zeros((len(code), n), dtype=np.int8)  # row 0 always in group 0: k times fewer to try
        labels[:, 1:] = (code[:, None] // powers) % k
        within_sum = np.zeros(len(code))
        within_pairs = np.zeros(len(code))
        used = np.ones(len(code), dtype=bool)
        for c in range(k):
            member = (labels == c).astype(np.float64)
            size = member.sum(axis=1)
            used &= size > 0
            within_sum += np.einsum("mi,mi->m", member @ gram, member)
            within_pairs += size * (size - 1)
        between_pairs = total_pairs - within_pairs
        ok = used & (within_pairs > 0) & (between_pairs > 0)
        if not ok.any():
            continue
        contrast = np.full(len(code), -np.inf)
        contrast[ok] = within_sum[ok] / within_pairs[ok] - (total_sum - within_sum[ok]) / between_pairs[ok]
        top = int(np.argmax(contrast))
        if contrast[top] > best + 1e-12:
            best, best_group = float(contrast[top]), labels[top].astype(np.int64)
    if best_group is None:
        return None
    return {"contrast": best, "group": best_group, "groupings": int(count)}
