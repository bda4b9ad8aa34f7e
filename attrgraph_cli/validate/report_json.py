"""Machine-readable report: one JSON object with every file's verdict, problems and counts per rule."""

from __future__ import annotations

import orjson

from attrgraph_cli.safetext import no_surrogates
from attrgraph_cli.validate.files import FileReport
from attrgraph_cli.validate.problems import Problem


def _problem(report: FileReport, problem: Problem) -> dict:
    """The problem's fields plus `line` / `column` of its value (null when unknown)."""
    at = report.position(problem)
    return {**problem.to_dict(), "line": at.line if at else None, "column": at.column if at else None}


def file_entry(report: FileReport) -> dict:
    sink = report.sink
    entry: dict = {"path": report.path, "status": report.status, "valid": report.status == "valid"}
    if report.status == "unreadable":
        entry["error"] = report.error
        return entry
    entry.update(
        kind=report.kind,
        n_nodes=report.result.n_nodes,
        n_links=report.result.n_links,
        errors=sink.n_errors,
        warnings=sink.n_warnings,
        seconds=round(report.seconds, 4),
        counts={
            rule: {"severity": sink.severities[rule], "count": n} for rule, n in sorted(sink.counts.items())
        },
        omitted=sink.omitted(),
        problems=[_problem(report, p) for p in sink.problems],
    )
    return entry


def render(reports: list[FileReport], seconds: float, exit_code: int) -> bytes:
    statuses = [r.status for r in reports]
    doc = {
        "valid": exit_code == 0,
        "exit_code": exit_code,
        "summary": {
            "files": len(reports),
            **{s: statuses.count(s) for s in ("valid", "invalid", "unreadable")},
            "errors": sum(r.sink.n_errors for r in reports),
            "warnings": sum(r.sink.n_warnings for r in reports),
            "seconds": round(seconds, 4),
        },
        "files": [file_entry(r) for r in reports],
    }
    return orjson.dumps(no_surrogates(doc), option=orjson.OPT_INDENT_2) + b"\n"
