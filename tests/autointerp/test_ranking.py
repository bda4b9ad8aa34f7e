"""A later `autointerp` run keeps labels of a higher-ranked source (ranking in autointerp/ranking.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attrgraph_cli.autointerp.ranking import rank
from attrgraph_cli.autointerp.targets import graph_targets
from attrgraph_cli.io import load_graph, save_graph
from attrgraph_testing.autointerp_fixtures import write_sources
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.synthetic import random_graph


@pytest.fixture()
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "g.json"
    graph = random_graph(n_links=300, seed=4)
    graph.nodes.label[graph.nodes.kind == 1] = ""
    save_graph(graph, path)
    return path


def run(*args: object) -> CliResult:
    return run_cli("autointerp", *map(str, args))


def features(path: Path) -> dict:
    return load_graph(path).extra["attrgraph"]["features"]


def test_the_ranking_is_person_import_llm_heuristic():
    assert rank("human") > rank("neuronpedia") == rank("table") == rank("graph") > rank("llm")
    assert rank("llm") > rank("heuristic") > rank("something else")


def test_heuristic_rerun_keeps_neuronpedia_labels_and_says_so(tmp_path, graph_file):
    keys = list(graph_targets(load_graph(graph_file)))
    sources = write_sources(tmp_path / "sources", keys)
    out = tmp_path / "out.json"
    first = run(graph_file, "-l", sources["neuronpedia"], "--source-set", "clt-hp", "-o", out)
    assert first.code == 0, first.stderr
    before = features(out)
    assert {v["source"] for v in before.values()} == {"neuronpedia"}
    # control: the same details on a graph without earlier labels give heuristic labels
    control = run(graph_file, "-l", sources["details"], "-o", tmp_path / "control.json")
    assert control.code == 0 and {v["source"] for v in features(tmp_path / "control.json").values()} == {
        "heuristic"
    }
    second = run(out, "-l", sources["details"], "-o", out)
    assert second.code == 0, second.stderr
    after = features(out)
    for key, entry in before.items():
        assert after[key]["label"] == entry["label"] and after[key]["source"] == "neuronpedia"
        assert after[key].get("details")  # the new details are still added
    assert f"kept {len(before)} neuronpedia label(s) from an earlier run" in second.stderr
    # --overwrite lets this run's labels replace them
    third = run(out, "-l", sources["details"], "-o", out, "--overwrite")
    assert third.code == 0, third.stderr
    assert {v["source"] for v in features(out).values()} == {"heuristic"}


def test_an_import_on_a_later_run_replaces_an_earlier_import(tmp_path, graph_file):
    keys = list(graph_targets(load_graph(graph_file)))
    sources = write_sources(tmp_path / "sources", keys)
    out = tmp_path / "out.json"
    assert run(graph_file, "-l", sources["table"], "-o", out).code == 0
    result = run(out, "-l", sources["neuronpedia"], "--source-set", "clt-hp", "-o", out)
    assert result.code == 0, result.stderr
    assert {v["source"] for v in features(out).values()} == {"neuronpedia"}
