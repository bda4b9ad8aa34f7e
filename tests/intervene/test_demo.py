"""`attrgraph intervene` on the embedded demo model (the Dallas graph), through circuit-tracer, no mocks.

- `--direct` single-feature interventions reproduce the graph's edges to the logit (1e-4 relative);
- the empty intervention reproduces the plain forward pass;
- ablating the Texas-like features lowers "Austin" (more than same-size random sets of other features);
- swapping in the Seattle prompt's activations makes "Olympia" the answer (a Houston prompt, same state,
  does not: the control);
- the command end to end: JSON shape, records appended, one model load for a plan, mismatch errors.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from attrgraph_testing.cli import run_cli
from attrgraph_testing.demo_helpers import require_demo_model

demo_model = require_demo_model()


from attrgraph_cli.graph.model import NodeKind  # noqa: E402
from attrgraph_cli.intervene import api  # noqa: E402
from attrgraph_cli.intervene.session import Settings  # noqa: E402

pytestmark = [pytest.mark.trace, pytest.mark.xdist_group("trace")]

DALLAS = "The capital of the state containing Dallas is"
SEATTLE = "The capital of the state containing Seattle is"
HOUSTON = "The capital of the state containing Houston is"


@pytest.fixture(scope="module")
def loaded():
    from attrgraph_cli.models import ModelRequest, load_model

    return load_model(ModelRequest(device="cpu"))


def texas_like(graph, model) -> list[str]:
    """Feature nodes whose decoder vector has "Texas" among its top-5 direct logits."""
    out = []
    nodes = graph.nodes
    for nid, kind, layer, feat in zip(nodes.ids, nodes.kind, nodes.layer, nodes.feature, strict=True):
        if kind != NodeKind.FEATURE:
            continue
        direct = model.transcoders[int(layer)].W_dec[int(feat)].float() @ model.unembed.W_U.float()
        if "Texas" in model.tokenizer.convert_ids_to_tokens(direct.topk(5).indices.tolist()):
            out.append(str(nid))
    return out


@pytest.fixture(scope="module")
def dallas(loaded, tmp_path_factory):
    """The Dallas graph (traced here) with a "Texas" supernode of its Texas-like features, on disk."""
    from attrgraph_cli.io import save_graph
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
    from attrgraph_cli.trace.writer import finish_trace

    graph = finish_trace(trace_prompt(loaded, PromptJob(DALLAS), TraceOptions()))  # with its trace record
    texas = texas_like(graph, loaded.model)
    assert texas, "the Dallas graph has no Texas-like feature"
    nodes = graph.nodes
    early = [  # a second supernode: the non-Texas features before the last position
        str(nodes.ids[i])
        for i in np.flatnonzero(nodes.kind == NodeKind.FEATURE)
        if nodes.position[i] < len(graph.prompt_tokens) - 1 and str(nodes.ids[i]) not in texas
    ]
    graph.qparams["supernodes"] = [["Texas", *texas]] + ([["early", *early]] if early else [])
    path = tmp_path_factory.mktemp("dallas") / "dallas.json"
    save_graph(graph, path)
    return path


@pytest.fixture
def graph(dallas):
    from attrgraph_cli.io import load_graph

    return load_graph(dallas)


def logit_edges(graph) -> dict[str, float]:
    """Feature node id -> weight of its edge to the (first) logit node."""
    logit = int(np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)[0])
    e = graph.edges
    return {
        str(graph.nodes.ids[s]): float(w)
        for s, t, w in zip(e.source, e.target, e.weight, strict=True)
        if t == logit and graph.nodes.kind[s] == NodeKind.FEATURE
    }


def test_direct_interventions_reproduce_the_edges(graph, loaded):
    edges = logit_edges(graph)
    assert len(edges) >= 3
    items = [api.Intervention(nid, [api.ablate(nid)]) for nid in edges]
    items += [api.Intervention(f"{nid} x3", [api.scale(nid, 3.0)]) for nid in list(edges)[:3]]
    records = api.run_interventions(graph, items, Settings(direct=True, device="cpu"), loaded=loaded)
    expected = [-w for w in edges.values()] + [2 * w for w in list(edges.values())[:3]]
    for rec, want in zip(records, expected, strict=True):
        t = rec["targets"][0]
        assert t["measured_delta"] == pytest.approx(want, rel=1e-4, abs=1e-6), rec["name"]
        assert t["predicted_delta"] == pytest.approx(want, rel=1e-9, abs=1e-12), rec["name"]
    assert records[0]["settings"]["constrained_layers"] == list(range(loaded.n_layers))


def test_empty_intervention_is_the_plain_forward_pass(graph, loaded):
    import torch

    (rec,) = api.run_interventions(
        graph, [api.Intervention("none", [])], Settings(device="cpu"), loaded=loaded
    )
    with torch.no_grad():
        plain = loaded.model(loaded.model.ensure_tokenized(DALLAS))[0, -1].double().numpy()
    for t in rec["targets"]:
        vid = loaded.tokenizer.encode(t["token"], add_special_tokens=False)[0]
        assert t["logit_before"] == t["logit_after"] == pytest.approx(plain[vid], abs=1e-5)
        assert t["measured_delta"] == 0.0 and t["predicted_delta"] == 0.0
    assert rec["top_after"] == rec["top_before"] and rec["top_before"][0][0] == "Austin"
    assert rec["spec"] == [] and rec["n_sites"] == 0
    # circuit-tracer's own call with no intervention gives the same logits
    with torch.no_grad():
        logits, _ = loaded.model.feature_intervention(loaded.model.ensure_tokenized(DALLAS), [])
    np.testing.assert_allclose(logits[0, -1].double().numpy(), plain, atol=1e-6)


def test_ablating_texas_lowers_austin_more_than_random_features(graph, loaded):
    records = api.run_interventions(
        graph, [], Settings(device="cpu", control_draws=8), loaded=loaded, check_supernodes=True
    )
    ablation = next(r for r in records if r["check"]["op"] == "ablate" and r["check"]["supernode"] == "Texas")
    austin = ablation["targets"][0]
    assert austin["token"] == "Austin"
    assert austin["p_after"] < austin["p_before"] and austin["measured_delta"] < 0
    check = ablation["check"]
    assert check["supernode"] == "Texas" and check["effect"] < 0
    assert check["control"]["n_draws"] == 8
    assert abs(check["effect"]) > check["control"]["mean_abs_effect"]
    assert check["effect_rank"] == 1  # ahead of the other supernode by measured effect
    assert {r["check"]["supernode"] for r in records} == {s[0] for s in graph.supernodes}


def test_swap_from_seattle_answers_olympia_and_houston_keeps_austin(graph, loaded):
    settings = Settings(device="cpu", extra_targets=("Olympia",))
    seattle, houston = api.run_interventions(
        graph,
        [
            api.Intervention("Seattle", [api.swap(SEATTLE, "Texas")]),
            api.Intervention("Houston (control: same state)", [api.swap(HOUSTON, "Texas")]),
        ],
        settings,
        loaded=loaded,
    )
    assert seattle["top_after"][0][0] == "Olympia", seattle["top_after"][:3]
    olympia = next(t for t in seattle["targets"] if t["token"] == "Olympia")
    assert olympia["node"] is None and olympia["predicted_delta"] is None
    assert olympia["p_after"] > 0.5 > olympia["p_before"]
    assert houston["top_after"][0][0] == "Austin"
    assert seattle["spec"][0]["op"] == "swap" and seattle["spec"][0]["source_prompt"] == SEATTLE
    assert seattle["n_sites"] > len(seattle["spec"][0]["nodes"])  # features of Seattle written in


def test_swap_needs_aligned_prompts(graph, loaded):
    from attrgraph_cli.intervene.spec import SpecError

    with pytest.raises(SpecError, match="the prompt has 5 tokens but the graph's has 9"):
        api.run_interventions(
            graph, [[api.swap("The capital of Texas")]], Settings(device="cpu"), loaded=loaded
        )


def test_sweep_series(graph, loaded):
    nid = next(iter(logit_edges(graph)))
    (rec,) = api.run_interventions(graph, [f"{nid}=*0:2:1"], Settings(device="cpu"), loaded=loaded)
    assert rec["kind"] == "sweep" and rec["sweep"]["parameter"] == "multiple"
    assert rec["sweep"]["values"] == [0.0, 1.0, 2.0]
    (series,) = rec["sweep"]["series"]
    assert series["token"] == "Austin" and len(series["p"]) == 3
    # multiple 1 is the unchanged activation: the baseline probability, no change
    assert series["p"][1] == pytest.approx(rec["targets"][0]["p_before"], abs=1e-6)
    assert series["delta"][1] == pytest.approx(0.0, abs=1e-5) and series["predicted_delta"][1] == 0.0


def test_mismatched_activation_and_prompt_are_errors(graph, loaded):
    from attrgraph_cli.intervene.model import ModelMismatch

    row = int(np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)[0])
    graph.nodes.activation[row] *= 1.5
    with pytest.raises(ModelMismatch, match=f"node {graph.nodes.ids[row]} has activation"):
        api.run_interventions(graph, [], Settings(device="cpu"), loaded=loaded)
    graph.nodes.activation[row] /= 1.5
    graph.metadata["prompt_tokens"] = [*graph.prompt_tokens[:-1], "was"]
    with pytest.raises(ModelMismatch, match="first difference at position 8"):
        api.run_interventions(graph, [], Settings(device="cpu"), loaded=loaded)


# ---- the command ---------------------------------------------------------------------------------------
def test_cli_json_shape_records_appended_and_one_model_load(dallas, tmp_path, monkeypatch):
    import attrgraph_cli.models as models

    calls = []
    real = models.load_model
    monkeypatch.setattr(models, "load_model", lambda req: calls.append(req) or real(req))
    plan = tmp_path / "plan.jsonl"
    plan.write_text('{"name": "no Texas", "ablate": "Texas"}\n{"sweep": "Texas=*1:-1:-1"}\n')
    out = tmp_path / "out.json"
    args = ["intervene", str(dallas), "--set", f"{next(iter(logit_edges(_load(dallas))))}=0", "--name", "one"]
    args += ["--plan", str(plan), "--generate", "2", "--top-k", "3", "--format", "json", "-o", str(out)]
    result = run_cli(*args)
    assert result.code == 0, result.stderr
    assert len(calls) == 1  # one model load for the command line's intervention, the plan and the sweep
    printed = json.loads(result.stdout)
    assert list(printed) == ["interventions"] and len(printed["interventions"]) == 3
    first = printed["interventions"][0]
    for key in ("name", "spec", "settings", "targets", "top_before", "top_after"):
        assert key in first
    assert first["generated_before"].strip() and first["generated_after"] is not None
    assert set(first["targets"][0]) >= {
        "token",
        "logit_before",
        "logit_after",
        "measured_delta",
        "predicted_delta",
        "p_before",
        "p_after",
    }
    assert len(first["top_before"]) == 3 and first["name"] == "one"
    doc = json.loads(out.read_text())
    assert doc["attrgraph"]["interventions"] == printed["interventions"]
    assert doc["attrgraph"]["history"][-1]["stage"] == "intervene"
    # a second run appends
    again = run_cli("intervene", str(out), "--ablate", "Texas", "-o", str(out))
    assert again.code == 0, again.stderr
    assert len(json.loads(out.read_text())["attrgraph"]["interventions"]) == 4
    check = run_cli("validate", str(out))
    assert check.code == 0, check.stdout


def test_cli_activation_mismatch_exit_2_nothing_written(dallas, tmp_path):
    doc = json.loads(dallas.read_text())
    node = next(n for n in doc["nodes"] if n["feature_type"] == "cross layer transcoder")
    node["activation"] *= 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "out.json"
    result = run_cli("intervene", str(bad), "--ablate", "Texas", "-o", str(out))
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"node {node['node_id']} has activation" in lines[0], result.stderr
    assert not out.exists()


def _load(path):
    from attrgraph_cli.io import load_graph

    return load_graph(path)


def test_logit_difference_target_direct_ablations_reproduce_edges(loaded):
    """A graph traced with --target Austin --minus Dallas: its logit node is the difference."""
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt

    graph = trace_prompt(
        loaded, PromptJob(DALLAS, targets=("Austin",), minus=("Dallas",)), TraceOptions()
    ).graph
    (label,) = graph.nodes.logit_token[graph.nodes.kind == NodeKind.LOGIT].tolist()
    assert label == "logit(Austin)-logit(Dallas)"
    edges = logit_edges(graph)
    assert edges
    items = [api.Intervention(n, [api.ablate(n)]) for n in edges]
    records = api.run_interventions(graph, items, Settings(direct=True, device="cpu"), loaded=loaded)
    for rec, w in zip(records, edges.values(), strict=True):
        t = rec["targets"][0]
        assert t["token"] == label
        assert t["measured_delta"] == pytest.approx(-w, rel=1e-4, abs=1e-6), rec["name"]
        assert t["measured_delta"] == pytest.approx(t["logit_after"] - t["logit_before"], abs=1e-9)
