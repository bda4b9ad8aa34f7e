"""Bare attribution matrices (.npz / .pt): required and optional keys, inference of what is missing."""

from __future__ import annotations

import numpy as np
import pytest

from attrgraph_cli.errors import GraphFormatError
from attrgraph_cli.graph.dense import DenseGraph, dense_to_graph
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.io import detect_format, load_graph
from attrgraph_cli.io.matrix import matrix_to_dense
from attrgraph_testing.synthetic import random_dense

N_LAYERS, N_TOKENS, N_FEATURES, N_LOGITS = 4, 5, 60, 3


@pytest.fixture(scope="module")
def dense():
    return random_dense(
        n_layers=N_LAYERS, n_tokens=N_TOKENS, n_features=N_FEATURES, n_logits=N_LOGITS, seed=7
    )


def _full_keys(d) -> dict:
    return {
        "adjacency_matrix": d["adjacency"],
        "features": d["features"],
        "tokens": np.array([f" w{i}" for i in range(N_TOKENS)]),
        "token_ids": np.arange(10, 10 + N_TOKENS),
        "n_layers": np.array(N_LAYERS),
        "logit_tokens": np.array([" A", " B", " C"]),
        "logit_token_ids": np.array([900, 901, 902]),
        "logit_probabilities": d["logit_probabilities"],
        "activations": d["activations"],
    }


def _reference(d, **overrides):
    kwargs = dict(
        adjacency=d["adjacency"],
        features=d["features"],
        activations=d["activations"],
        token_ids=np.arange(10, 10 + N_TOKENS),
        token_strings=[f" w{i}" for i in range(N_TOKENS)],
        logit_token_ids=np.array([900, 901, 902]),
        logit_tokens=[" A", " B", " C"],
        logit_probabilities=d["logit_probabilities"],
        n_layers=N_LAYERS,
    )
    kwargs.update(overrides)
    return dense_to_graph(DenseGraph(**kwargs))


def test_npz_with_every_key(dense, tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **_full_keys(dense))
    assert detect_format(path) == "matrix-npz"
    graph = load_graph(path)
    ref = _reference(dense)
    assert graph.nodes.ids.tolist() == ref.nodes.ids.tolist()
    assert np.array_equal(graph.edges.weight, ref.edges.weight)
    assert graph.prompt_tokens == [f" w{i}" for i in range(N_TOKENS)]
    logits = graph.nodes.kind == NodeKind.LOGIT
    assert graph.nodes.logit_token[logits].tolist() == [" A", " B", " C"]
    assert graph.nodes.feature[logits].tolist() == [900, 901, 902]
    assert graph.metadata["info"]["inferred"] == []


def test_npz_with_only_the_two_required_keys(dense, tmp_path):
    path = tmp_path / "bare.npz"
    np.savez_compressed(path, adjacency_matrix=dense["adjacency"], features=dense["features"])
    graph = load_graph(path, node_threshold=0.9, edge_threshold=0.99)
    kinds = graph.nodes.kind
    assert (kinds == NodeKind.EMBEDDING).sum() == N_TOKENS  # positions from the features
    assert (kinds == NodeKind.LOGIT).sum() == N_LOGITS  # logits: what is left
    assert graph.n_layers == N_LAYERS
    assert set(graph.metadata["info"]["inferred"]) == {
        "tokens",
        "n_layers",
        "logit_probabilities",
        "activations",
    }
    probabilities = graph.nodes.logit_probability[kinds == NodeKind.LOGIT]
    assert np.allclose(probabilities, 1 / N_LOGITS)


def test_inference_uses_tokens_and_probabilities(dense):
    keys = {
        "adjacency_matrix": dense["adjacency"],
        "features": dense["features"],
        "tokens": np.array([f"t{i}" for i in range(N_TOKENS)]),
        "logit_probabilities": dense["logit_probabilities"],
    }
    d = matrix_to_dense(keys)
    assert (d.n_pos, d.n_layers, d.n_logits) == (N_TOKENS, N_LAYERS, N_LOGITS)
    keys = {
        "adjacency_matrix": dense["adjacency"],
        "features": dense["features"],
        "n_layers": N_LAYERS,
        "logit_probabilities": dense["logit_probabilities"],
    }
    d = matrix_to_dense(keys)
    assert (d.n_pos, d.n_layers, d.n_logits) == (N_TOKENS, N_LAYERS, N_LOGITS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"adjacency_matrix": np.zeros((5, 4))}, "must be square"),
        ({"features": np.zeros((3, 2), dtype=int)}, "F x 3"),
        ({"n_layers": 9}, "does not add up"),
        ({"tokens": np.array(["a", "b"])}, "feature positions must be in 0..1"),
        ({"logit_probabilities": np.ones(4)}, "does not add up"),
        ({"activations": np.ones(3)}, "activations"),
    ],
)
def test_shapes_that_do_not_add_up(dense, change, message):
    keys = {"adjacency_matrix": dense["adjacency"], "features": dense["features"], **change}
    with pytest.raises(GraphFormatError, match=message):
        dense_to_graph(matrix_to_dense(keys))


def test_npz_missing_required_key(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, adjacency_matrix=np.zeros((3, 3)))
    with pytest.raises(GraphFormatError, match="features"):
        detect_format(path)


def test_npz_with_object_arrays_is_refused(dense, tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(
        path,
        adjacency_matrix=dense["adjacency"],
        features=dense["features"],
        tokens=np.array([object()] * N_TOKENS, dtype=object),
    )
    with pytest.raises(GraphFormatError, match="Python objects"):
        load_graph(path)


@pytest.mark.trace
def test_matrix_pt(dense, tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "m.pt"
    keys = _full_keys(dense)
    torch.save(
        {
            "adjacency_matrix": torch.tensor(keys["adjacency_matrix"]),
            "features": torch.tensor(keys["features"]),
            "tokens": [str(t) for t in keys["tokens"]],
            "n_layers": N_LAYERS,
            "logit_tokens": [" A", " B", " C"],
            "logit_token_ids": torch.tensor([900, 901, 902]),
            "logit_probabilities": torch.tensor(keys["logit_probabilities"]),
            "activations": torch.tensor(keys["activations"]),
            "token_ids": torch.arange(10, 10 + N_TOKENS),
        },
        path,
    )
    assert detect_format(path) == "matrix-pt"
    graph = load_graph(path)
    ref = _reference(dense)
    assert graph.nodes.ids.tolist() == ref.nodes.ids.tolist()
    assert np.array_equal(graph.edges.weight, ref.edges.weight)
    assert np.allclose(graph.nodes.activation, ref.nodes.activation, equal_nan=True)
