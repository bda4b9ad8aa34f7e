"""The label score's controls (issue 26, point 5): an output claim checked against the feature's top
logits, trivial labels scored the same way on the same feature, "too few examples" below a minimum."""

from __future__ import annotations

import pytest

from attrgraph_cli.autointerp.dashboards import HeldOut
from attrgraph_cli.autointerp.score import MIN_POSITIVES, baselines, most_common_token, score_label

TOP = ["Austin", "Warsaw", "Tallahassee", "Ankara", "12", "Texas", "of", "is", "the", "."]


def _is_feature(n_pos: int = 40) -> HeldOut:
    """Fires on "is" before a capital; negatives: other tokens, and "is" elsewhere."""
    positives = [("is", "Austin")] * (n_pos // 2) + [("is", "Warsaw")] * (n_pos - n_pos // 2)
    negatives = [("the", "capital"), ("of", "the"), (".", "The"), ("state", "containing")] * 50 + [
        ("is", "cold")
    ] * 10
    return HeldOut(positives=positives, negatives=negatives)


def _dallas_feature(n_pos: int) -> HeldOut:
    return HeldOut(positives=[("Dallas", "is")] * n_pos, negatives=[("the", "state"), ("is", "Austin")] * 100)


def test_an_output_claim_is_checked_against_the_top_logits():
    held = _is_feature()
    true = score_label("is → say Austin, Warsaw", held, TOP)
    wrong = score_label("is → say Oslo, Paris", held, TOP)
    assert true.output == 1.0 and wrong.output == 0.0
    # the detection part alone cannot tell them apart (the issue: both scored the same) ...
    assert wrong.detection == pytest.approx(true.detection, abs=0.15)
    # ... the score can
    assert true.score - wrong.score >= 0.4
    assert true.detail()["claimed_outputs"] == ["austin", "warsaw"]
    plain = score_label("is", held, TOP)
    assert plain.output is None and plain.score == plain.detection  # no claim: detection only


def test_too_few_positives_is_not_a_score():
    few = score_label("Dallas", _dallas_feature(2), TOP)
    assert few.score == 1.0 and few.too_few  # a perfect number on 2 positives ...
    assert few.detail()["too_few_examples"] is True and few.detail()["min_positives"] == MIN_POSITIVES
    enough = score_label("Dallas", _dallas_feature(MIN_POSITIVES), TOP)
    assert not enough.too_few and "too_few_examples" not in enough.detail()


def test_trivial_labels_are_scored_on_the_same_feature():
    held = {(0, 1): _is_feature(), (1, 2): _is_feature(30), (2, 3): _dallas_feature(20)}
    labels = {(0, 1): "is → say Austin, Warsaw", (1, 2): "is", (2, 3): "Dallas"}
    tops = {(0, 1): TOP, (1, 2): TOP, (2, 3): ["Texas"]}
    assert most_common_token(held) == "is"
    rows = baselines(labels, held, tops)
    assert set(rows) == set(labels)
    for k, row in rows.items():
        assert row["most_common_token"]["label"] == "is"
        assert row["shuffled"]["label"] != labels[k]  # another feature's label
        assert row["most_common_token"]["score"] == pytest.approx(
            score_label("is", held[k], tops[k]).score, abs=1e-4
        )
    # the label "is" on an "is" feature is exactly as good as the trivial constant label: read as no better
    assert rows[(1, 2)]["most_common_token"]["score"] == pytest.approx(
        score_label("is", held[(1, 2)]).score, abs=1e-4
    )
    # a real label beats both trivial ones where they do not describe the feature
    dallas = score_label("Dallas", held[(2, 3)], ["Texas"]).score
    assert dallas > rows[(2, 3)]["most_common_token"]["score"] and dallas > rows[(2, 3)]["shuffled"]["score"]
