"""The cheap per-intervention work taken off the loop gives the same results as before (issue 28).

- `--direct` predictions read from the targets' dense rows of the per-unit adjacency equal the sparse
  product over every node (`predict(direct=True)`) at those rows;
- `decode_token` (cached per tokenizer) spells a token exactly as `tokenizer.decode([id])`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import attrgraph_cli
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.intervene import predict as predict_mod
from attrgraph_cli.intervene.records import decode_token, top_tokens
from attrgraph_testing.synthetic import random_graph


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_direct_prediction_on_target_rows_equals_the_full_product(seed: int) -> None:
    graph = random_graph(n_links=3_000, seed=seed)
    nodes = graph.nodes
    adjacency = predict_mod.per_unit_adjacency(graph)
    rows = predict_mod.logit_rows(graph).tolist()
    features = np.flatnonzero(nodes.kind == NodeKind.FEATURE)
    rng = np.random.default_rng(seed)
    dense = predict_mod.target_adjacency(adjacency, rows)
    for size in (0, 1, 5, 40):
        picked = rng.choice(features, size=size, replace=False)
        changes = {int(r): float(rng.normal()) for r in picked}
        full = predict_mod.predict(graph, changes, direct=True, adjacency=adjacency)
        fast = predict_mod.predict_direct(dense, changes)
        np.testing.assert_allclose(fast, full[rows], rtol=1e-12, atol=1e-12)
        if size:
            assert np.abs(full[rows]).max() > 0  # a control: the changes reach the logits


def test_decode_token_matches_the_tokenizer() -> None:
    transformers = pytest.importorskip("transformers")
    path = Path(attrgraph_cli.__file__).parent / "demo_model" / "weights" / "tokenizer.json"
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_file=str(path))
    for vid in range(tokenizer.vocab_size):
        assert decode_token(tokenizer, vid) == tokenizer.decode([vid])
        assert decode_token(tokenizer, vid) == tokenizer.decode([vid])  # from the cache
    logits = np.random.default_rng(0).normal(size=tokenizer.vocab_size)
    top = top_tokens(tokenizer, logits, 10)
    order = np.argsort(-logits, kind="stable")[:10]
    assert [t for t, _ in top] == [tokenizer.decode([int(i)]) for i in order]


@pytest.mark.parametrize("seed", [0, 1])
def test_path_sum_on_the_dense_copy_equals_the_sparse_one(seed: int) -> None:
    graph = random_graph(n_links=3_000, seed=seed)
    adjacency = predict_mod.per_unit_adjacency(graph)
    dense = predict_mod.dense_adjacency(adjacency)
    assert dense is not None and dense.shape == adjacency.shape
    features = np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)
    rows = predict_mod.logit_rows(graph)
    rng = np.random.default_rng(seed)
    for size in (1, 3, 25):
        changes = {int(r): float(rng.normal()) for r in rng.choice(features, size=size, replace=False)}
        sparse_sum = predict_mod.predict(graph, changes, direct=False, adjacency=adjacency)
        dense_sum = predict_mod.predict(graph, changes, direct=False, adjacency=dense)
        np.testing.assert_allclose(dense_sum, sparse_sum, rtol=1e-10, atol=1e-12)
        assert np.abs(sparse_sum[rows]).max() > 0


def test_large_graphs_keep_the_sparse_matrix() -> None:
    from scipy.sparse import csr_matrix

    big = csr_matrix((predict_mod.DENSE_NODES + 1, predict_mod.DENSE_NODES + 1))
    assert predict_mod.dense_adjacency(big) is None
