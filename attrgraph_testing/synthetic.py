"""Seeded random graphs shaped like circuit-tracer's output, of any size, for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from attrgraph_cli.graph import ids
from attrgraph_cli.graph.model import DEFAULT_FEATURE_TYPE, AttributionGraph, EdgeList, NodeKind, NodeTable


def random_dense(
    *,
    n_layers: int = 26,
    n_tokens: int = 11,
    n_features: int = 7500,
    n_logits: int = 10,
    density: float = 1.0,
    seed: int = 0,
) -> dict:
    """An unpruned graph in circuit-tracer's node order, as plain numpy arrays.

    Keys: `adjacency` (N x N float32, rows = target), `features` (F x 3: layer, pos, feature index),
    `activations`, `logit_probabilities`, `n_layers`, `n_tokens`. Edges respect causality (sources in
    earlier layers and not later positions), as a real attribution graph does; `density` < 1 zeroes a
    random share of them.
    """
    rng = np.random.default_rng(seed)
    layer = rng.integers(0, n_layers, n_features)
    pos = rng.integers(0, n_tokens, n_features)
    index = rng.integers(0, 16384, n_features)
    features = np.stack([layer, pos, index], axis=1).astype(np.int64)

    err_layer, err_pos = np.divmod(np.arange(n_layers * n_tokens), n_tokens)
    tok_pos = np.arange(n_tokens)
    # "depth" of each node for causality: embeddings -1, features/errors their layer, logits n_layers
    depth = np.concatenate([layer, err_layer, np.full(n_tokens, -1), np.full(n_logits, n_layers)])
    position = np.concatenate([pos, err_pos, tok_pos, np.full(n_logits, n_tokens - 1)])
    n = len(depth)
    allowed = (depth[None, :] < depth[:, None]) & (position[None, :] <= position[:, None])
    adjacency = rng.standard_normal((n, n), dtype=np.float32) * rng.exponential(1.0, (n, 1)).astype(
        np.float32
    )
    adjacency *= allowed
    if density < 1.0:
        adjacency *= rng.random((n, n), dtype=np.float32) < density
    probabilities = np.sort(rng.dirichlet(np.ones(n_logits)))[::-1].astype(np.float32)
    return {
        "adjacency": adjacency,
        "features": features,
        "activations": rng.gamma(2.0, 2.0, n_features).astype(np.float32),
        "logit_probabilities": probabilities,
        "n_layers": n_layers,
        "n_tokens": n_tokens,
    }


def random_graph(
    *,
    n_links: int = 55_000,
    n_nodes: int | None = None,
    n_layers: int = 26,
    n_tokens: int = 11,
    n_logits: int = 10,
    n_errors: int | None = None,
    seed: int = 0,
    label: str = "feature {i}",
) -> AttributionGraph:
    """A pruned-looking graph with about `n_links` edges, directly (no dense matrix).

    Node count defaults to what Neuronpedia-sized graphs have for that many links (about 1.3k nodes for
    55k links, 8k for 1M). Every link goes from a lower row to a higher one or within a layer's
    neighbourhood, so layouts look like real graphs.
    """
    rng = np.random.default_rng(seed)
    if n_nodes is None:
        n_nodes = int(max(40, 1313 * (n_links / 55_000) ** 0.63))
    n_err = n_errors if n_errors is not None else max(n_nodes // 12, 1)
    n_feat = max(n_nodes - n_err - n_tokens - n_logits, 1)
    n_err = min(n_err, n_layers * n_tokens)

    # distinct (layer, position, feature index) triples, so node ids are unique
    cells = rng.choice(n_layers * n_tokens * 16384, n_feat, replace=False)
    f_layer, rest = np.divmod(cells, n_tokens * 16384)
    f_pos, f_index = np.divmod(rest, 16384)
    err_cells = rng.choice(n_layers * n_tokens, n_err, replace=False)
    e_layer, e_pos = np.divmod(err_cells, n_tokens)
    vocab = rng.choice(50_000, n_tokens + n_logits, replace=False)

    n = n_feat + n_err + n_tokens + n_logits
    table = NodeTable.empty(n)
    kinds = np.concatenate(
        [
            np.full(n_feat, NodeKind.FEATURE),
            np.full(n_err, NodeKind.ERROR),
            np.full(n_tokens, NodeKind.EMBEDDING),
            np.full(n_logits, NodeKind.LOGIT),
        ]
    ).astype(np.int8)
    table.kind = kinds
    table.layer = np.concatenate(
        [f_layer, e_layer, np.full(n_tokens, -1), np.full(n_logits, n_layers + 1)]
    ).astype(np.int32)
    table.position = np.concatenate(
        [f_pos, e_pos, np.arange(n_tokens), np.full(n_logits, n_tokens - 1)]
    ).astype(np.int32)
    table.feature = np.concatenate([f_index, np.full(n_err, -1), vocab]).astype(np.int64)
    probabilities = np.sort(rng.dirichlet(np.ones(n_logits)))[::-1]
    table.logit_probability[n - n_logits :] = probabilities
    table.activation[:n_feat] = rng.gamma(2.0, 2.0, n_feat)
    table.influence[:] = np.sort(rng.random(n))
    table.influence[n - n_tokens - n_logits :] = np.nan
    node_ids = []
    labels = []
    for i in range(n):
        kind = NodeKind(int(kinds[i]))
        lay, p, f = int(table.layer[i]), int(table.position[i]), int(table.feature[i])
        if kind == NodeKind.FEATURE:
            node_ids.append(ids.feature_id(lay, f, p))
            labels.append(label.format(i=i, layer=lay, feature=f))
        elif kind == NodeKind.ERROR:
            node_ids.append(ids.error_id(lay, p))
            labels.append("")
        elif kind == NodeKind.EMBEDDING:
            node_ids.append(ids.embedding_id(f, p))
            labels.append("")
        else:
            token = f" tok{f}"
            table.logit_token[i] = token
            node_ids.append(ids.logit_id(n_layers, f, p))
            labels.append(ids.logit_clerp(token, float(table.logit_probability[i])))
        table.feature_type[i] = DEFAULT_FEATURE_TYPE[kind]
    table.ids = np.array(node_ids, dtype=object)
    table.label = np.array(labels, dtype=object)

    # links: sample (source, target) pairs with depth(source) < depth(target), unique
    depth = np.where(
        kinds == NodeKind.EMBEDDING, -1, np.where(kinds == NodeKind.LOGIT, n_layers, table.layer)
    )
    order = np.argsort(depth, kind="stable")
    sorted_depth = depth[order]
    want = min(n_links, n * (n - 1) // 2)
    pairs = np.empty(0, dtype=np.int64)
    while len(pairs) < want:
        batch = int((want - len(pairs)) * 1.3) + 16
        tgt = order[rng.integers(0, n, batch)]
        # sources strictly shallower than the target
        limit = np.searchsorted(sorted_depth, depth[tgt], side="left")
        ok = limit > 0
        src = order[(rng.random(batch) * limit).astype(np.int64)]
        key = src[ok].astype(np.int64) * n + tgt[ok]
        pairs = np.unique(np.concatenate([pairs, key]))
    pairs = rng.permutation(pairs)[:want]
    src, tgt = np.divmod(pairs, n)
    weights = rng.standard_normal(len(src)) * rng.exponential(1.0, len(src))

    graph = AttributionGraph(
        nodes=table,
        edges=EdgeList.from_arrays(src, tgt, weights),
        metadata={
            "slug": f"random-{seed}",
            "scan": "synthetic",
            "prompt": " ".join(f"tok{v}" for v in vocab[:n_tokens]),
            "prompt_tokens": [f" tok{v}" for v in vocab[:n_tokens]],
            "schema_version": 1,
            "node_threshold": 0.8,
        },
        qparams={"pinnedIds": [], "supernodes": [], "linkType": "both", "clickedId": "", "sg_pos": ""},
    )
    # embeddings: ids use their vocab ids; labels show the token text like circuit-tracer's viewer
    return graph
