"""`attrgraph validate` on a 1M-link graph JSON, side by side with python-jsonschema and Ajv (Node).

All three read the same file from disk and parse it inside the timed region:
- ours: `validate_bytes(file bytes)` — msgspec typed decode + every semantic check (no problems capped away);
- jsonschema: `orjson.loads(bytes)` then `list(Draft7Validator(schema).iter_errors(doc))` — schema only;
- Ajv 8 (draft-07, compiled once, compile time not counted): `JSON.parse(text)` then `validate(doc)`.
Peak RSS of each side is measured in its own child process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
N_LINKS = 1_000_000
GRAPH = CACHE / f"graph-{N_LINKS}-links.json"
NODE_DIR = HERE / "node"


def ensure_graph() -> Path:
    """The seeded 1M-link graph JSON (valid: no errors), written once with orjson and cached."""
    if not GRAPH.exists():
        import numpy as np
        import orjson

        from attrgraph_cli.io.atomic import atomic_write_bytes
        from attrgraph_cli.io.neuronpedia_json import graph_to_document
        from attrgraph_testing.synthetic import random_graph

        graph = random_graph(n_links=N_LINKS, seed=0)
        # random_graph can draw the same (layer, index, position) twice: keep one node per id
        _, first = np.unique(graph.nodes.ids.astype(str), return_index=True)
        keep = np.zeros(len(graph.nodes), dtype=bool)
        keep[first] = True
        graph = graph.subgraph(keep)
        graph.metadata["info"] = {"generator": {"name": "attrgraph synthetic"}}
        atomic_write_bytes(GRAPH, orjson.dumps(graph_to_document(graph)))
    return GRAPH


_OURS = """
import sys, time, json, resource
from pathlib import Path

def peak_rss_mb():
    # VmHWM belongs to this process's own address space; ru_maxrss would carry the parent's peak over exec
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
from attrgraph_cli.validate import validate_bytes
t1 = time.perf_counter()
data = Path(sys.argv[1]).read_bytes()
t2, c2 = time.perf_counter(), time.process_time()
r = validate_bytes(data, sys.argv[1])
t3, c3 = time.perf_counter(), time.process_time()
print(json.dumps({"seconds": t3 - t2, "cpu_s": c3 - c2, "errors": r.sink.n_errors, "fast": r.fast_path,
                  "rss_mb": peak_rss_mb()}))
"""

_JSONSCHEMA = """
import sys, time, json, resource
from pathlib import Path

def peak_rss_mb():
    # VmHWM belongs to this process's own address space; ru_maxrss would carry the parent's peak over exec
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
import orjson, jsonschema
schema = json.loads(Path(sys.argv[2]).read_text())
validator = jsonschema.Draft7Validator(schema)
data = Path(sys.argv[1]).read_bytes()
t0, c0 = time.perf_counter(), time.process_time()
errors = list(validator.iter_errors(orjson.loads(data)))
t1, c1 = time.perf_counter(), time.process_time()
print(json.dumps({"seconds": t1 - t0, "cpu_s": c1 - c0, "errors": len(errors),
                  "rss_mb": peak_rss_mb()}))
