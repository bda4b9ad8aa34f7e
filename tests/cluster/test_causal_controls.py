"""`cluster --causal`'s controls (issue 26, point 4): drawn from every active feature of the prompt,
matched on layer, position and influence, many draws, a percentile per supernode; effect = Σ p_l Δ_l."""

from __future__ import annotations

import numpy as np
import pytest

from attrgraph_testing.cli import run_cli

pytestmark = [pytest.mark.trace, pytest.mark.slow]  # a trace, two attributions, ~100 interventions
pytest.importorskip("circuit_tracer")

PROMPT = "The capital of the state containing Dallas is"


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    from attrgraph_cli.io import load_graph

    folder = tmp_path_factory.mktemp("controls")
    done = run_cli("trace", PROMPT, "-o", "d.json", "--device", "cpu", fresh=True, cwd=folder)
    assert done.code == 0, done.stderr
    return load_graph(folder / "d.json")


@pytest.fixture(scope="module")
def scored(graph):
    import torch

    from attrgraph_cli.cluster.causal import causal_scores

    torch.set_num_threads(1)
    # the demo graph's supernodes as cluster names them, given here so that the test checks the controls,
    # not the grouping
    index = {str(node): i for i, node in enumerate(graph.nodes.ids)}
    named = {
        "Dallas": ["0_259_7", "1_65_7"],
        "say Austin": ["3_500_8", "3_279_8"],
        "L0 @ is": ["0_434_8", "0_332_8"],
    }
    groups = [(name, np.array([index[m] for m in members])) for name, members in named.items()]
    summary, per_group = causal_scores(graph, groups, device="cpu", control_draws=8, seed=3)
    return groups, summary, per_group


def test_controls_come_from_every_active_feature_matched_on_place(graph, scored):
    from attrgraph_cli.graph.model import NodeKind

    groups, summary, per_group = scored
    assert len(per_group) == len(groups) == 3
    n_graph_features = int((graph.nodes.kind == NodeKind.FEATURE).sum())
    assert summary["control_pool"].startswith("all active features") and summary["control_draws"] == 8
    for (_name, rows), g in zip(groups, per_group, strict=True):
        place, influence = g["control_match"]["place"], g["control_match"]["influence"]
        assert place["n_draws"] == influence["n_draws"] == 8
        # every member matched at its own layer and position (or its position), never anywhere
        assert sum(place["match_levels"].values()) == len(rows)
        assert set(place["match_levels"]) <= {"layer+position", "position"}
        assert influence["match_levels"] == {"influence": len(rows)}
        # the influence-only draws are far closer in influence than the place-matched ones
        gap_place = abs(np.log(place["control_influence_median"] / place["member_influence"]))
        gap_influence = abs(np.log(influence["control_influence_median"] / influence["member_influence"]))
        assert gap_influence < gap_place
        assert 0 <= g["control_percentile"] <= 100 and 0 <= g["influence_control_percentile"] <= 100
    # the pool is the unpruned attribution's features, not only the graph's nodes
    from attrgraph_cli.intervene.active_pool import active_feature_pool
    from attrgraph_cli.intervene.api import load_model_for

    pool = active_feature_pool(load_model_for(graph, device="cpu"), graph.prompt)
    assert len(pool) > 5 * n_graph_features


def test_effect_is_the_unnormalised_probability_weighted_sum(graph, scored):
    from attrgraph_cli.cluster.causal import _weights
    from attrgraph_cli.graph.model import NodeKind

    rows = np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)
    weights = _weights(graph)
    assert sum(weights.values()) == pytest.approx(float(np.nansum(graph.nodes.logit_probability[rows])))


def test_summary_counts_supernodes_beyond_both_controls(scored):
    _groups, summary, per_group = scored
    both = sum(g["control_percentile"] >= 95 and g["influence_control_percentile"] >= 95 for g in per_group)
    assert summary["beat_control"] == both
    assert summary["beat_place_control"] >= both and summary["beat_influence_control"] >= both
