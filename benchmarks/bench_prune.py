"""Pruning speed and memory, side by side with circuit-tracer's `prune_graph`; and CLI start-up time.

The graph: `random_dense()` defaults, N = 7,807 (26 layers, 11 positions, 7,500 features, 10 logits),
dense, saved once to .npy files. Each contender runs in its own fresh subprocess that loads those files
(circuit-tracer's Graph wraps the same numpy buffer with `torch.from_numpy`, no copy), imports what it
needs, then resets the kernel's peak-RSS mark (`/proc/self/clear_refs`) and prunes: peak memory is the
rise of VmHWM over the RSS before the call - everything the call allocates, numpy, PyTorch or BLAS,
its outputs included. Time is the best of `RUNS` calls in that process. The masks of both are compared.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RUNS = 3
NODE_THRESHOLD, EDGE_THRESHOLD = 0.8, 0.98
REPO = Path(__file__).resolve().parents[1]


def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _child(which: str, folder: str) -> None:
    """Run one contender on the saved graph; print a JSON line; save its masks."""
    src = Path(folder)
    adjacency = np.load(src / "adjacency.npy")
    probabilities = np.load(src / "logit_probabilities.npy")
    meta = json.loads((src / "meta.json").read_text())
    if which in ("ours", "ours-sparse"):
        from attrgraph_cli.graph.prune import prune_matrix

        if which == "ours-sparse":  # the caller's matrix is already sparse: convert before measuring
            import scipy.sparse

            adjacency = scipy.sparse.csr_array(adjacency)

        def call():
            r = prune_matrix(
                adjacency,
                n_features=meta["n_features"],
                n_tokens=meta["n_tokens"],
                logit_probabilities=probabilities,
                node_threshold=NODE_THRESHOLD,
                edge_threshold=EDGE_THRESHOLD,
            )
            edges = r.edge_mask.toarray() if hasattr(r.edge_mask, "toarray") else r.edge_mask
            return r.node_mask, edges
    else:
        import logging

        import torch
        from circuit_tracer.attribution.targets import LogitTarget
        from circuit_tracer.graph import Graph, prune_graph
        from transformer_lens import HookedTransformerConfig

        logging.disable(logging.WARNING)
        cfg = HookedTransformerConfig(
            n_layers=meta["n_layers"], d_model=8, n_ctx=64, d_head=4, d_vocab=1000, act_fn="relu"
        )
        graph = Graph(
            input_string="benchmark",
            input_tokens=torch.arange(meta["n_tokens"]),
            active_features=torch.zeros((meta["n_features"], 3), dtype=torch.long),
            adjacency_matrix=torch.from_numpy(adjacency),
            cfg=cfg,
            selected_features=torch.arange(meta["n_features"]),
            activation_values=torch.ones(meta["n_features"]),
            logit_targets=[LogitTarget(token_str=f" t{i}", vocab_idx=i) for i in range(len(probabilities))],
            logit_probabilities=torch.from_numpy(probabilities),
            scan="benchmark",
        )

        def call():
            r = prune_graph(graph, NODE_THRESHOLD, EDGE_THRESHOLD)
            return r.node_mask.numpy(), r.edge_mask.numpy()

    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _memory_kb("VmRSS")
    start = time.perf_counter()
    node_mask, edge_mask = call()
    times = [time.perf_counter() - start]
    peak = _memory_kb("VmHWM") - before
    np.savez(src / f"masks_{which}.npz", node=node_mask, edge=np.packbits(edge_mask))
    del node_mask, edge_mask
    for _ in range(RUNS - 1):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(json.dumps({"times": times, "peak_kb": peak}))


def _contend(which: str, folder: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_prune", which, folder],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _prune_row(density: float = 1.0) -> dict:
    from attrgraph_testing.synthetic import random_dense

    data = random_dense(seed=0, density=density)
    sparse = density < 1.0
    n = data["adjacency"].shape[0]
    with tempfile.TemporaryDirectory(prefix="attrgraph-bench-prune-") as folder:
        src = Path(folder)
        np.save(src / "adjacency.npy", data["adjacency"])
        np.save(src / "logit_probabilities.npy", data["logit_probabilities"])
        meta = {
            "n_features": len(data["features"]),
            "n_tokens": data["n_tokens"],
            "n_layers": data["n_layers"],
        }
        (src / "meta.json").write_text(json.dumps(meta))
        del data
        ours = _contend("ours-sparse" if sparse else "ours", folder)
        peer = _contend("circuit-tracer", folder)
        a = np.load(src / f"masks_{'ours-sparse' if sparse else 'ours'}.npz")
        b = np.load(src / "masks_circuit-tracer.npz")
        node_diff = int((a["node"] != b["node"]).sum())
        edge_diff = int(np.unpackbits(a["edge"] ^ b["edge"]).sum())
        kept_nodes = int(b["node"].sum())
        kept_edges = int(np.unpackbits(b["edge"]).sum())

    ours_s, peer_s = min(ours["times"]), min(peer["times"])
    ours_mb, peer_mb = ours["peak_kb"] / 1024, peer["peak_kb"] / 1024
    speed_ok = peer_s / ours_s >= 3
    memory_ok = ours_mb <= peer_mb / 2
    same = (
        "identical masks"
        if node_diff == edge_diff == 0
        else f"masks differ: {node_diff} nodes, {edge_diff} edges"
    )
    shape = f"{density:.0%} non-zero, scipy.sparse input (circuit-tracer: dense)" if sparse else "dense"
    note = (
        f"N={n} {shape}, thresholds {NODE_THRESHOLD}/{EDGE_THRESHOLD}; {same} "
        f"(circuit-tracer keeps {kept_nodes} nodes, {kept_edges} edges); "
        f"peak RSS rise {ours_mb:.0f} MB vs {peer_mb:.0f} MB ({ours_mb / peer_mb:.2f}x); "
        f"best of {RUNS} in a fresh process each; budget >=3x faster {'met' if speed_ok else 'MISSED'}, "
        f"<=1/2 memory {'met' if memory_ok else 'MISSED'}"
    )
    return {
        "name": f"prune {'sparse' if sparse else 'dense'} graph (7.8k nodes)",
        "ours_s": ours_s,
        "peer": "circuit_tracer.graph.prune_graph",
        "peer_s": peer_s,
        "ratio": peer_s / ours_s,
        "note": note,
        "ours_peak_mb": ours_mb,
        "peer_peak_mb": peer_mb,
        "node_mask_diff": node_diff,
        "edge_mask_diff": edge_diff,
    }


def _startup_seconds(command: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _startup_row() -> dict:
    bin_dir = Path(sys.executable).parent
    ours_cmd = [str(bin_dir / "attrgraph"), "--help"]
    if not Path(ours_cmd[0]).exists():
        ours_cmd = [sys.executable, "-m", "attrgraph_cli", "--help"]
    peer_cmd = [str(bin_dir / "circuit-tracer"), "--help"]
    ours_s = _startup_seconds(ours_cmd)
    row = {"name": "attrgraph --help start-up", "ours_s": ours_s, "peer": None, "peer_s": None, "ratio": None}
    if Path(peer_cmd[0]).exists():
        peer_s = _startup_seconds(peer_cmd, runs=3)
        row.update(peer="circuit-tracer --help", peer_s=peer_s, ratio=peer_s / ours_s)
    row["note"] = f"median of 5 runs; budget < 0.5 s {'met' if ours_s < 0.5 else 'MISSED'}"
    return row


def run() -> list[dict]:
    return [_prune_row(), _prune_row(density=0.05), _startup_row()]


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
