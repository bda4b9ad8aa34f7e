"""One way to run `attrgraph ARGS...` from tests and benchmarks (tests/conftest.py's `cli` fixture).

In this process through typer's `CliRunner` (fast; an unexpected exception is raised, not hidden in an
exit code), or with `fresh=True` as `python -m attrgraph_cli` in a new process (for what only a process
shows: the environment, signals, what is imported at start).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

ERROR_PREFIX = "attrgraph: error:"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout then stderr (what a terminal shows, for a check that a text appears somewhere)."""
        return self.stdout + self.stderr

    def error_line(self, codes: tuple[int, ...] = (1, 2)) -> str:
        """The one `attrgraph: error:` line of a failed run (the house rule: one line, no traceback)."""
        lines = [line for line in self.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
        assert self.code in codes, (self.code, self.stderr)
        assert len(lines) == 1 and "Traceback" not in self.stderr, self.stderr
        return lines[0]


def run_cli(
    *args: str | os.PathLike[str],
    fresh: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> CliResult:
    """Run `attrgraph` with `args`; -> exit code, stdout, stderr."""
    argv = [str(a) for a in args]
    if fresh:
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
        done = subprocess.run(
            [sys.executable, "-m", "attrgraph_cli", *argv],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=full_env,
            timeout=timeout,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)
    if cwd is not None or env:
        raise ValueError("cwd and env need fresh=True (a new process)")
    from typer.testing import CliRunner

    from attrgraph_cli.cli import app

    result = CliRunner().invoke(app, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


__all__ = ["CliResult", "run_cli"]
