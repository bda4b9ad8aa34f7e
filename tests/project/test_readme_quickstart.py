"""The README's demo quick start, run as written (the block between `<!-- quickstart:demo -->` markers),
and the numbers the README quotes after it checked against what the run printed and wrote. Then the
example inputs of `examples/` on the graph it made."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from attrgraph_testing.paths import REPO

pytestmark = [pytest.mark.trace, pytest.mark.slow]
pytest.importorskip("circuit_tracer")

README = (REPO / "README.md").read_text()
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "120"}


def quickstart_commands() -> list[list[str]]:
    block = README.split("<!-- quickstart:demo -->")[1].split("<!-- /quickstart:demo -->")[0]
    (code,) = re.findall(r"```bash\n(.*?)```", block, re.S)
    lines = [line.split("  #")[0].strip() for line in code.splitlines()]
    return [shlex.split(line) for line in lines if line]


def quoted(pattern: str) -> tuple[str, ...]:
    """Values the README quotes after the quick start (fails when the sentence is gone)."""
    after = README.split("<!-- /quickstart:demo -->")[1].split("\n## ")[0]
    found = re.search(pattern, " ".join(after.split()))
    assert found, f"the README no longer says {pattern!r}"
    return found.groups()


def attrgraph(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    assert args[0] == "attrgraph"
    return subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", *args[1:]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=900,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("quickstart")
    outputs = []
    for args in quickstart_commands():
        done = attrgraph(args, folder)
        assert done.returncode == 0, f"{shlex.join(args)}: {done.stderr}"
        assert "Moving model to device" not in done.stdout  # library chatter stays off stdout
        outputs.append(done)
    return {"folder": folder, "outputs": outputs}


def test_the_quick_start_is_the_seven_stages():
    stages = [args[1] for args in quickstart_commands()]
    assert stages == ["trace", "validate", "autointerp", "cluster", "intervene", "render", "render"]


def test_the_numbers_the_readme_quotes(run):
    folder = run["folder"]
    graph = json.loads((folder / "dallas.json").read_text())
    trace = next(r for r in graph["attrgraph"]["history"] if r["stage"] == "trace")
    nodes, links = quoted(r"writes a graph of \*\*(\d+) nodes and (\d+) links\*\*")
    assert (int(nodes), int(links)) == (trace["details"]["nodes"], trace["details"]["links"])
    (valid,) = quoted(r"`validate` prints `(1 file checked: 1 valid)`")
    assert valid in run["outputs"][1].stdout
    labelled, total, score = quoted(r"labels \*\*(\d+) of (\d+) features\*\* \(mean label score ([\d.]+)\)")
    features = graph["attrgraph"]["features"]
    assert len(features) == int(labelled) == int(total)
    assert f"mean label score {score}" in run["outputs"][2].stderr
    (count,) = quoted(r"`cluster` finds \*\*(\d+) supernodes\*\*")
    names = quoted(r"supernodes\*\* — `([^`]+)`, `([^`]+)`, `([^`]+)`, `([^`]+)`")
    assert [s[0] for s in graph["qParams"]["supernodes"]] == list(names) and len(names) == int(count)
    before, after = quoted(r"p\(`Austin`\) from \*\*([\d.]+) to ([\d.]+)\*\*")
    (record,) = graph["attrgraph"]["interventions"]
    (target,) = [t for t in record["targets"] if t["token"] == "Austin"]
    assert (f"{target['p_before']:.2f}", f"{target['p_after']:.3f}") == (before, after), target
    for name in ("dallas.html", "dallas.pdf"):
        assert (folder / name).stat().st_size > 10_000


def test_the_example_inputs_work_on_the_quick_start_graph(run):
    folder = run["folder"]
    examples = REPO / "examples"
    plan = attrgraph(
        ["attrgraph", "intervene", "dallas.json", "--plan", str(examples / "plan.jsonl"), "-o", "plan.json"],
        folder,
    )
    assert plan.returncode == 0, plan.stderr
    records = json.loads((folder / "plan.json").read_text())["attrgraph"]["interventions"]
    assert len(records) == 1 + sum(1 for line in (examples / "plan.jsonl").read_text().splitlines() if line)
    labels = attrgraph(
        ["attrgraph", "autointerp", "dallas.json", "-l", str(examples / "labels.csv"), "--no-dashboards"]
        + ["-o", "labels.json"],
        folder,
    )
    assert labels.returncode == 0, labels.stderr
    assert "labels.csv (table): matched 3 of 12" in labels.stderr
    matrix = subprocess.run(
        [sys.executable, str(examples / "make_matrix.py"), "matrix.npz"], cwd=folder, capture_output=True
    )
    assert matrix.returncode == 0
    converted = attrgraph(["attrgraph", "convert", "matrix.npz", "-o", "matrix.json"], folder)
    assert converted.returncode == 0, converted.stderr
    assert attrgraph(["attrgraph", "validate", "matrix.json"], folder).returncode == 0


def test_the_batch_prompts_and_the_corpus_examples(run):
    folder = run["folder"]
    examples = REPO / "examples"
    prompts = str(examples / "prompts.jsonl")
    # --mkdir makes the batch's folder and its missing parent (refused without: test_trace_output_folder)
    batch = attrgraph(["attrgraph", "trace", "--batch", prompts, "-o", "new/graphs", "--mkdir", "-q"], folder)
    assert batch.returncode == 0, batch.stderr
    lines = [json.loads(line) for line in (examples / "prompts.jsonl").read_text().splitlines() if line]
    written = sorted(p.stem for p in (folder / "new" / "graphs").glob("*.json") if p.stem != "batch-report")
    assert len(written) == len(lines) and {line["slug"] for line in lines if "slug" in line} <= set(written)
    corpus = attrgraph(
        [
            "attrgraph",
            "autointerp",
            "dallas.json",
            "--corpus",
            str(examples / "corpus.jsonl"),
            "-o",
            "c.json",
            "-q",
        ],
        folder,
    )
    assert corpus.returncode == 0, corpus.stderr
    assert "of the corpus.jsonl" in corpus.stderr and "12 of 12 features labelled" in corpus.stderr


def test_cluster_causal_on_the_clustered_quick_start_graph(run):
    """`cluster --causal` on a file whose supernodes are all kept checks the kept ones (it did nothing)."""
    folder = run["folder"]
    first = json.loads((folder / "dallas.json").read_text())["attrgraph"]["supernodes"]
    assert "causal" not in first["scores"]  # control: the quick start's plain cluster run checks nothing
    done = attrgraph(["attrgraph", "cluster", "dallas.json", "-o", "causal.json", "--causal"], folder)
    assert done.returncode == 0, done.stderr
    record = json.loads((folder / "causal.json").read_text())["attrgraph"]["supernodes"]
    summary = record["scores"]["causal"]
    assert summary["supernodes"] == "kept" and summary["checked"] == len(record["groups"]) >= 1
    assert all(g["scores"]["causal"]["measured"] is not None for g in record["groups"])
    assert f"causal check (x-1) on the {summary['checked']} kept supernode(s)" in done.stderr
    assert "Moving model to device" not in done.stdout
