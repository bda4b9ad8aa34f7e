"""circuit-tracer `.pt` -> graph JSON as whole processes: `attrgraph convert` beside `create_graph_files`.

Both start a fresh Python, read the same unpruned `Graph.to_pt` file (N about 7.8k nodes, as a
gemma-2-2b graph with 7,500 features) and write pruned JSON at the same thresholds (node 0.8, edge
0.98), decoding token ids with the same cached tokenizer (the demo model's `tokenizer.json`, placed in
a private Hugging Face cache; both run offline). The ratio includes interpreter start and imports,
which is what a user waits for. Budget: ratio >= 3. `ATTRGRAPH_BENCH_PT_FEATURES` changes the size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOKENIZER_REPO = "attrgraph-bench/tokenizer"
_SNAPSHOT = "0" * 40


def _fake_hub(root: Path) -> Path:
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


def _write_graph(path: Path, n_features: int) -> int:
    """An unpruned circuit-tracer Graph saved with its own `to_pt`; returns N."""
    import torch
    from circuit_tracer.attribution.targets import LogitTarget
    from circuit_tracer.graph import Graph
    from transformer_lens import HookedTransformerConfig

    from attrgraph_cli.graph.synthetic import random_dense

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


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=1800)
    return time.perf_counter() - start


def run() -> list[dict]:
    try:
        import circuit_tracer  # noqa: F401
    except ImportError:
        return []
    n_features = int(os.environ.get("ATTRGRAPH_BENCH_PT_FEATURES", "7500"))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {
            **os.environ,
            "HF_HUB_CACHE": str(_fake_hub(tmp / "hub")),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        pt = tmp / "graph.pt"
        n = _write_graph(pt, n_features)
        ours = [sys.executable, "-m", "attrgraph_cli", "convert", str(pt), "-o", str(tmp / "ours.json")]
        peer = [
            sys.executable,
            "-c",
            "import sys; from circuit_tracer.utils.create_graph_files import create_graph_files; "
            "create_graph_files(sys.argv[1], 'peer', sys.argv[2], node_threshold=0.8, edge_threshold=0.98)",
            str(pt),
            str(tmp / "peer"),
        ]
        ours_s = _timed(ours, env)
        peer_s = _timed(peer, env)
        import orjson

        links = len(orjson.loads((tmp / "ours.json").read_bytes())["links"])
        peer_links = len(orjson.loads((tmp / "peer" / "peer.json").read_bytes())["links"])
    verdict = "ok" if peer_s / ours_s >= 3 else "BELOW the 3x budget"
    return [
        {
            "name": "circuit-tracer .pt -> JSON, whole process",
            "ours_s": ours_s,
            "peer": "circuit-tracer create_graph_files (python -c)",
            "peer_s": peer_s,
            "ratio": peer_s / ours_s,
            "note": f"N={n:,} unpruned; links kept: ours {links:,}, peer {peer_links:,}; "
            f"budget >= 3x: {verdict}",
        }
    ]
