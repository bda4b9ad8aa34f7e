"""Graph formats: read / write a 1M-link graph JSON, and circuit-tracer Graph -> JSON, beside their peers.

Peers: the stdlib `json` module (parse / dump only, no model built: a floor for any pure-Python reader),
circuit-tracer's own pydantic `Model` (what its code validates graph JSON with), and circuit-tracer's
`create_graph_files` for the conversion of an unpruned Graph.
"""

from __future__ import annotations

import importlib
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from attrgraph_cli.io import load_graph, save_graph
from attrgraph_testing.synthetic import random_dense, random_graph


def _best(fn, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _row(name: str, ours: float, peer: str, peer_s: float | None, note: str) -> dict:
    return {
        "name": name,
        "ours_s": ours,
        "peer": peer,
        "peer_s": peer_s,
        "ratio": (peer_s / ours) if peer_s else None,
        "note": note,
    }


def run() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json"
        graph = random_graph(n_links=1_000_000, seed=0)
        size_note = f"{len(graph.nodes):,} nodes, {len(graph.edges):,} links"

        ours_write = _best(lambda: save_graph(graph, path))
        mb = path.stat().st_size / 2**20
        from attrgraph_cli.io.neuronpedia_json import graph_to_document

        doc = graph_to_document(graph)
        peer_write = _best(lambda: path.with_suffix(".std.json").write_text(json.dumps(doc)))
        rows.append(
            _row("write 1M-link JSON", ours_write, "json.dumps", peer_write, f"{size_note}, {mb:.0f} MiB")
        )

        ours_read = _best(lambda: load_graph(path))
        peer_read = _best(lambda: json.loads(path.read_bytes()))
        rows.append(
            _row("read 1M-link JSON -> model", ours_read, "json.loads (parse only)", peer_read, size_note)
        )
        try:
            graph_models = importlib.import_module("circuit_tracer.frontend.graph_models")
        except ImportError:
            graph_models = None
        if graph_models is not None:
            peer = _best(lambda: graph_models.Model.model_validate_json(path.read_bytes()), repeat=1)
            rows.append(
                _row("read 1M-link JSON -> model", ours_read, "circuit-tracer pydantic Model", peer, "")
            )
        rows.extend(_circuit_tracer_rows(Path(tmp)))
    return rows


def _circuit_tracer_rows(tmp: Path) -> list[dict]:
    """circuit-tracer Graph (N about 3,000, unpruned) -> pruned graph JSON, ours vs create_graph_files."""
    try:
        import torch
        from circuit_tracer.attribution.targets import LogitTarget
        from circuit_tracer.graph import Graph
        from transformer_lens import HookedTransformerConfig
    except ImportError:
        return []
    from attrgraph_cli.graph.dense import from_circuit_tracer_graph

    n_layers, n_tokens, n_features, n_logits = 26, 11, 2500, 10
    d = random_dense(n_layers=n_layers, n_tokens=n_tokens, n_features=n_features, n_logits=n_logits, seed=0)
    cfg = HookedTransformerConfig(
        n_layers=n_layers, d_model=8, n_ctx=32, d_head=4, n_heads=2, d_mlp=16, d_vocab=1000, act_fn="relu"
    )
    graph = Graph(
        input_string="x",
        input_tokens=torch.arange(n_tokens),
        active_features=torch.tensor(d["features"]),
        adjacency_matrix=torch.tensor(d["adjacency"]),
        cfg=cfg,
        selected_features=torch.arange(n_features),
        activation_values=torch.tensor(d["activations"]),
        logit_targets=[LogitTarget(f"t{k}", k) for k in range(n_logits)],
        logit_probabilities=torch.tensor(d["logit_probabilities"]),
        scan="bench",
    )
    n = d["adjacency"].shape[0]

    class _Tok:
        def decode(self, ids):
            return f"t{ids if isinstance(ids, int) else np.asarray(ids).ravel()[0]}"

    def ours() -> None:
        save_graph(from_circuit_tracer_graph(graph, tokenizer=_Tok(), slug="b"), tmp / "ours.json")

    module = importlib.import_module("circuit_tracer.utils.create_graph_files")

    class _Auto:
        @staticmethod
        def from_pretrained(name, **kwargs):
            return _Tok()

    original = module.AutoTokenizer
    module.AutoTokenizer = _Auto
    try:
        peer_s = _best(lambda: module.create_graph_files(graph, "peer", str(tmp)), repeat=1)
    finally:
        module.AutoTokenizer = original
    ours_s = _best(ours, repeat=1)
    links = len(json.loads((tmp / "ours.json").read_bytes())["links"])
    return [
        _row(
            "circuit-tracer Graph -> pruned JSON",
            ours_s,
            "circuit-tracer create_graph_files",
            peer_s,
            f"N={n:,} unpruned, {links:,} links kept (includes pruning)",
        )
    ]
