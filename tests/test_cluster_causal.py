"""Quality (c) on the embedded demo model: `cluster --causal` scales each supernode to -1x through
`intervene` and compares the measured change of the target logits with the graph's prediction."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.trace
pytest.importorskip("torch")
pytest.importorskip("circuit_tracer")

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=600,
    )


@pytest.fixture(scope="module")
def dallas(tmp_path_factory):
    folder = tmp_path_factory.mktemp("causal")
    done = _cli(
        "trace",
        "The capital of the state containing Dallas is",
        "-o",
        "d.json",
        "--device",
        "cpu",
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    return folder


def test_causal_check_on_the_demo_model(dallas):
    done = _cli("cluster", "d.json", "-o", "c.json", "--causal", "--device", "cpu", cwd=dallas)
    assert done.returncode == 0, done.stderr
    assert "causal: |measured effect|" in done.stdout
    data = json.loads((dallas / "c.json").read_text())
    record = data["attrgraph"]["supernodes"]
    summary = record["scores"]["causal"]
    assert summary["checked"] == len(record["groups"]) >= 1
    assert any(g["scores"]["layers"][0] == g["scores"]["layers"][1] for g in record["groups"])
    for group in record["groups"]:
        c = group["scores"]["causal"]
        layers = group["scores"]["layers"]
        if layers[0] == layers[1]:  # no member feeds another: the joint prediction is the members' sum
            assert c["predicted"] == pytest.approx(c["members_predicted_sum"], rel=1e-4, abs=1e-6)
        assert c["measured"] is not None and 0.0 <= c["members_agree"] <= 1.0
    # the control: supernodes of influential features move the targets more than random same-size sets
    assert summary["mean_abs_measured"] > summary["mean_abs_control"]
    assert _cli("validate", "c.json", cwd=dallas).returncode == 0


def test_without_causal_no_model_is_loaded(dallas):
    done = _cli("cluster", "d.json", "-o", "plain.json", cwd=dallas)
    assert done.returncode == 0, done.stderr
    assert (
        "causal" not in json.loads((dallas / "plain.json").read_text())["attrgraph"]["supernodes"]["scores"]
    )


def test_causal_without_a_recorded_model_is_one_line_and_writes_nothing(tmp_path):
    from attrgraph_cli.graph.synthetic_groups import planted_graph
    from attrgraph_cli.io import save_graph

    graph, _ = planted_graph(seed=0)
    save_graph(graph, tmp_path / "p.json")
    done = _cli("cluster", "p.json", "-o", "out.json", "--causal", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("attrgraph: error:") and "--model" in done.stderr
    assert not (tmp_path / "out.json").exists()
