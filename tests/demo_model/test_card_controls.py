"""The demo card's causal claims, each with its control, re-run on the shipped model (issue 26, points 1-2).

The card must say what these controls find: the matched draws (layer, position, influence, set size), the
influence control that flips the answer, the one feature that carries the ablation, the swap's two controls,
the mechanism (a direction written by MLP0 at the city, read by attention at the last position) and the dead
fraction with the number of tokens read.
"""

from __future__ import annotations

import json

import pytest

from attrgraph_cli.demo_model.loader import WEIGHTS_DIR

CARD = WEIGHTS_DIR / "MODEL_CARD.md"


@pytest.fixture(scope="module")
def metrics() -> dict:
    return json.loads((WEIGHTS_DIR / "metrics.json").read_text())


@pytest.fixture(scope="module")
def model():
    pytest.importorskip("circuit_tracer")
    import torch

    from attrgraph_cli.demo_model import load_replacement_model

    torch.set_num_threads(1)
    return load_replacement_model()


@pytest.fixture(scope="module")
def step(model) -> dict:
    from attrgraph_cli.demo_model.evaluate import intermediate_step

    return intermediate_step(model)


@pytest.mark.trace
def test_matched_ablation_controls_are_many_draws_matched_on_place_and_reproduce_the_card(step, metrics):
    c, card = step["controls"], metrics["intermediate_step"]["controls"]
    m = c["matched"]
    assert m["n_draws"] == 200 and m["margin"]["n"] == 200
    assert m["match_levels"] == {"layer+position": step["n_intermediate_features"]}
    assert m["margin"] == pytest.approx(card["matched"]["margin"], abs=1e-3)
    # the control is honest about what it cannot match: no feature at these places is as influential
    assert m["control_influence_median"] < 0.25 * m["member_influence"]
    assert m["share_removing_half_the_margin"] == 0.0 and m["set_drop_percentile"] == 100.0


@pytest.mark.trace
def test_the_influence_control_refutes_the_ablation_and_one_feature_carries_it(step):
    c = step["controls"]
    top = c["top_influence"]
    assert top["influence_sum"] >= c["matched"]["member_influence"]  # as much influence as the set
    assert top["margin"] < 0 < c["base_margin"]  # it flips the answer too ...
    assert not c["survives_top_influence"] and not step["ablation_survives_controls"]  # ... so no claim
    assert c["strongest_alone"]["feature"] == "0_259_7" and c["strongest_alone"]["margin"] < 0
    assert c["rest_without_strongest"]["answer_probability"] > 0.9


@pytest.mark.trace
def test_swap_controls_random_features_and_no_zeroing(step):
    sw = step["swap"]
    assert sw["top_prediction"] == "Olympia"
    rnd, nz = sw["controls"]["random_written"], sw["controls"]["without_zeroing"]
    assert rnd["n_draws"] == 30 and rnd["share_giving_the_swap_answer"] < 0.05
    assert nz["top_prediction"] == "Olympia"  # writing the Washington features in is already enough
    assert step["swap_survives_controls"]


@pytest.mark.trace
def test_the_card_says_what_the_controls_found(metrics):
    from attrgraph_cli.demo_model.card import verdict

    inter = metrics["intermediate_step"]
    text = CARD.read_text()
    assert verdict(inter) == "Partly." and "**Partly.**" in text
    assert "influence-matched" not in text
    assert "so the ablation does not single these features out" in text
    alone = inter["controls"]["strongest_alone"]["answer_probability"]
    assert f"`0_259_7` alone takes p(`Austin`) to {alone:.4f}" in text
    assert "Swap control (a), 30 draws" in text and "zeroing these is not needed for the swap" in text


@pytest.mark.trace
def test_mechanism_is_a_direction_written_by_mlp0_and_read_by_attention(model, metrics):
    from attrgraph_cli.demo_model.mechanism import mechanism

    mech = mechanism(model, watch=((0, 259), (1, 65)))
    assert mech.keys() == metrics["mechanism"].keys()
    for key in (
        "mlp0_cosine_within_region",
        "mlp0_cosine_across_regions",
        "partner_mean_patch_gives_partner",
    ):
        assert mech[key] == pytest.approx(metrics["mechanism"][key], abs=1e-4)
    assert (
        mech["answer_kept_with_city_attention_cut"]
        == metrics["mechanism"]["answer_kept_with_city_attention_cut"]
    )
    assert mech["mlp0_cosine_within_region"] > 0.5 > 0.1 > mech["mlp0_cosine_across_regions"]
    assert mech["partner_mean_patch_gives_partner"] >= 0.95
    cut = mech["answer_kept_with_city_attention_cut"]
    assert min(cut) == cut[-1] < 0.75 and mech["answer_kept_with_city_attention_cut_in_every_layer"] < 0.2
    # no layer-0/1 feature fires on exactly the cities of one US state
    states = {"Texas", "California", "Florida", "Illinois", "Washington", "Georgia", "Ohio", "Pennsylvania"}
    assert not any(w.split(": ")[1] in states for w in mech["features_on_exactly_one_region_which"])
    assert [c["city"] for c in mech["watched_features_fire_on"]["1_65"]] == ["Dallas"]
    text = CARD.read_text()
    assert "a direction in the residual stream at the city, written by MLP0" in text
    assert "`1_65` fires at the city on: Dallas (Texas, 2.38)." in text


def test_dead_fraction_is_stated_with_its_token_count(metrics):
    text = CARD.read_text()
    curve = metrics["dead_fraction_curve"]
    assert [p["tokens"] for p in curve] == sorted(p["tokens"] for p in curve) and len(curve) >= 3
    for row in metrics["transcoders"]:
        assert f"{row['dead_fraction']:.1%} ({row['dead_fraction_tokens']:,})" in text
    for point in curve:
        assert f"| {point['tokens']:,} | " + " | ".join(f"{x:.1%}" for x in point["dead_fraction"]) in text
    last = curve[-1]["dead_fraction"]
    assert all(b <= a for a, b in zip(curve[0]["dead_fraction"], last, strict=True))  # falls as more is read
