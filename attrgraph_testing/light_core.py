"""The light-core check: run attrgraph with torch, circuit-tracer and transformers made unimportable."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "circuit_tracer", "transformer_lens", "transformers", "weasyprint", "playwright", "ray")

# Runs the CLI with heavy imports blocked; reports attempted and loaded heavy modules on stderr at exit.
BOOTSTRAP = """
import atexit, sys
BLOCKED = {"torch", "circuit_tracer", "transformer_lens", "transformers"}
attempts = []
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            attempts.append(name)
            raise ModuleNotFoundError(f"blocked by the light-core test: {name}")
        return None
sys.meta_path.insert(0, _Block())
def _report():
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY_MODULES)
    report = "IMPORT-REPORT attempts=" + ",".join(attempts) + " loaded=" + ",".join(loaded)
    sys.stderr.write("\\n" + report + "\\n")
atexit.register(_report)
sys.argv = ["attrgraph", *sys.argv[1:]]
from attrgraph_cli.cli import main
main()
""".replace("HEAVY_MODULES", repr(HEAVY))


def run_blocked(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, list[str], list[str]]:
    """`attrgraph ARGS` with torch & co. blocked; -> the run, imports attempted, heavy modules loaded."""
    out = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    report = re.search(r"IMPORT-REPORT attempts=(\S*) loaded=(\S*)", out.stderr)
    assert report, out.stderr
    attempts = [m for m in report.group(1).split(",") if m]
    loaded = [m for m in report.group(2).split(",") if m]
    return out, attempts, loaded
