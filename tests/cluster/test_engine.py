"""`attrgraph cluster`: planted groups recovered, beats the layer/position baseline, names, kept supernodes,
bad input (one line, exit 2, nothing written), determinism, every output valid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attrgraph_cli.cluster import ClusterOptions, cluster_graph
from attrgraph_cli.cluster.naming import fallback_name, propose, unique
from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.extension import supernode_set
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.io import load_graph, save_graph
from attrgraph_cli.validate.engine import validate_graph
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.synthetic import random_graph
from attrgraph_testing.synthetic_groups import planted_graph


def _errors(graph) -> list:
    return [p for p in validate_graph(graph) if p.severity == "error"]


def _purity(result, truth: np.ndarray) -> float:
    """Share of clustered features whose supernode's majority planted group is their own."""
    right = total = 0
    for s in result.new:
        groups = truth[s.rows]
        right += int(np.bincount(groups + 1).max())
        total += len(groups)
    return right / total


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_planted_groups_recovered_and_baseline_beaten(seed):
    graph, truth = planted_graph(seed=seed)
    result = cluster_graph(graph, ClusterOptions())
    assert len(result.new) >= 8
    assert _purity(result, truth) >= 0.8
    g = result.scores["grouping"]
    assert g["ours"]["groups"] == g["baseline"]["groups"] == len(result.new)
    for key in ("coupling_modularity", "within", "contrast"):
        assert g["ours"][key] > g["baseline"][key], key
    cov = result.scores["coverage"]
    # the supernodes (influential features) explain more than a random same-size set of features
    assert cov["supernodes"]["replacement"] > cov["random_control"]["replacement"]
    assert cov["all_features"]["replacement"] >= cov["supernodes"]["replacement"]
    assert not _errors(graph)


def test_a_layer_position_grouping_is_not_what_we_find():
    """Control: with the edge signals gone (weights 0) the planted groups are no longer recovered."""
    from attrgraph_cli.cluster.signals import SignalWeights

    graph, truth = planted_graph(seed=1)
    blind = ClusterOptions(weights=SignalWeights(edges=0.0, logits=0.0, label=0.0), max_distance=0.3)
    assert _purity(cluster_graph(graph, blind), truth) < 0.8
    graph, truth = planted_graph(seed=1)
    assert _purity(cluster_graph(graph, ClusterOptions()), truth) >= 0.8


def test_written_into_the_contract():
    graph, _ = planted_graph(seed=0)
    result = cluster_graph(graph, ClusterOptions(seed=3))
    names = [s[0] for s in graph.supernodes]
    assert names == [s.name for s in result.new] and len(set(names)) == len(names)
    record = supernode_set(graph)
    assert record["seed"] == 3 and record["settings"]["max_size"] == 10
    assert [g["name"] for g in record["groups"]] == names
    assert all(g["origin"] == "auto" for g in record["groups"])
    pinned = set(graph.qparams["pinnedIds"])
    assert not len(result.loose)  # influential features that fit no group are supernodes of their own
    cov = record["scores"]["coverage"]
    assert cov["supernodes"]["replacement"] <= cov["pinned_subgraph"]["replacement"] + 1e-12
    assert cov["random_control"]["pool"] == "candidates" and cov["random_control"]["size"] == sum(
        len(s.rows) for s in result.new
    )
    for _name, *members in graph.supernodes:
        assert 1 <= len(members) <= 10 and set(members) <= pinned
        kinds = {int(graph.nodes.kind[graph.index_of(m)]) for m in members}
        assert kinds == {NodeKind.FEATURE}


