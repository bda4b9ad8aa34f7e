"""`trace -o` into a folder that does not exist is refused (a typo must not create folders anywhere, as
root); `--mkdir` creates it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
PROMPT = "The opposite of hot is"


def _trace(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", "trace", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=600,
    )


@pytest.mark.parametrize(
    "args, flag, folder",
    [
        ([PROMPT, "-o", "missing/deeper/g.json"], "-o missing/deeper/g.json", "missing/deeper"),
        ([PROMPT, "-o", "g.json", "--raw", "missing/g.pt"], "--raw missing/g.pt", "missing"),
        ([PROMPT, "-o", "g.json", "--render", "missing/g.html"], "--render missing/g.html", "missing"),
        (["--batch", "p.txt", "-o", "missing/graphs"], "-o missing/graphs", "missing"),
    ],
)
def test_a_missing_parent_folder_is_refused_before_the_model_loads(tmp_path, args, flag, folder):
    (tmp_path / "p.txt").write_text(PROMPT + "\n")
    start = time.perf_counter()
    done = _trace(*args, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"attrgraph: error: {flag}: the folder {str(tmp_path / folder)!r} does not exist "
        "(pass --mkdir to create it)\n"
    )
    assert not (tmp_path / "missing").exists()
    assert time.perf_counter() - start < 60  # no model was loaded


# --mkdir with a model run: tests/project/test_readme_quickstart.py (the batch example into new/graphs)