"""


def _child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"])


def _min_cpu(runs: list[dict]) -> float:
    return min(r["cpu_s"] for r in runs)


def _ajv(node: str, schema: str, path: Path) -> dict:
    script = NODE_DIR / "validate_ajv.js"
    out = subprocess.run([node, str(script), schema, str(path)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    result["seconds"] = result["parse_s"] + result["validate_s"]
    return result


def run(repeats: int = 5) -> list[dict]:
    """Ours and Ajv alternate (best of `repeats` each) so that both see the same machine load."""
    from attrgraph_cli.resources import resource_path

    path = ensure_graph()
    schema = str(resource_path("schemas", "neuronpedia-graph.schema.json"))
    size = f"{path.stat().st_size / 1e6:.0f} MB"
    node = shutil.which("node")
    has_ajv = node is not None and (NODE_DIR / "node_modules" / "ajv").is_dir()
    ours_runs, ajv_runs = [], []
    for _ in range(repeats):
        ours_runs.append(_child(_OURS, str(path)))
        if has_ajv:
            ajv_runs.append(_ajv(node, schema, path))
    ours = _best(ours_runs)
    assert ours["errors"] == 0 and ours["fast"], ours
    peer = _child(_JSONSCHEMA, str(path), schema)
    rows = [
        {
            "name": f"validate 1M-link graph JSON ({size})",
            "ours_s": ours["seconds"],
            "peer": "jsonschema Draft7 iter_errors (+orjson.loads)",
            "peer_s": peer["seconds"],
            "ratio": peer["seconds"] / ours["seconds"],
            "note": f"budget >=10x; CPU s ours {ours['cpu_s']:.2f}, peer {peer['cpu_s']:.1f}; "
            f"peak RSS ours {ours['rss_mb']:.0f} MB, peer {peer['rss_mb']:.0f} MB",
        }
    ]
    if has_ajv:
        ajv = _best(ajv_runs)
        rows.append(
            {
                "name": f"validate 1M-link graph JSON ({size})",
                "ours_s": ours["seconds"],
                "peer": "Ajv 8 draft-07 (JSON.parse + validate)",
                "peer_s": ajv["seconds"],
                "ratio": ajv["seconds"] / ours["seconds"],
                "note": f"budget >=1x; Ajv parse {ajv['parse_s']:.2f} s, validate {ajv['validate_s']:.2f} s; "
                f"CPU s ours {_min_cpu(ours_runs):.2f}, node {_min_cpu(ajv_runs):.2f} "
                f"(all threads); peak RSS ours {ours['rss_mb']:.0f} MB, node {ajv['peak_rss_mb']:.0f} MB",
            }
        )
    else:
        rows.append({"name": "validate vs Ajv", "peer": "Ajv", "note": "skipped: npm ci in benchmarks/node"})
    return rows + positions_rows(repeats)


# ------------------------------------------------------------------------------ positions (issue 15)
N_PROBLEMS = 20
BROKEN = CACHE / f"graph-{N_LINKS}-links-{N_PROBLEMS}-problems.json"

_POSITIONS = """
import json, sys, time
from pathlib import Path
from attrgraph_cli.validate.files import Options, validate_file
path, repeats = Path(sys.argv[1]), int(sys.argv[2])
validate_file(path, Options(positions=False))  # warm-up: schema decoders, imports
best = {True: float("inf"), False: float("inf")}
cpu = {True: float("inf"), False: float("inf")}
for i in range(repeats):  # alternate (ABBA), so that both see the same machine load and order
    for positions in ((False, True) if i % 2 == 0 else (True, False)):
        t0, c0 = time.perf_counter(), time.process_time()
        report = validate_file(path, Options(positions=positions))
        best[positions] = min(best[positions], time.perf_counter() - t0)
        cpu[positions] = min(cpu[positions], time.process_time() - c0)
        if positions:
            found = len(report.positions)
print(json.dumps({"on": best[True], "off": best[False], "cpu_on": cpu[True], "cpu_off": cpu[False],
                  "problems": len(report.sink.problems), "placed": found, "status": report.status}))
"""


def ensure_broken_graph() -> Path:
    """The 1M-link graph with the targets of 20 links spread over the file (the last one deepest) replaced
    by ids that are not nodes: 20 `links.endpoint` errors."""
    if not BROKEN.exists():
        import orjson

        from attrgraph_cli.io.atomic import atomic_write_bytes

        doc = orjson.loads(ensure_graph().read_bytes())
        links = doc["links"]
        for k in range(N_PROBLEMS):
            links[len(links) - 1 - k * (len(links) // N_PROBLEMS)]["target"] = f"no-such-node-{k}"
        atomic_write_bytes(BROKEN, orjson.dumps(doc))
    return BROKEN


def positions_rows(repeats: int = 5) -> list[dict]:
    """`validate_file` with positions on (the CLI's default) against the same call with them off."""
    rows = []
    for label, path in (("valid", ensure_graph()), (f"{N_PROBLEMS} problems", ensure_broken_graph())):
        r = _child(_POSITIONS, str(path), str(repeats))
        assert r["placed"] == r["problems"], r
        budget = "budget: ratio ~1 (nothing computed)" if label == "valid" else "budget: ratio >= 0.5 (<= 2x)"
        rows.append(
            {
                "name": f"validate 1M-link JSON, {label}: line/column positions",
                "ours_s": r["on"],
                "peer": "same run without positions",
                "peer_s": r["off"],
                "ratio": r["off"] / r["on"],
                "note": f"{budget}; {r['placed']} problems placed, +{r['on'] - r['off']:.2f} s; CPU s "
                f"{r['cpu_on']:.2f} vs {r['cpu_off']:.2f} (ratio {r['cpu_off'] / r['cpu_on']:.2f}); best of "
                f"{repeats}, alternating",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
