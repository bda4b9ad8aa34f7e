"""Every active transcoder feature of a prompt, with its influence: the pool matched controls draw from.

A pruned graph keeps only its most influential features, so controls drawn from its nodes cannot be matched
on layer, position and influence (on the demo graph, 12 features: the two layer-3 features at "is" have no
peers). This runs circuit-tracer's `attribute` on the prompt once more (the unpruned graph) and scores every
selected feature with circuit-tracer's node influence (logit probabilities as weights), the same definition
the graph's own influence uses. Needs torch and circuit-tracer; callers import it lazily.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attrgraph_cli.intervene.controls import Pool


def active_feature_pool(
    loaded: Any, prompt: str, *, max_feature_nodes: int | None = None, batch_size: int = 256
) -> Pool:
    """A `Pool` of the prompt's active features; `key` = (layer, position, feature)."""
    import torch
    from circuit_tracer import attribute
    from circuit_tracer.graph import compute_node_influence

    ids = loaded.model.ensure_tokenized(prompt)
    raw = attribute(
        ids, loaded.model, batch_size=batch_size, max_feature_nodes=max_feature_nodes, verbose=False
    )
    n_logits = len(raw.logit_targets)
    weights = torch.zeros(raw.adjacency_matrix.shape[0])
    weights[-n_logits:] = raw.logit_probabilities.float().cpu()
    influence = compute_node_influence(raw.adjacency_matrix.float().cpu(), weights)
    feats = raw.active_features[raw.selected_features].cpu().numpy()  # (layer, position, feature)
    n = len(feats)
    return Pool(
        feats[:, 0].astype(int),
        feats[:, 1].astype(int),
        influence[:n].numpy().astype(float),
        [(int(layer), int(pos), int(f)) for layer, pos, f in feats],
    )


def pool_index(pool: Pool) -> dict[tuple[int, int, int], int]:
    """(layer, position, feature) -> index in the pool."""
    return {key: i for i, key in enumerate(pool.key)}


def members_in_pool(
    pool: Pool,
    index: dict[tuple[int, int, int], int],
    sites: list[tuple[int, int, int]],
    fallback: np.ndarray,
) -> tuple[list[tuple[int, int, float]], list[int]]:
    """([(layer, position, influence)] for `sites`, their pool indices to exclude). A site the attribution
    did not select keeps its `fallback` influence (the graph's)."""
    members, exclude = [], []
    for (layer, pos, feat), inf in zip(sites, fallback, strict=True):
        i = index.get((layer, pos, feat))
        if i is not None:
            exclude.append(i)
        members.append((layer, pos, float(pool.influence[i]) if i is not None else float(inf)))
    return members, exclude