def test_influential_singletons_are_supernodes_or_pinned():
    """A candidate that fits no group becomes a one-feature supernode when its influence reaches the median
    grouped feature's (and only then); with `singletons` off it is pinned instead, and nothing else moves."""
    from attrgraph_cli.cluster.influence import node_influence

    graph, _ = planted_graph(seed=0)
    result = cluster_graph(graph, ClusterOptions())
    adjacency = graph.adjacency()
    adjacency.sum_duplicates()
    influence = node_influence(graph, adjacency)
    multi = [s for s in result.new if len(s.rows) > 1]
    single = [s for s in result.new if len(s.rows) == 1]
    assert single, "the planted graph has influential features that fit no group"
    floor = float(np.median(influence[np.concatenate([s.rows for s in multi])]))
    assert all(influence[s.rows[0]] >= floor for s in single)
    assert all(s.scores["mean_similarity"] is None and s.scores["size"] == 1 for s in single)
    off, _ = planted_graph(seed=0)
    plain = cluster_graph(off, ClusterOptions(singletons=False))
    assert [s.name for s in plain.new] == [s.name for s in multi]
    assert sorted(map(int, plain.loose)) == sorted(int(s.rows[0]) for s in single)
    assert set(map(str, off.nodes.ids[plain.loose])) <= set(off.qparams["pinnedIds"])
    assert not _errors(graph) and not _errors(off)


def test_deterministic_for_a_seed():
    runs = []
    for _ in range(2):
        graph, _ = planted_graph(seed=2)
        cluster_graph(graph, ClusterOptions(seed=7))
        runs.append(graph.supernodes)
    assert runs[0] == runs[1]


def test_max_size_and_layer_band_hold():
    graph, _ = planted_graph(seed=0, group_size=8)
    cluster_graph(graph, ClusterOptions(max_size=3, layer_band=0))
    for _name, *members in graph.supernodes:
        assert len(members) <= 3
        assert len({int(graph.nodes.layer[graph.index_of(m)]) for m in members}) == 1


def test_names_from_labels():
    graph, truth = planted_graph(seed=0, labels=True)
    result = cluster_graph(graph, ClusterOptions())
    named = [s for s in result.new if s.naming == "shared-word"]
    assert named
    for s in named:  # every word of the name comes from a planted group that is in the supernode
        words = s.name.split(" (")[0].split()
        assert words and {int(w.removeprefix("concept").removeprefix("place")) for w in words} <= set(
            truth[s.rows]
        )
    assert sum(s.name.startswith("concept") for s in named) >= 10


def test_naming_rules():
    layers, pos = np.array([1, 2, 3]), np.array([7, 7, 7])
    tokens = ["<bos>", "The", "capital", "of", "the", "state", "containing", " Dallas", " is"]
    assert propose(["say Austin", 'say "Austin"', "capital city"], layers, pos, tokens) == (
        "say Austin",
        "say-x",
    )
    autointerp = ["is → say Austin, Nashville, Salem", "is, of → say Austin, Texas", "of"]  # issue-11's form
    assert propose(autointerp, layers, pos, tokens) == ("say Austin", "say-x")
    assert propose(["essay writing", "essay prompts"], layers, pos, tokens) == ("essay", "shared-word")
    assert propose(["Texas", "Texas (state)", "Dallas"], layers, pos, tokens) == ("Texas", "shared-word")
    assert propose(["", ""], layers, pos, tokens) == ('L1–3 @ "Dallas"', "fallback")
    assert fallback_name(np.array([4]), np.array([1, 8]), tokens) == 'L4 @ "The", "is"'
    taken = {"Texas"}
    assert unique("Texas", taken) == "Texas (2)" and unique("Texas", taken) == "Texas (3)"
    hostile = propose(["say </script>\n<img onerror=x>"] * 2, layers, pos, tokens)[0]
    assert "\n" not in hostile and len(hostile) <= 60  # escaping is the renderers' job; one line here


def test_existing_supernodes_kept_and_replace():
    graph, _ = planted_graph(seed=0)
    feats = graph.nodes.ids[graph.nodes.kind == NodeKind.FEATURE].tolist()
    graph.qparams["supernodes"] = [["mine", feats[0], feats[1]]]
    result = cluster_graph(graph, ClusterOptions())
    assert graph.supernodes[0] == ["mine", feats[0], feats[1]]
    assert [s.name for s in result.kept] == ["mine"] and result.kept[0].origin == "human"
    assert all(feats[0] not in members for _n, *members in graph.supernodes[1:])
    again = cluster_graph(graph, ClusterOptions())  # a second run keeps everything and adds nothing new
    assert len(again.kept) == len(result.new) + 1
    assert {g["origin"] for g in supernode_set(graph)["groups"][1:]} == {"auto"}
    graph, _ = planted_graph(seed=0)
    graph.qparams["supernodes"] = [["mine", feats[0], feats[1]]]
    cluster_graph(graph, ClusterOptions(replace=True))
    assert "mine" not in [s[0] for s in graph.supernodes]


