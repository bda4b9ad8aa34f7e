"""`convert` of a circuit-tracer `.pt` traced on the demo model decodes its tokens with the shipped
tokenizer ("Dallas", not `tok85`), without importing torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.trace
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
PROMPT = "The capital of the state containing Dallas is"
NO_TORCH = (
    "import sys; sys.modules['torch'] = None; from attrgraph_cli.cli import main; "
    "sys.argv = ['attrgraph'] + sys.argv[1:]; main()"
)


def test_demo_pt_converts_with_the_demo_tokenizer_and_no_torch(tmp_path: Path, cli):
    pytest.importorskip("circuit_tracer")
    done = cli("trace", PROMPT, "--raw", "graph.pt", "-o", "t.json", "-q", fresh=True, cwd=tmp_path)
    assert done.code == 0, done.stderr
    conv = subprocess.run(
        [sys.executable, "-c", NO_TORCH, "convert", "graph.pt", "-o", "c.json"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert conv.returncode == 0, conv.stderr
    converted = json.loads((tmp_path / "c.json").read_text())["metadata"]
    traced = json.loads((tmp_path / "t.json").read_text())["metadata"]
    assert converted["prompt_tokens"] == traced["prompt_tokens"]
    assert "Dallas" in converted["prompt_tokens"] and converted["info"]["tokens_from"] == "tokenizer"


def test_a_foreign_model_name_still_gets_placeholders():
    """Control: only the demo model's name selects the shipped tokenizer."""
    from attrgraph_cli.io.circuit_tracer_pt import _demo_tokenizer

    assert _demo_tokenizer("attrgraph-demo") is not None
    assert _demo_tokenizer("gpt2") is None and _demo_tokenizer(None) is None
