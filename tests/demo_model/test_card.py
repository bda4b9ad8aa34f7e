"""The model card is rendered from templates/model_card.md.j2 and the shipped metrics.json."""

from __future__ import annotations

import copy
import json

from attrgraph_cli.demo_model.card import render_card
from attrgraph_cli.demo_model.loader import WEIGHTS_DIR

METRICS = json.loads((WEIGHTS_DIR / "metrics.json").read_text())


def test_shipped_card_is_the_template_rendered_from_the_shipped_metrics():
    assert render_card(METRICS) == (WEIGHTS_DIR / "MODEL_CARD.md").read_text()


def test_the_card_follows_the_metrics():
    """Control for the test above: other metrics give another card, with the numbers and optional parts."""
    changed = copy.deepcopy(METRICS)
    changed["training"]["lm_reused"] = True
    changed["transcoders"][0]["fve"] = 0.5
    del changed["mechanism"]
    card = render_card(changed)
    assert card != render_card(METRICS)
    assert "(`--reuse-lm`) kept it" in card
    assert "| 0.500 |" in card and "❌ below the bar" in card
    assert "## What carries the state" not in card
    assert "## What carries the state" in render_card(METRICS)
