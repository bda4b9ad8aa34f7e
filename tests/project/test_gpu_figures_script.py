"""`python -m benchmarks.gpu_figures`: refuses politely without CUDA, and at `--scale tiny` runs every part
(trace, intervene, dashboards, each beside its peer) on the CPU and writes its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from attrgraph_testing.paths import REPO

torch = pytest.importorskip("torch")
pytest.importorskip("circuit_tracer")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the full scale would run")
def test_full_scale_refuses_without_cuda(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_figures", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "gpu_figures: needs a CUDA GPU (torch sees none); `--scale tiny` runs a small model on the CPU to "
        "check the script"
    ]
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.trace
@pytest.mark.xdist_group("trace")
def test_tiny_scale_runs_every_part(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(  # as a user runs it (tests/ never imports benchmarks/: test_architecture.py)
        [sys.executable, "-m", "benchmarks.gpu_figures", "--scale", "tiny", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(out.read_text())
    assert figures["scale"] == "tiny" and figures["model"]["n_layers"] == 2
    assert figures["trace"]["ours_s"] > 0 and figures["trace"]["peer_s"] > 0 and figures["trace"]["links"] > 0
    assert [r["name"].split(", ")[-1] for r in figures["intervene"]] == ["frozen attention", "--direct"]
    assert all(r["ours_s"] > 0 and r["peer_s"] > 0 for r in figures["intervene"])
    dash = figures["dashboards"]
    assert dash["tokens"] >= 512 and dash["peer_s"] > 0 and dash["ours_s"] > 0
    assert json.loads(proc.stdout) == figures
