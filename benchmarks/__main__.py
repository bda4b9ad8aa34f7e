"""Run every `benchmarks/bench_*.py` (or those named on the command line) and print one table.

Each module exposes `run() -> list[dict]`; a row has `name`, `ours_s`, `peer`, `peer_s`, `ratio`
(peer time / our time, > 1 means we are faster) and an optional `note` (sizes, memory, budget verdict).
Rows are also written to bench-results/results.json.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import traceback
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "" if value is None else str(value)


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [a if a.startswith("bench_") else f"bench_{a}" for a in argv]
    if wanted:
        names = [n for n in names if n in wanted]
    console = Console(width=None if sys.stdout.isatty() else 220)  # a log file gets the whole table
    rows: list[dict] = []
    failed = False
    for name in names:
        console.print(f"[bold]running {name}[/]")
        try:
            rows.extend(importlib.import_module(f"benchmarks.{name}").run())
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            failed = True
            console.print(f"[red]{name} failed[/]\n{traceback.format_exc()}")
    table = Table(title="attrgraph benchmarks (ratio = peer time / our time)")
    for col in ("benchmark", "ours (s)", "peer", "peer (s)", "ratio", "note"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            row.get("name", ""),
            _fmt(row.get("ours_s")),
            _fmt(row.get("peer")),
            _fmt(row.get("peer_s")),
            _fmt(row.get("ratio")),
            _fmt(row.get("note")),
        )
    console.print(table)
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
