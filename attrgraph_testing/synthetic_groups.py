"""Seeded graphs with planted supernodes: groups of features that read from and write to the same nodes.

Groups sit in stages (stage s uses layers 2s and 2s+1): stage-0 groups read from a few embeddings, each
later group from the members of its own group of the stage before, and the last stage's groups write
to the logits. Two groups often share a position and layers but not their inputs, so a grouping by
layer and position alone cannot tell them apart. Noise features with weak random links and one error
node per layer and position complete the graph. The planted group of every feature is returned.
"""

from __future__ import annotations

import numpy as np

from attrgraph_cli.graph import ids
from attrgraph_cli.graph.model import DEFAULT_FEATURE_TYPE, AttributionGraph, EdgeList, NodeKind, NodeTable


def planted_graph(
    *,
    n_stages: int = 3,
    groups_per_stage: int = 4,
    group_size: int = 5,
    n_tokens: int = 6,
    n_noise: int = 20,
    n_logits: int = 3,
    jitter: float = 0.3,
    seed: int = 0,
    labels: bool = False,
) -> tuple[AttributionGraph, np.ndarray]:
    """(graph, planted group id per node: -1 for noise features and non-features)."""
    rng = np.random.default_rng(seed)
    n_layers = 2 * n_stages
    last = n_tokens - 1
    feat_layer, feat_pos, feat_group = [], [], []
    group_pos = []
    for s in range(n_stages):
        positions = rng.choice(n_tokens, size=groups_per_stage, replace=True)
        if s == n_stages - 1:
            positions[:] = last
        for g in range(groups_per_stage):
            gid = s * groups_per_stage + g
            group_pos.append(int(positions[g]))
            for _ in range(group_size):
                feat_layer.append(2 * s + int(rng.integers(0, 2)))
                feat_pos.append(int(positions[g]))
                feat_group.append(gid)
    for _ in range(n_noise):
        feat_layer.append(int(rng.integers(0, n_layers)))
        feat_pos.append(int(rng.integers(0, n_tokens)))
        feat_group.append(-1)
    n_feat = len(feat_layer)
    n_err = n_layers * n_tokens
    n = n_feat + n_err + n_tokens + n_logits
    e0, t0, l0 = n_feat, n_feat + n_err, n_feat + n_err + n_tokens

    table = NodeTable.empty(n)
    table.kind = np.concatenate(
        [
            np.full(n_feat, NodeKind.FEATURE),
            np.full(n_err, NodeKind.ERROR),
            np.full(n_tokens, NodeKind.EMBEDDING),
            np.full(n_logits, NodeKind.LOGIT),
        ]
    ).astype(np.int8)
    err_layer, err_pos = np.divmod(np.arange(n_err), n_tokens)
    table.layer = np.concatenate(
        [feat_layer, err_layer, np.full(n_tokens, -1), np.full(n_logits, n_layers)]
    ).astype(np.int32)
    table.position = np.concatenate([feat_pos, err_pos, np.arange(n_tokens), np.full(n_logits, last)]).astype(
        np.int32
    )
    table.feature = np.concatenate(
        [np.arange(n_feat) + 100, np.full(n_err, -1), np.arange(n_tokens) + 10, np.arange(n_logits) + 500]
    ).astype(np.int64)
    table.activation[:n_feat] = rng.gamma(2.0, 2.0, n_feat)
    table.logit_probability[l0:] = np.sort(rng.dirichlet(np.ones(n_logits)))[::-1]
    tokens = [f" w{i}" for i in range(n_tokens)]
    node_ids, node_labels = [], []
    group = np.asarray(feat_group)
    for i in range(n):
        kind = NodeKind(int(table.kind[i]))
        lay, p, f = int(table.layer[i]), int(table.position[i]), int(table.feature[i])
        if kind == NodeKind.FEATURE:
            node_ids.append(ids.feature_id(lay, f, p))
            node_labels.append(f"concept{group[i]} place{group[i]}" if labels and group[i] >= 0 else "")
        elif kind == NodeKind.ERROR:
            node_ids.append(ids.error_id(lay, p))
            node_labels.append("")
        elif kind == NodeKind.EMBEDDING:
            node_ids.append(ids.embedding_id(f, p))
            node_labels.append(tokens[p])
        else:
            table.logit_token[i] = f" out{f}"
            node_ids.append(ids.logit_id(n_layers, f, p))
            node_labels.append(ids.logit_clerp(f" out{f}", float(table.logit_probability[i])))
        table.feature_type[i] = DEFAULT_FEATURE_TYPE[kind]
    table.ids = np.array(node_ids, dtype=object)
    table.label = np.array(node_labels, dtype=object)

    src, dst, wts = [], [], []

    def link(sources, targets, base: np.ndarray) -> None:
        for t in targets:
            for k, s in enumerate(sources):
                src.append(s)
                dst.append(t)
                wts.append(base[k] * (1.0 + jitter * rng.standard_normal()))

    members = [np.flatnonzero(group == g) for g in range(n_stages * groups_per_stage)]
    for s in range(n_stages):
        for g in range(groups_per_stage):
            gid = s * groups_per_stage + g
            if s == 0:
                sources = np.unique(np.concatenate([[t0 + group_pos[gid]], t0 + rng.choice(n_tokens, 2)]))
            else:
                sources = members[(s - 1) * groups_per_stage + g]  # each group its own feeder
            base = rng.choice([-1.0, 1.0], len(sources)) * rng.uniform(0.5, 2.0, len(sources))
            link(sources, members[gid], base)
            if s == n_stages - 1:
                outs = l0 + rng.choice(n_logits, size=min(2, n_logits), replace=False)
                out_w = rng.choice([-1.0, 1.0], len(outs)) * rng.uniform(0.5, 2.0, len(outs))
                for m in members[gid]:
                    for t, w in zip(outs, out_w, strict=True):
                        link([m], [t], np.array([w]))
    for i in range(n_feat):  # every feature gets a small input from its error node
        src.append(e0 + int(table.layer[i]) * n_tokens + int(table.position[i]))
        dst.append(i)
        wts.append(0.05 * rng.standard_normal())
    for i in np.flatnonzero(group < 0):  # noise: weak random links to later features / logits
        later = np.flatnonzero(
            (table.kind == NodeKind.FEATURE)
            & (table.layer > table.layer[i])
            & (table.position >= table.position[i])
        )
        for t in rng.choice(later, size=min(3, len(later)), replace=False) if len(later) else []:
            link([i], [t], np.array([0.1 * rng.standard_normal()]))
        link([t0 + int(table.position[i])], [i], np.array([0.3]))
    graph = AttributionGraph(
        nodes=table,
        edges=EdgeList.from_arrays(src, dst, wts),
        metadata={
            "slug": f"planted-{seed}",
            "scan": "synthetic",
            "prompt": "".join(tokens).strip(),
            "prompt_tokens": tokens,
            "schema_version": 1,
            "node_threshold": 0.8,
            "info": {"n_layers": n_layers},
        },
        qparams={"pinnedIds": [], "supernodes": [], "linkType": "both", "clickedId": "", "sg_pos": ""},
    )
    _cumulative_influence(graph)
    return graph, np.concatenate([group, np.full(n - n_feat, -1)])


def _cumulative_influence(graph: AttributionGraph) -> None:
    """`nodes.influence` as circuit-tracer's JSON has it: the cumulative share of influence on the logits
    up to and including the node, nodes ranked by influence (features and errors; the rest left NaN)."""
    from attrgraph_cli.cluster.influence import node_influence

    influence = node_influence(graph)
    inner = np.flatnonzero(np.isin(graph.nodes.kind, (NodeKind.FEATURE, NodeKind.ERROR)))
    order = inner[np.argsort(-influence[inner], kind="stable")]
    total = float(influence[inner].sum()) or 1.0
    graph.nodes.influence[order] = np.minimum(np.cumsum(influence[order]) / total, 1.0)
