"""The README's Python snippet ends without `Exception ignored in ... __del__` (circuit-tracer's
ReplacementModel resets its hooks in `__del__`, which fails once Python has torn torch down)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.trace
pytest.importorskip("circuit_tracer")

SNIPPET = """
from attrgraph_cli.demo_model import load_replacement_model
from circuit_tracer import attribute

model = load_replacement_model()
graph = attribute("The capital of the state containing Dallas is", model)
print("done")
"""
#: the same script with attrgraph's exit reset switched off: circuit-tracer's own teardown
CONTROL = "import atexit\nfrom attrgraph_cli.demo_model import teardown\n" + SNIPPET.replace(
    'print("done")', 'atexit.unregister(teardown._reset_live)\nprint("done")'
)


def _run(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)


def test_the_snippet_ends_quietly_and_the_control_does_not():
    done = _run(SNIPPET)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("done"), done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr
    control = _run(CONTROL)
    assert control.returncode == 0
    assert "Exception ignored in" in control.stderr and "__del__" in control.stderr
