"""Human report: one line per file, its problems grouped by rule (capped), and a summary line."""

from __future__ import annotations

import sys
from collections import defaultdict

from rich.console import Console

from attrgraph_cli.safetext import markup as escape
from attrgraph_cli.validate.files import FileReport


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def render(
    reports: list[FileReport], seconds: float, console: Console | None = None, errors: bool = True
) -> None:
    """Print the report on `console` (stdout); unreadable files also on stderr unless `errors` is False."""
    out = console or Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for report in reports:
        if report.status == "unreadable":
            if errors:
                err.print(f"attrgraph: error: {escape(report.error or '')}")
            out.print(f"[bold red]✘[/] {escape(report.path)}  [red]unreadable[/]")
            continue
        sink, result = report.sink, report.result
        size = (
            f"{_plural(result.n_nodes, 'node')}, {_plural(result.n_links, 'link')}"
            if report.kind == "graph"
            else ""
        )
        found = ", ".join(
            part
            for part in (
                sink.n_errors and _plural(sink.n_errors, "error"),
                sink.n_warnings and _plural(sink.n_warnings, "warning"),
            )
            if part
        )
        mark = "[bold green]✔[/]" if report.status == "valid" else "[bold red]✘[/]"
        colour = "green" if report.status == "valid" else "red"
        details = " · ".join(p for p in (report.kind, size, found, f"{report.seconds:.2f} s") if p)
        out.print(f"{mark} {escape(report.path)}  [{colour}]{report.status}[/] [dim]({escape(details)})[/]")
        by_rule = defaultdict(list)
        for problem in sink.problems:
            by_rule[problem.rule].append(problem)
        omitted = sink.omitted()
        rules = sorted(sink.counts, key=lambda r: (sink.severities[r] != "error", r))
        for rule in rules:
            severity = sink.severities[rule]
            style = "red" if severity == "error" else "yellow"
            out.print(f"    [{style}]{severity}[/] [bold]{escape(rule)}[/] [dim]× {sink.counts[rule]:,}[/]")
            for p in by_rule[rule]:
                expected = f" [dim]— expected {escape(p.expected)}[/]" if p.expected else ""
                at = report.position(p)
                where = f"{escape(report.path)}:{at.line}:{at.column}  " if at else ""
                out.print(f"      {where}[cyan]{escape(p.path)}[/]  {escape(p.message)}{expected}")
            if omitted.get(rule):
                out.print(
                    f"      [dim]… and {omitted[rule]:,} more like this (--max-per-rule to see more)[/]"
                )
    counts = defaultdict(int)
    for report in reports:
        counts[report.status] += 1
    n_err = sum(r.sink.n_errors for r in reports)
    n_warn = sum(r.sink.n_warnings for r in reports)
    parts = [f"{counts[s]:,} {s}" for s in ("valid", "invalid", "unreadable") if counts[s]]
    colour = "green" if set(counts) == {"valid"} else "red"
    out.print(
        f"[bold {colour}]{_plural(len(reports), 'file')} checked: {', '.join(parts)}[/] · "
        f"{_plural(n_err, 'error')}, {_plural(n_warn, 'warning')} · {seconds:.2f} s"
    )
    sys.stdout.flush()
