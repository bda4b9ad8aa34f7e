"""`attrgraph intervene` without a model: spec parsing and resolution, the graph's predictions, plan files,
bad input (one line, exit 2, nothing written, torch never imported), CLT-Forge sweeps as records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attrgraph_cli.intervene.api import ablate, predicted_delta, scale, set_value
from attrgraph_cli.intervene.plan import read_plan
from attrgraph_cli.intervene.predict import node_influence, predict
from attrgraph_cli.intervene.spec import (
    Resolver,
    SpecError,
    SweepSpec,
    parse_ablate,
    parse_scale,
    parse_set,
    parse_sweep,
)
from attrgraph_cli.io import load_graph
from attrgraph_testing.cli import run_cli
from attrgraph_testing.paths import REPO


def _node(nid, ftype, layer, pos, feature, act=None, clerp="", prob=0.0):
    return {
        "node_id": nid,
        "feature": feature,
        "layer": layer,
        "ctx_idx": pos,
        "feature_type": ftype,
        "token_prob": prob,
        "is_target_logit": ftype == "logit",
        "clerp": clerp,
        "influence": None,
        "activation": act,
    }


def small_graph_doc(scan: str = "tiny-test") -> dict:
    """f1 = 0_5_1 (a=2) -> f2 = 1_7_2 (a=4) -> logit; f1 -> logit; an error and a token node feed in."""
    from attrgraph_cli.graph.ids import cantor_pair

    tc = "cross layer transcoder"
    return {
        "metadata": {
            "slug": "small",
            "scan": scan,
            "prompt": "a b c",
            "prompt_tokens": ["<bos>", "a", "b"],
            "schema_version": 1,
        },
        "qParams": {"pinnedIds": [], "supernodes": [["Pair", "0_5_1", "1_7_2"]], "linkType": "both"},
        "nodes": [
            _node("E_2_1", "embedding", "E", 1, 2),
            _node("0_5_1", tc, "0", 1, cantor_pair(0, 5), 2.0),
            _node("1_7_2", tc, "1", 2, cantor_pair(1, 7), 4.0),
            _node("0_1_2", "mlp reconstruction error", "1", 2, -1),
            _node("3_9_2", "logit", "3", 2, 9, clerp='Output " x" (p=0.800)', prob=0.8),
        ],
        "links": [
            {"source": "E_2_1", "target": "0_5_1", "weight": 1.0},
            {"source": "0_5_1", "target": "1_7_2", "weight": 3.0},
            {"source": "0_5_1", "target": "3_9_2", "weight": 1.0},
            {"source": "1_7_2", "target": "3_9_2", "weight": 2.0},
            {"source": "0_1_2", "target": "3_9_2", "weight": 0.5},
        ],
    }


@pytest.fixture
def graph_path(tmp_path) -> Path:
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small_graph_doc()))
    return path


@pytest.fixture
def graph(graph_path):
    return load_graph(graph_path)


# ---- parsing ------------------------------------------------------------------------------------------
def test_parse_set_value_and_multiple():
    s = parse_set("20_15589_10=0")
    assert (s.op, s.target, s.value, s.multiple) == ("set", "20_15589_10", 0.0, None)
    m = parse_set("16_25_9=*-2")
    assert (m.op, m.target, m.value, m.multiple) == ("scale", "16_25_9", None, -2.0)
    assert parse_scale("Texas=*-1").multiple == -1.0 == parse_scale("Texas=-1").multiple
    assert parse_ablate("Texas").value == 0.0


@pytest.mark.parametrize("text", ["x=abc", "x=nan", "x=inf", "x=", "=3", "x"])
def test_parse_set_rejects_non_numbers(text):
    with pytest.raises(SpecError) as err:
        parse_set(text)
    assert "\n" not in str(err.value)


def test_parse_sweep_includes_stop_and_caps_length():
    sw = parse_sweep("0_5_1=-2:2:0.5")
    assert sw.parameter == "value" and sw.values == (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)
    assert parse_sweep("Pair=*1:-1:-1").values == (1.0, 0.0, -1.0)
    assert parse_sweep("Pair=*1:-1:-1").parameter == "multiple"
    with pytest.raises(SpecError, match="at most"):
        parse_sweep("x=0:1000:0.001")
    with pytest.raises(SpecError, match="STEP"):
        parse_sweep("x=0:1:-1")


# ---- resolution -----------------------------------------------------------------------------------------
def test_resolve_node_supernode_and_positions(graph):
    r = Resolver(graph)
    one = r.resolve(parse_set("0_5_1=3"))
    assert one.nodes == ["0_5_1"] and [(s.layer, s.position, s.feature, s.node) for s in one.sites] == [
        (0, 1, 5, "0_5_1")
    ]
    pair = r.resolve(parse_ablate("pair"))  # case-insensitive when unique
    assert pair.supernode == "Pair" and pair.nodes == ["0_5_1", "1_7_2"]
    moved = r.resolve(parse_set("0_5_1@0:2=1"))
    assert moved.positions == [0, 1]
    assert [(s.position, s.node) for s in moved.sites] == [(0, None), (1, "0_5_1")]
    assert len(r.resolve(parse_ablate("Pair@all")).sites) == 2 * 3
    with pytest.raises(SpecError, match="outside the prompt"):
        r.resolve(parse_set("0_5_1@7=1"))


def test_unknown_target_suggests_closest_ids(graph):
    with pytest.raises(SpecError) as err:
        Resolver(graph).resolve(parse_set("0_5_2=1"))
    assert "no node or supernode named '0_5_2'" in str(err.value) and "0_5_1" in str(err.value)


@pytest.mark.parametrize(
    ("node", "kind"), [("3_9_2", "a logit"), ("0_1_2", "an error"), ("E_2_1", r"a token \(embedding\)")]
)
def test_only_features_can_be_set(graph, node, kind):
    with pytest.raises(SpecError, match=f"is {kind} node; only transcoder features"):
        Resolver(graph).resolve(parse_set(f"{node}=0"))


# ---- predictions ----------------------------------------------------------------------------------------
def test_direct_prediction_of_an_ablation_is_minus_the_edge(graph):
    assert predicted_delta(graph, [ablate("0_5_1")], direct=True) == {"3_9_2": pytest.approx(-1.0)}
    assert predicted_delta(graph, [ablate("1_7_2")], direct=True) == {"3_9_2": pytest.approx(-2.0)}


def test_path_sum_against_hand_enumerated_paths(graph):
    # B = A / a: f1->f2 3/2, f1->logit 1/2, f2->logit 2/4. Ablating f1 (e = -2): the direct path
    # 0.5 * -2 plus the path through f2: 0.5 * 1.5 * -2.
    assert predicted_delta(graph, [ablate("0_5_1")])["3_9_2"] == pytest.approx(-1.0 - 1.5)
    # f2 clamped as well: only direct edges of both reach the logit
    assert predicted_delta(graph, [ablate("Pair")])["3_9_2"] == pytest.approx(-1.0 - 2.0)
    assert predicted_delta(graph, [scale("0_5_1", -1)])["3_9_2"] == pytest.approx(2 * -2.5)
    assert predicted_delta(graph, [set_value("0_5_1", 2.0)])["3_9_2"] == pytest.approx(0.0)
    assert predicted_delta(graph, []) == {"3_9_2": 0.0}


def test_path_sum_equals_neumann_series_on_a_random_dag():
    from attrgraph_cli.intervene.predict import per_unit_adjacency
    from attrgraph_testing.synthetic import random_graph

    g = random_graph(n_links=600, seed=3)
    feats = np.flatnonzero((g.nodes.kind == 1) & np.isfinite(g.nodes.activation) & (g.nodes.activation != 0))
    changes = {int(feats[0]): -float(g.nodes.activation[feats[0]]), int(feats[3]): 1.5}
    B = per_unit_adjacency(g).toarray()
    B[list(changes)] = 0.0
    e = np.zeros(len(g.nodes))
    for row, d in changes.items():
        e[row] = d
    total, term = e.copy(), e.copy()
    for _ in range(200):
        term = B @ term
        total += term
    np.testing.assert_allclose(predict(g, changes, direct=False), total, rtol=1e-9, atol=1e-12)


def test_node_influence_follows_normalised_paths_to_the_logit(graph):
    infl = node_influence(graph)
    rows = {nid: i for i, nid in enumerate(graph.nodes.ids.tolist())}
    # f2 feeds 2 of the logit's 3.5 total |weight|; f1 1/3.5 directly plus all of f2's input (3 of 3)
    assert infl[rows["1_7_2"]] == pytest.approx(0.8 * 2 / 3.5)
    assert infl[rows["0_5_1"]] == pytest.approx(0.8 * (1 / 3.5 + 2 / 3.5 * 1.0))
    assert infl[rows["0_1_2"]] == pytest.approx(0.8 * 0.5 / 3.5)


# ---- plan files -----------------------------------------------------------------------------------------
def test_jsonl_plan(tmp_path):
    plan = tmp_path / "plan.jsonl"
    plan.write_text(
        "# a comment\n"
        '{"name": "no pair", "ablate": "Pair"}\n\n'
        '{"set": ["0_5_1=1", "1_7_2=*2"], "scale": "Pair=*0.5"}\n'
        '{"sweep": "0_5_1=0:2:1"}\n'
    )
    items = read_plan(plan)
    assert items[0].name == "no pair" and [s.op for s in items[0].specs] == ["ablate"]
    assert items[1].name == "Plan 2" and [s.op for s in items[1].specs] == ["scale", "set", "scale"]
    assert isinstance(items[2], SweepSpec) and items[2].values == (0.0, 1.0, 2.0)


def test_yaml_plan(tmp_path):
    pytest.importorskip("yaml")
    plan = tmp_path / "plan.yaml"
    plan.write_text("interventions:\n  - name: swap\n    swap_from: a b d\n    swap_scope: Pair\n")
    (item,) = read_plan(plan)
    assert item.specs[0].op == "swap" and item.specs[0].source_prompt == "a b d"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"ablate": "Pair"}\nnot json\n', "line 2: not a JSON object"),
        ('{"abalte": "Pair"}\n', "unknown key 'abalte'"),
        ('{"set": "0_5_1=x"}\n', "'x' is not a number"),
        ('{"name": "n"}\n', "nothing to do"),
        ("\n", "no interventions"),
        ("5\n", "line 1: expected an object, got an integer"),
        ('{"set": 5}\n', "line 1: 'set' must be a string or a list of strings, not an integer"),
    ],
)
def test_bad_plans(tmp_path, text, needle):
    plan = tmp_path / "plan.jsonl"
    plan.write_text(text)
    with pytest.raises(SpecError, match=needle) as caught:
        read_plan(plan)
    assert (
        str(caught.value).count("--plan") == 1
    )  # the place is named once (it was twice for set/scale/ablate)


# ---- bad input on the command line: one line, exit 2, nothing written ----------------------------------
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--set", "0_5_2=0"], "no node or supernode named '0_5_2' in the graph; closest: 0_5_1"),
        (["--set", "3_9_2=0"], "node 3_9_2 is a logit node"),
        (["--ablate", "0_1_2"], "node 0_1_2 is an error node"),
        (["--set", "0_5_1=zero"], "'zero' is not a number"),
        (["--scale", "Texas=*2"], "no node or supernode named 'Texas'"),
        (["--sweep", "Pair=*a:1:1"], "'a' is not a number"),
        (["--set", "0_5_1=1"], "the graph records no model"),
        (["--swap-scope", "Pair"], "--swap-scope needs --swap-from"),
        (["--set", "0_5_1=1", "--direct", "--constrained-layers", "0:1"], "--direct already"),
        (["--set", "0_5_1=1", "--constrained-layers", "2"], "expected A:B"),
        (["--check-supernodes", "--format", "yaml"], "--format must be table or json"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(graph_path, tmp_path, args, needle):
    out = tmp_path / "out.json"
    result = run_cli("intervene", str(graph_path), *args, "-o", str(out))
    assert result.code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error: "), result.stderr
    assert needle in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == [graph_path]


def test_check_supernodes_needs_supernodes(tmp_path):
    doc = small_graph_doc()
    doc["qParams"]["supernodes"] = []
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    result = run_cli("intervene", str(path), "--check-supernodes")
    assert result.code == 2 and "has no supernodes" in result.stderr


def test_bad_input_never_imports_torch(graph_path):
    code = (
        "import sys\n"
        "from attrgraph_cli.cli import app\n"
        f"try:\n    app(['intervene', {str(graph_path)!r}, '--set', '0_5_2=0'])\n"
        "except SystemExit as e:\n    print('EXIT', e.code)\n"
        "print('HEAVY=' + ','.join(sorted(m for m in ('torch', 'circuit_tracer', 'transformers') "
        "if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "EXIT 2" in out.stdout and out.stdout.strip().splitlines()[-1] == "HEAVY=", out


# ---- records from elsewhere ----------------------------------------------------------------------------
def test_clt_forge_sweeps_become_records(clt_forge_pt, tmp_path):
    pytest.importorskip("torch")
    from attrgraph_cli.extension import interventions
    from attrgraph_cli.io import save_graph
    from attrgraph_cli.validate.engine import validate_graph

    g = load_graph(clt_forge_pt)
    assert "clt_forge_interventions" not in g.extra
    records = interventions(g)
    assert len(records) == 83 and {r["kind"] for r in records} == {"clt-forge"}
    first = records[0]
    assert first["spec"][0]["nodes"] == ["0_196_1"] and first["targets"][0]["token"] == " of"
    assert first["targets"][0]["node"] == "13_311_4"
    assert first["sweep"]["values"] == [0.0, -5.0, -10.0]
    assert first["sweep"]["series"][0]["p"][0] == pytest.approx(first["targets"][0]["p_after"])
    assert not [p for p in validate_graph(g) if p.severity == "error"]
    save_graph(g, tmp_path / "c.json")  # round trip: migrated once, not twice
    assert len(interventions(load_graph(tmp_path / "c.json"))) == 83


def test_path_sum_of_a_graph_with_a_cycle_falls_back_to_a_solve(tmp_path):
    from attrgraph_cli.graph.ids import cantor_pair

    doc = small_graph_doc()
    doc["nodes"].append(_node("0_9_1", "cross layer transcoder", "0", 1, cantor_pair(0, 9), 1.0))
    doc["links"].append({"source": "0_9_1", "target": "0_5_1", "weight": 1.0})
    doc["links"].append({"source": "1_7_2", "target": "0_5_1", "weight": 0.4})  # f1 <-> f2: not a DAG
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(doc))
    g = load_graph(path)
    # ablating f3 (e = -1): f1 = -1 + 0.1 f2, f2 = 1.5 f1 -> f1 = -1 / 0.85; logit = 0.5 f1 + 0.5 f2
    f1 = -1 / 0.85
    assert predicted_delta(g, [ablate("0_9_1")])["3_9_2"] == pytest.approx(0.5 * f1 + 0.5 * 1.5 * f1)


def test_sweep_target_with_positions_resolves(graph):
    supernode, nodes = Resolver(graph).resolve_sweep(parse_sweep("Pair@1:3=*0:1:0.5"))
    assert supernode == "Pair" and nodes == ["0_5_1", "1_7_2"]
    resolved = Resolver(graph).resolve(parse_sweep("Pair@1:3=*0:1:0.5").at(0.5))
    assert resolved.positions == [1, 2] and resolved.spec.multiple == 0.5 and len(resolved.sites) == 4
