"""`attrgraph trace` with no --model: the embedded demo model (skipped until it is part of the checkout)."""

from __future__ import annotations

import json

import pytest

from attrgraph_testing.cli import run_cli
from attrgraph_testing.demo_helpers import require_demo_model

demo_model = require_demo_model()


pytestmark = [pytest.mark.trace, pytest.mark.xdist_group("trace")]

DALLAS = "The capital of the state containing Dallas is"


def test_demo_model_is_the_default(tmp_path):
    out = tmp_path / "dallas.json"
    result = run_cli("trace", DALLAS, "-o", str(out), "--device", "cpu", "-q")
    assert result.code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # --quiet, and library prints kept off stdout
    doc = json.loads(out.read_text())
    meta = doc["metadata"]
    assert meta["slug"] == "the-capital-of-the-state-containing-dallas-is"
    assert meta["scan"]
    assert doc["attrgraph"]["history"][-1]["details"]["model_source"]["source"] == "embedded demo model"
    kinds = {n["feature_type"] for n in doc["nodes"]}
    assert {"embedding", "logit", "cross layer transcoder"} <= kinds
    assert doc["links"]


def test_demo_model_logit_difference(tmp_path):
    tok = demo_model.load_tokenizer()
    if len(tok.encode(" Austin", add_special_tokens=False)) != 1:
        pytest.skip("' Austin' is not one token of the demo vocabulary")
    out = tmp_path / "diff.json"
    args = [
        "trace",
        DALLAS,
        "-o",
        str(out),
        "--device",
        "cpu",
        "-q",
        "--target",
        " Austin",
        "--minus",
        " Dallas",
    ]
    result = run_cli(*args)
    assert result.code == 0, result.stderr
    logits = [n for n in json.loads(out.read_text())["nodes"] if n["feature_type"] == "logit"]
    assert len(logits) == 1 and "logit( Austin)-logit( Dallas)" in logits[0]["clerp"]
