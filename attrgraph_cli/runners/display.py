"""One live rich display for a distributed batch: overall progress, throughput, and a row per worker."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from attrgraph_cli.safetext import printable


@dataclass
class WorkerRow:
    name: str
    where: str = ""
    state: str = "starting"  # starting | idle | running | dead
    item: str = ""
    done: int = 0
    failed: int = 0


class BatchDisplay:
    """Counts every event; draws them live unless `quiet` (the counts still feed the report)."""

    def __init__(
        self, total: int, *, quiet: bool = False, console: Console | None = None, what: str = "items"
    ):
        self.total = total
        self.quiet = quiet
        self.what = what
        self.console = console or Console(stderr=True)
        self.workers: dict[str, WorkerRow] = {}
        self.done = 0
        self.failed = 0
        self.retried = 0
        self.first_ready: float | None = None
        self.phase = ""  # what the runner is doing before the first worker is ready
        self._live: Any = None
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._task = self._bar.add_task(what.capitalize(), total=total)

    # ---- lifetime -------------------------------------------------------------------------------------
    def __enter__(self) -> BatchDisplay:
        if not self.quiet:
            from rich.live import Live

            self._live = Live(self, console=self.console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    # ---- events ---------------------------------------------------------------------------------------
    def worker_starting(self, name: str) -> None:
        self.workers[name] = WorkerRow(name)

    def worker_ready(self, name: str, where: str) -> None:
        row = self.workers.setdefault(name, WorkerRow(name))
        row.where, row.state = where, "idle"
        if self.first_ready is None:
            self.first_ready = time.perf_counter()
            self.phase = ""

    def worker_lost(self, name: str, reason: str) -> None:
        row = self.workers.setdefault(name, WorkerRow(name))
        row.state, row.item = "dead", reason
        self.log(f"worker {name} lost: {reason}")

    def started(self, name: str, slug: str) -> None:
        row = self.workers[name]
        row.state, row.item = "running", slug

    def finished(self, name: str | None, outcome: Any) -> None:
        ok = outcome.status == "done"
        if ok:
            self.done += 1
        else:
            self.failed += 1
        if name is not None and name in self.workers:
            row = self.workers[name]
            row.state, row.item = "idle", ""
            if ok:
                row.done += 1
            else:
                row.failed += 1
        self._bar.advance(self._task)
        n = self.done + self.failed
        mark = "ok" if ok else "FAILED"
        on = f" on {name}" if name else ""
        self.log(f"[{n}/{self.total}] {outcome.slug}: {mark}{on} {outcome.message}".rstrip())

    def retrying(self, slug: str, name: str) -> None:
        self.retried += 1
        self.log(f"{slug}: its worker {name} died; retrying it once on another worker")

    def log(self, message: str) -> None:
        if not self.quiet:
            self.console.print(printable(message), highlight=False, markup=False)

    # ---- numbers and drawing --------------------------------------------------------------------------
    def throughput(self) -> float | None:
        """Finished items per second since the first worker was ready."""
        if self.first_ready is None:
            return None
        elapsed = time.perf_counter() - self.first_ready
        n = self.done + self.failed
        return n / elapsed if elapsed > 0 and n else None

    def __rich__(self) -> Group:
        rate = self.throughput()
        running = sum(r.state == "running" for r in self.workers.values())
        head = Text.assemble(
            (f"{self.done} done", "green"),
            ", ",
            (f"{self.failed} failed", "red" if self.failed else ""),
            f", {running} running, {self.retried} retried",
            f", {rate * 60:.1f} {self.what}/min" if rate else "",
        )
        table = Table(box=None, pad_edge=False, show_edge=False)
        for col in ("worker", "where", "state", "item", "done", "failed"):
            table.add_column(col, justify="right" if col in ("done", "failed") else "left")
        style = {"running": "cyan", "idle": "dim", "dead": "red", "starting": "yellow"}
        for row in list(self.workers.values()):
            table.add_row(
                Text(row.name),
                Text(row.where),
                Text(row.state, style=style.get(row.state, "")),
                Text(printable(row.item)),
                str(row.done),
                str(row.failed),
            )
        parts: list[Any] = [self._bar, head]
        if self.phase:
            parts.append(Text(self.phase, style="yellow"))
        return Group(*parts, table)