@pytest.mark.parametrize(
    "groups",
    [
        [{"name": "mine", "scores": "x", "origin": 3, "naming": ["a"]}],  # found by hand-fuzzing: crashed
        [{"name": ["unhashable"], "scores": {}}],
        7,
        "junk",
    ],
)
def test_hand_edited_supernode_metadata_is_dropped_not_trusted(groups):
    """A kept supernode's metadata of the wrong type (scores a string, a list as name) neither crashes
    cluster nor reaches the output: the supernode is kept as a person's, and the file stays valid."""
    graph, _ = planted_graph(seed=0)
    feats = graph.nodes.ids[graph.nodes.kind == NodeKind.FEATURE].tolist()
    graph.qparams["supernodes"] = [["mine", feats[0], feats[1]]]
    graph.extra.setdefault("attrgraph", {})["supernodes"] = {"groups": groups}
    result = cluster_graph(graph, ClusterOptions())
    kept = result.kept[0]
    assert (kept.name, kept.origin, kept.naming, kept.scores) == ("mine", "human", None, {})
    assert not _errors(graph)


def test_auto_name_colliding_with_a_kept_one_gets_a_suffix():
    graph, _ = planted_graph(seed=0)
    result = cluster_graph(graph, ClusterOptions())
    first = result.new[0].name
    graph2, _ = planted_graph(seed=0)
    feats = graph2.nodes.ids[graph2.nodes.kind == NodeKind.FEATURE].tolist()
    graph2.qparams["supernodes"] = [[first, feats[-1], feats[-2]]]
    names = [s.name for s in cluster_graph(graph2, ClusterOptions()).new]
    assert first not in names and f"{first} (2)" in names


def test_only_pinned():
    graph, _ = planted_graph(seed=0)
    feats = graph.nodes.ids[graph.nodes.kind == NodeKind.FEATURE].tolist()
    graph.qparams["pinnedIds"] = feats[:10]
    cluster_graph(graph, ClusterOptions(only_pinned=True))
    assert graph.supernodes and all(set(m) <= set(feats[:10]) for _n, *m in graph.supernodes)
    graph.qparams["pinnedIds"] = []
    with pytest.raises(AttrgraphError, match="no pinned feature"):
        cluster_graph(graph, ClusterOptions(only_pinned=True, replace=True))


def test_unlabelled_random_graph_and_validity():
    graph = random_graph(n_links=4000, seed=5, label="")
    result = cluster_graph(graph, ClusterOptions())
    assert result.new and all(s.naming == "fallback" for s in result.new)
    assert not _errors(graph)


# ---- the command line ----------------------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> CliResult:
    return run_cli(*args, fresh=True, cwd=cwd, timeout=120)


@pytest.fixture()
def planted_json(tmp_path) -> Path:
    graph, _ = planted_graph(seed=0)
    path = tmp_path / "planted.json"
    save_graph(graph, path)
    return path


