"""Every demo command of the README runs as written, in order, on the pipeline the README describes (issue 26,
point 6: `--ablate Texas` failed because `cluster` names that supernode `Dallas`).

Which commands: the quick start (the block after `<!-- quickstart:demo -->`), then, in README order, every
`attrgraph` line of a bash block whose input is a file the run already made (`dallas.json`, then
`out.json`, `report.pdf`, ...); lines on placeholders (`g.json`, `PROMPT`, `graphs/`) are skipped. Then every
line of a block tagged `<!-- demo-pipeline -->` (the line right before its fence) in README.md or docs/*.md,
in file order. Identical lines run once. `examples/` is linked into the run's folder, as in a clone.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from attrgraph_testing.paths import REPO

pytestmark = [pytest.mark.trace, pytest.mark.slow]
pytest.importorskip("circuit_tracer")

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "120"}
TAG = "<!-- demo-pipeline -->"
BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def _lines(code: str) -> list[list[str]]:
    out = []
    for line in code.splitlines():
        line = re.sub(r"\s#\s.*$", "", line).strip()
        if line.startswith("attrgraph "):
            out.append(shlex.split(line))
    return out


def _quickstart(text: str) -> list[list[str]]:
    block = text.split("<!-- quickstart:demo -->")[1].split("<!-- /quickstart:demo -->")[0]
    return [args for code in BLOCK.findall(block) for args in _lines(code)]


def _tagged(text: str) -> list[list[str]]:
    """Lines of the bash blocks right after a `<!-- demo-pipeline -->` line."""
    out = []
    for part in text.split(TAG)[1:]:
        found = BLOCK.search(part)
        if found and not part[: found.start()].strip():
            out += _lines(found.group(1))
    return out


def _outputs(args: list[str]) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-o", "--output")]


def demo_commands() -> list[list[str]]:
    """The README's demo commands in the order they run."""
    readme = (REPO / "README.md").read_text()
    commands = _quickstart(readme)
    made = {out for args in commands for out in _outputs(args)}
    for code in BLOCK.findall(readme):
        for args in _lines(code):
            if len(args) > 2 and args[1] != "trace" and args[2] in made:
                commands.append(args)
                made.update(_outputs(args))
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        commands += _tagged(path.read_text())
    seen: set[str] = set()
    unique = []
    for args in commands:
        if shlex.join(args) not in seen:
            seen.add(shlex.join(args))
            unique.append(args)
    return unique


def test_the_demo_commands_are_found():
    commands = demo_commands()
    assert [a[1] for a in commands[:2]] == ["trace", "validate"]
    # the intervention commands on the demo graph name what cluster writes (the README's own pipeline)
    assert any(a[1] == "intervene" and "--ablate" in a for a in commands)


def test_every_demo_command_runs_as_written(tmp_path):
    (tmp_path / "examples").symlink_to(REPO / "examples")
    for args in demo_commands():
        done = subprocess.run(
            [sys.executable, "-m", "attrgraph_cli", *args[1:]],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=ENV,
            timeout=900,
        )
        assert done.returncode == 0, f"{shlex.join(args)} -> exit {done.returncode}: {done.stderr[-2000:]}"
