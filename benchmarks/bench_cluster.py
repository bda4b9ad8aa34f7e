"""`attrgraph cluster`: our grouping against the layer/position baseline, coverage, and speed on 1M links.

Grouping rows (one per graph): `ours` / `peer` columns hold the grouping's profile contrast (mean
within-supernode minus mean between-supernode cosine of signed edge profiles) for our supernodes and for
the baseline (the same features in the same number of groups by layer band and position only); `ratio`
is ours / baseline (> 1: ours groups alike features better). The note has the coupling modularity, the
within-cosine and the coverage (replacement score of the supernodes' subgraph; a random same-size set of
candidates, i.e. features above the influence floor, and the whole graph beside it). Graphs: planted-group
synthetic graphs, a random graph (no structure: clustered with a permissive --max-distance so that there
is a grouping to compare), the demo model's graphs (traced here when torch is installed) and the CLT-Forge
sample.

Speed row: an 8,000-node, 1M-link random graph (`graph.synthetic.random_graph`), clustered in a fresh
process; ours_s is the best of 3 `cluster_graph` calls, peer is the 5 s budget (ratio = 5 s / ours), and
the note has tracemalloc's peak during the call against the graph's in-memory size, and the process's
peak RSS before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEMO_PROMPTS = [
    "The capital of the state containing Dallas is",
    "The capital of the country containing Lyon is",
    "The capital of the state containing Houston is",
    "The capital of the country containing Munich is",
]

SPEED = r"""
import json, resource, sys, time, tracemalloc
from attrgraph_cli.cluster import ClusterOptions, cluster_graph
from attrgraph_cli.graph.synthetic import random_graph
max_features = int(sys.argv[1])
graph = random_graph(n_links=1_000_000, seed=0)
size = sum(a.nbytes for a in (graph.edges.source, graph.edges.target, graph.edges.weight))
size += sum(getattr(graph.nodes, c).nbytes for c in graph.nodes.__dataclass_fields__)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
times = []
for k in range(3):
    if k == 2:
        tracemalloc.start()
    t0 = time.perf_counter()
    result = cluster_graph(graph, ClusterOptions(max_features=max_features, replace=True))
    times.append(time.perf_counter() - t0)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"s": min(times[:2]), "nodes": len(graph.nodes), "links": len(graph.edges), "bytes": size,
                  "peak": peak, "rss0": rss0, "rss1": rss1, "candidates": result.n_candidates,
                  "groups": len(result.new)}))
"""


def _grouping_row(name: str, graph, **options) -> dict:
    from attrgraph_cli.cluster import ClusterOptions, cluster_graph

    t0 = time.perf_counter()
    result = cluster_graph(graph, ClusterOptions(replace=True, **options))
    seconds = time.perf_counter() - t0
    g = result.scores.get("grouping")
    cov = result.scores["coverage"]
    if not g:
        return {
            "name": f"cluster grouping: {name}",
            "note": f"no supernode found ({result.n_candidates} candidates)",
        }
    ours, base = g["ours"], g["baseline"]
    control = cov.get("random_control", {})
    note = (
        f"{len(result.new)} supernodes ({sum(len(x.rows) == 1 for x in result.new)} of one feature), "
        f"{g['features']} of {result.n_candidates} candidates, {seconds:.2f} s; "
        f"coupling Q {ours['coupling_modularity']:.3f} vs {base['coupling_modularity']:.3f}; "
        f"within cos {ours['within']:.3f} vs {base['within']:.3f}; "
        f"coverage replacement {cov['supernodes']['replacement']:.3f} (random same-size set of candidates "
        f"{control.get('replacement', float('nan')):.3f}, "
        f"all features {cov['all_features']['replacement']:.3f}; "
        "same features so baseline = ours)"
    )
    return {
        "name": f"cluster grouping: {name}",
        "ours_s": ours["contrast"],
        "peer": f"layer/position baseline {base['contrast']:.3f}",
        "peer_s": base["contrast"],
        "ratio": g["ratio"]["contrast"],
        "note": "contrast (within - between cosine); " + note,
    }


def _demo_graphs(tmp: Path) -> list[tuple[str, Path]]:
    try:
        import torch  # noqa: F401
    except ImportError:
        return []
    prompts = tmp / "prompts.txt"
    prompts.write_text("\n".join(DEMO_PROMPTS) + "\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "attrgraph_cli", "trace", "--batch", str(prompts), "-o", str(tmp / "demo")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"trace failed: {done.stderr.strip()[-400:]}")
    return [
        (f"demo {p.stem[:40]}", p)
        for p in sorted((tmp / "demo").glob("*.json"))
        if p.name != "batch-report.json"
    ]


def _speed(max_features: int, label: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SPEED, str(max_features)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-400:])
    r = json.loads(done.stdout.strip().splitlines()[-1])
    mib = 1 << 20
    return {
        "name": f"cluster speed: {r['nodes']:,} nodes / {r['links']:,} links ({label})",
        "ours_s": r["s"],
        "peer": "budget 5 s",
        "peer_s": 5.0,
        "ratio": 5.0 / r["s"],
        "note": (
            f"{r['candidates']} candidates -> {r['groups']} supernodes; peak traced memory in the call "
            f"{r['peak'] / mib:.0f} MiB = {r['peak'] / r['bytes']:.1f}x the graph in memory "
            f"({r['bytes'] / mib:.0f} MiB); process peak RSS {r['rss0'] / mib:.0f} MiB after building the "
            f"graph, {r['rss1'] / mib:.0f} MiB after clustering"
        ),
    }


def run() -> list[dict]:
    from attrgraph_cli.graph.synthetic import random_graph
    from attrgraph_cli.graph.synthetic_groups import planted_graph
    from attrgraph_cli.io import load_graph

    rows = []
    for seed in range(3):
        rows.append(_grouping_row(f"planted groups seed {seed}", planted_graph(seed=seed)[0]))
    rows.append(
        _grouping_row(
            "planted, 8 groups/stage of 8", planted_graph(seed=5, groups_per_stage=8, group_size=8)[0]
        )
    )
    rows.append(
        _grouping_row(
            "random 55k links (max-distance 1.0)", random_graph(n_links=55_000, seed=1), max_distance=1.0
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in _demo_graphs(Path(tmp)):
            rows.append(_grouping_row(name, load_graph(path)))
    clt = SHARED / "data" / "clt-forge" / "preposition_of_50.attribution_graph.pt"
    if clt.exists():
        try:
            rows.append(_grouping_row("CLT-Forge sample", load_graph(clt)))
        except ImportError:
            pass
    rows.append(_speed(1000, "default --max-features 1000"))
    rows.append(_speed(100_000, "every feature above the floor"))
    return rows
