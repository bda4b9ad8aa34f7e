"""`intervene.controls`: control sets matched on layer, position and influence, drawn many times."""

from __future__ import annotations

import numpy as np

from attrgraph_cli.intervene.controls import Pool, distribution, matched_draws, percentile


def _pool() -> Pool:
    # layer, position, influence: four features at (0, 7), three at (3, 8), two at (1, 2)
    rows = [
        (0, 7, 0.50), (0, 7, 0.05), (0, 7, 0.04), (0, 7, 0.01), (0, 7, 0.001),
        (3, 8, 0.20), (3, 8, 0.19), (3, 8, 0.02),
        (1, 2, 0.30), (1, 2, 0.31),
    ]  # fmt: skip
    return Pool(
        np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    )


def test_each_member_is_matched_at_its_layer_and_position_by_influence():
    pool = _pool()
    members = [(0, 7, 0.50), (3, 8, 0.20)]  # pool rows 0 and 5
    drawn = matched_draws(
        pool, members, exclude=[0, 5], n_draws=300, rng=np.random.default_rng(0), k_nearest=2
    )
    assert len(drawn.draws) == 300 and drawn.levels == ["layer+position", "layer+position"]
    first = {int(d[0]) for d in drawn.draws}
    second = {int(d[1]) for d in drawn.draws}
    assert first == {1, 2}  # the two closest in influence at (0, 7), never the excluded member itself
    assert second == {6, 7}
    assert all(pool.layer[d[0]] == 0 and pool.position[d[0]] == 7 for d in drawn.draws)
    summary = drawn.summary()
    assert summary["member_influence"] == 0.70
    # the match is recorded honestly: nothing at (0, 7) is as influential as the member
    assert summary["control_influence_median"] < 0.5 * summary["member_influence"]


def test_the_match_widens_when_a_place_has_too_few_features_and_says_so():
    pool = _pool()
    drawn = matched_draws(pool, [(2, 2, 0.3)], exclude=[], n_draws=20, rng=np.random.default_rng(1))
    assert drawn.levels == ["position"]  # no layer-2 feature: any layer at position 2
    assert {int(d[0]) for d in drawn.draws} <= {8, 9}


def test_members_sharing_a_place_get_distinct_controls():
    pool = _pool()
    members = [(0, 7, 0.05), (0, 7, 0.04)]
    drawn = matched_draws(
        pool, members, exclude=[1, 2], n_draws=100, rng=np.random.default_rng(2), k_nearest=2
    )
    assert all(len(set(d.tolist())) == 2 for d in drawn.draws)
    assert not any({1, 2} & set(d.tolist()) for d in drawn.draws)


def test_percentile_and_distribution():
    controls = [1.0, 2.0, 3.0, 4.0]
    assert percentile(5.0, controls) == 100.0
    assert percentile(0.5, controls) == 0.0
    assert percentile(2.0, controls) == 37.5  # one below, one tie (half)
    assert percentile(1.0, []) is None
    d = distribution(controls)
    assert d["n"] == 4 and d["median"] == 2.5 and d["min"] == 1.0 and d["max"] == 4.0
