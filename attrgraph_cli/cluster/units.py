"""Feature units: one transcoder feature is one unit across the positions it appears at, unless the graph
shows that its positions play different roles.

A feature (same layer, same feature index) is often in a pruned graph at several positions; a researcher
groups it as one thing. Its positions are split only when what they *do* differs: each node's role is its
signed outgoing profile with the targets taken position-free (every node of a feature counts as that
feature; logits and errors as themselves) followed by its signed effects on the target logits, and two
positions of a feature are kept together while the cosine of their roles is above `SPLIT_BELOW`
(complete linkage among the feature's nodes, so every pair in one unit satisfies it). A node with no
outgoing link has no role and stays with its feature. On the three development graphs the roles of a
feature's positions nearly always agree (see docs/cluster-real-graphs.md for the measurement); a feature
whose two positions push the same targets in opposite directions is split.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage

from attrgraph_cli.cluster.signals import unit_rows
from attrgraph_cli.graph.model import AttributionGraph, NodeKind

#: positions of one feature stay one unit while the cosine of their roles is at least this
SPLIT_BELOW = -0.5


def feature_ids(graph: AttributionGraph) -> np.ndarray:
    """A dense id per (layer, feature index) of every feature node; -1 for other nodes."""
    nodes = graph.nodes
    out = np.full(len(nodes), -1, dtype=np.int64)
    feats = np.flatnonzero(nodes.kind == NodeKind.FEATURE)
    if len(feats):
        pairs = np.stack([nodes.layer[feats].astype(np.int64), nodes.feature[feats].astype(np.int64)], axis=1)
        _, inverse = np.unique(pairs, axis=0, return_inverse=True)
        out[feats] = inverse.ravel()
    return out


def source_classes(graph: AttributionGraph) -> np.ndarray:
    """A position-free class per node: a feature's nodes share one, so do the embeddings of one token;
    every other node is its own class."""
    nodes = graph.nodes
    n = len(nodes)
    fid = feature_ids(graph)
    out = np.where(fid >= 0, fid, -1)
    next_id = int(fid.max()) + 1 if n else 0
    tokens = graph.prompt_tokens
    by_token: dict[str, int] = {}
    for i in range(n):
        if out[i] >= 0:
            continue
        p = int(nodes.position[i])
        if nodes.kind[i] == NodeKind.EMBEDDING and 0 <= p < len(tokens):
            key = tokens[p]
            if key not in by_token:
                by_token[key] = next_id
                next_id += 1
            out[i] = by_token[key]
        else:
            out[i] = next_id
            next_id += 1
    return out


def role_vectors(graph: AttributionGraph, adjacency: sp.csr_matrix, rows: np.ndarray, effects: np.ndarray):
    """Unit-normalised [position-free signed outgoing profile | signed logit effects] of `rows`."""
    n = len(graph.nodes)
    fid = feature_ids(graph)
    n_f = int(fid.max()) + 1 if len(fid) else 0
    column = np.where(fid >= 0, fid, n_f + np.arange(n))  # a feature's nodes share one column
    collapse = sp.csr_matrix((np.ones(n), (np.arange(n), column)), shape=(n, n_f + n))
    outgoing = adjacency.T.tocsr()[rows] @ collapse
    eff = sp.csr_matrix(np.nan_to_num(effects[rows], nan=0.0, posinf=0.0, neginf=0.0))
    return unit_rows(sp.hstack([unit_rows(outgoing), unit_rows(eff)], format="csr"))


def units(
    graph: AttributionGraph,
    adjacency: sp.csr_matrix,
    rows: np.ndarray,
    effects: np.ndarray,
    split_below: float = SPLIT_BELOW,
) -> tuple[np.ndarray, int, int]:
    """(unit id per row of `rows`, number of units, number of features split into several units).

    Rows of one feature are one unit unless their roles disagree (cosine below `split_below`)."""
    fid = feature_ids(graph)[rows]
    order = np.argsort(fid, kind="stable")
    unit = np.empty(len(rows), dtype=np.int64)
    bounds = np.flatnonzero(np.diff(fid[order])) + 1
    next_id, split = 0, 0
    roles = None
    for block in np.split(order, bounds):
        if len(block) < 2:
            unit[block] = next_id
            next_id += 1
            continue
        if roles is None:
            roles = role_vectors(graph, adjacency, rows, effects)
        sub = roles[block]
        has = np.asarray(sub.getnnz(axis=1) > 0).ravel()
        labels = np.zeros(len(block), dtype=np.int64)
        if has.sum() >= 2:
            cos = np.clip((sub[has] @ sub[has].T).toarray(), -1.0, 1.0)
            dist = 1.0 - cos[np.triu_indices(int(has.sum()), k=1)]
            z = linkage(np.maximum(dist, 0.0), method="complete")
            parts = fcluster(z, t=1.0 - split_below, criterion="distance") - 1
            labels[has] = parts
            # a node without a role joins the part of the feature's first node with one
            labels[~has] = parts[0]
        k = int(labels.max()) + 1
        split += k > 1
        unit[block] = next_id + labels
        next_id += k
    return unit, next_id, split
