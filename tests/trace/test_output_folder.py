"""`trace -o` into a folder that does not exist is refused (a typo must not create folders anywhere, as
root); `--mkdir` creates it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from attrgraph_testing.cli import CliResult, run_cli

PROMPT = "The opposite of hot is"


def _trace(*args: str, cwd: Path) -> CliResult:
    return run_cli("trace", *args, fresh=True, cwd=cwd, env={"TRANSFORMERS_OFFLINE": "1"})


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
    assert done.code == 2 and done.stdout == ""
    assert done.stderr == (
        f"attrgraph: error: {flag}: the folder {str(tmp_path / folder)!r} does not exist "
        "(pass --mkdir to create it)\n"
    )
    assert not (tmp_path / "missing").exists()
    assert time.perf_counter() - start < 60  # no model was loaded


# --mkdir with a model run: tests/project/test_readme_quickstart.py (the batch example into new/graphs)
