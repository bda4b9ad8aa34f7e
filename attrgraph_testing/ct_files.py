"""circuit-tracer `Graph` objects and `.pt` files from seeded random matrices, and an offline tokenizer cache.

Needs the trace extra (torch, circuit-tracer, transformer_lens); imported lazily inside each function.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

TOKENIZER_REPO = "attrgraph-bench/tokenizer"

_SNAPSHOT = "0" * 40


def circuit_tracer_graph(data: dict):
    """A real circuit_tracer Graph built from `random_dense` arrays (no model needed)."""
    import torch
    from circuit_tracer.attribution.targets import LogitTarget
    from circuit_tracer.graph import Graph
    from transformer_lens import HookedTransformerConfig

    n_tokens = data["n_tokens"]
    probabilities = data["logit_probabilities"]
    cfg = HookedTransformerConfig(
        n_layers=data["n_layers"], d_model=8, n_ctx=64, d_head=4, d_vocab=1000, act_fn="relu"
    )
    logging.getLogger("circuit_tracer.graph").setLevel(logging.ERROR)  # "no scan" warning
    return Graph(
        input_string="synthetic",
        input_tokens=torch.arange(n_tokens),
        active_features=torch.from_numpy(data["features"]),
        adjacency_matrix=torch.from_numpy(data["adjacency"]),
        cfg=cfg,
        selected_features=torch.arange(len(data["features"])),
        activation_values=torch.from_numpy(data["activations"]),
        logit_targets=[LogitTarget(token_str=f" t{i}", vocab_idx=i) for i in range(len(probabilities))],
        logit_probabilities=torch.from_numpy(probabilities),
        scan="synthetic",
    )


def fake_hub(root: Path) -> Path:
    """A Hugging Face cache holding the demo tokenizer as repo `TOKENIZER_REPO` (offline, no download)."""
    from attrgraph_cli.demo_model.loader import WEIGHTS_DIR

    repo = root / ("models--" + TOKENIZER_REPO.replace("/", "--"))
    snapshot = repo / "snapshots" / _SNAPSHOT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(_SNAPSHOT)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(WEIGHTS_DIR / name, snapshot / name)
    return root


def write_ct_pt(path: Path, n_features: int) -> int:
    """An unpruned circuit-tracer Graph saved with its own `to_pt`; returns N."""
    import torch
    from circuit_tracer.attribution.targets import LogitTarget
    from circuit_tracer.graph import Graph
    from transformer_lens import HookedTransformerConfig

    from attrgraph_testing.synthetic import random_dense

    n_layers, n_tokens, n_logits = 26, 11, 10
    d = random_dense(n_layers=n_layers, n_tokens=n_tokens, n_features=n_features, n_logits=n_logits, seed=0)
    cfg = HookedTransformerConfig(
        n_layers=n_layers, d_model=8, n_ctx=32, d_head=4, n_heads=2, d_mlp=16, d_vocab=282, act_fn="relu"
    )
    cfg.tokenizer_name = TOKENIZER_REPO
    graph = Graph(
        input_string="x",
        input_tokens=torch.arange(3, 3 + n_tokens),
        active_features=torch.tensor(d["features"]),
        adjacency_matrix=torch.tensor(d["adjacency"]),
        cfg=cfg,
        selected_features=torch.arange(n_features),
        activation_values=torch.tensor(d["activations"]),
        logit_targets=[LogitTarget(f"t{k}", 3 + k) for k in range(n_logits)],
        logit_probabilities=torch.tensor(d["logit_probabilities"]),
        scan="bench",
    )
    graph.to_pt(str(path))
    return int(d["adjacency"].shape[0])