def test_cli_writes_a_valid_graph_and_prints_the_table(planted_json, tmp_path):
    out = tmp_path / "out.json"
    done = _cli("cluster", str(planted_json), "-o", str(out), cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert "coupling_modularity" in done.stdout and "random same-size" in done.stdout
    data = json.loads(out.read_text())
    assert data["qParams"]["supernodes"]
    assert data["attrgraph"]["history"][-1]["stage"] == "cluster"
    assert "grouping" in data["attrgraph"]["supernodes"]["scores"]
    check = _cli("validate", str(out), cwd=tmp_path)
    assert check.code == 0, check.stdout + check.stderr
    graph = load_graph(out)
    assert graph.supernodes == [list(map(str, s)) for s in data["qParams"]["supernodes"]]


def _one_line_error(done: CliResult, text: str) -> None:
    assert done.code == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error:") and text in lines[0], done.stderr


def test_cli_bad_input(planted_json, tmp_path):
    out = tmp_path / "out.json"
    _one_line_error(
        _cli("cluster", str(planted_json), "-o", str(out), "--max-size", "0", cwd=tmp_path), "--max-size"
    )
    assert not out.exists()

    graph, _ = planted_graph(seed=0)
    no_features = graph.subgraph(graph.nodes.kind != NodeKind.FEATURE)
    path = tmp_path / "nofeat.json"
    save_graph(no_features, path)
    _one_line_error(_cli("cluster", str(path), "-o", str(out), cwd=tmp_path), "no feature nodes")

    cut = graph.subgraph(np.ones(len(graph.nodes), dtype=bool))  # features, but no path to the logits
    keep = cut.nodes.kind[cut.edges.target] != NodeKind.LOGIT
    cut.edges = cut.edges.take(keep)
    path = tmp_path / "floor.json"
    save_graph(cut, path)
    # no path to the logits: the true reason, not "below the influence floor" (issue 23)
    _one_line_error(_cli("cluster", str(path), "-o", str(out), cwd=tmp_path), "no feature has any influence")

    feats = graph.nodes.ids[graph.nodes.kind == NodeKind.FEATURE].tolist()
    graph.qparams["supernodes"] = [["Texas", feats[0]], ["Texas", feats[1]]]
    path = tmp_path / "dup.json"
    save_graph(graph, path)
    _one_line_error(_cli("cluster", str(path), "-o", str(out), cwd=tmp_path), "two supernodes named 'Texas'")
    graph.qparams["supernodes"] = {"Texas": [feats[0]]}
    save_graph(graph, path)
    _one_line_error(_cli("cluster", str(path), "-o", str(out), cwd=tmp_path), "qParams.supernodes must be")
    assert not out.exists()


def test_cli_in_place_failure_leaves_the_input(planted_json, tmp_path):
    before = planted_json.read_bytes()
    done = _cli("cluster", str(planted_json), "-o", str(planted_json), "--min-influence", "2", cwd=tmp_path)
    _one_line_error(done, "--min-influence")
    assert planted_json.read_bytes() == before


@pytest.mark.parametrize("value", ["0", "-0.5", "1.01", "nan"])
def test_cli_refuses_a_keep_influence_outside_0_to_1(planted_json, tmp_path, value):
    before = planted_json.read_bytes()
    path = str(planted_json)
    done = _cli("cluster", path, "-o", path, "--keep-influence", value, cwd=tmp_path)
    _one_line_error(done, "--keep-influence")
    assert planted_json.read_bytes() == before


def test_clt_forge_sample(clt_forge_pt, tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "clt.json"
    done = _cli("cluster", str(clt_forge_pt), "-o", str(out), cwd=tmp_path)
    assert done.code == 0, done.stderr
    graph = load_graph(out)
    assert graph.supernodes
    scores = supernode_set(graph)["scores"]["grouping"]
    assert scores["ours"]["contrast"] > scores["baseline"]["contrast"]


def test_a_feature_left_by_a_refused_merge_joins_the_group_it_fits():
    from attrgraph_cli.cluster.agglomerate import constrained_groups

    # a, b alike; c close to both but closest to d, whose merge with c breaks the layer band
    sim = np.array(
        [[1.0, 0.95, 0.6, 0.0], [0.95, 1.0, 0.6, 0.0], [0.6, 0.6, 1.0, 0.99], [0.0, 0.0, 0.99, 1.0]],
        dtype=np.float32,
    )
    layer = np.array([0, 0, 0, 5])
    groups = constrained_groups(sim, layer, max_size=10, max_distance=0.5, layer_band=1, seed=0)
    assert [g.tolist() for g in groups] == [[0, 1, 2]]
    # the same limits hold for the late join: no room, no join
    groups = constrained_groups(sim, layer, max_size=2, max_distance=0.5, layer_band=1, seed=0)
    assert [g.tolist() for g in groups] == [[0, 1]]
