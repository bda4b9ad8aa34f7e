"""Every report format from one set of `FileReport`s: what `--format`, `--output` and `--report` write."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.safetext import json_bytes, printable
from attrgraph_cli.validate.files import FileReport

#: format name -> what it is for (the --help text lists them)
FORMATS = {
    "text": "human-readable, file:line:col per problem",
    "json": "one JSON object: every file's verdict, problems with line/column, counts per rule",
    "github": "GitHub Actions workflow commands (annotations on the offending line)",
    "sarif": "SARIF 2.1.0 log (GitHub code scanning, GitLab, Azure DevOps)",
    "junit": "JUnit XML, one test case per file (Jenkins, GitLab test reports, Buildkite)",
    "codequality": "GitLab Code Quality JSON (merge-request widget)",
}


class UsageError(AttrgraphError):
    exit_code = 2


@dataclass(frozen=True)
class ReportTarget:
    """One report to write: a format and a file (None: standard output)."""

    format: str
    path: Path | None = None


def check_format(name: str, where: str) -> str:
    if name not in FORMATS:
        raise UsageError(f"{where}: unknown format {name!r} (one of {', '.join(FORMATS)})")
    return name


def parse_report(spec: str) -> ReportTarget:
    """`sarif:results.sarif` -> ReportTarget("sarif", Path("results.sarif"))."""
    name, sep, path = spec.partition(":")
    if not sep or not path:
        raise UsageError(f"--report {spec!r}: expected FORMAT:FILE, e.g. sarif:results.sarif")
    return ReportTarget(check_format(name, f"--report {spec!r}"), Path(path))


def render(fmt: str, reports: list[FileReport], seconds: float, exit_code: int) -> bytes:
    """The report in `fmt` as bytes (text without colours)."""
    if fmt == "json":
        from attrgraph_cli.validate import report_json

        return report_json.render(reports, seconds, exit_code)
    if fmt == "github":
        from attrgraph_cli.validate import report_github

        return report_github.render(reports).encode("utf-8", "surrogateescape")
    if fmt == "sarif":
        from attrgraph_cli.validate import report_sarif

        return report_sarif.render(reports, exit_code)
    if fmt == "junit":
        from attrgraph_cli.validate import report_junit

        return report_junit.render(reports, seconds)
    if fmt == "codequality":
        from attrgraph_cli.validate import report_codequality

        return report_codequality.render(reports)
    from rich.console import Console

    from attrgraph_cli.validate import report_text

    buffer = io.StringIO()
    console = Console(file=buffer, color_system=None, highlight=False, soft_wrap=True, width=200)
    report_text.render(reports, seconds, console, errors=False)
    return buffer.getvalue().encode("utf-8", "surrogateescape")


def write(target: ReportTarget, reports: list[FileReport], seconds: float, exit_code: int) -> None:
    """Write one report: to its file atomically, or to standard output (text in colour on a terminal)."""
    if target.path is not None and str(target.path) != "-":  # `-o -` is stdout, escaped as below
        from attrgraph_cli.io.atomic import atomic_write_bytes

        try:
            atomic_write_bytes(target.path, render(target.format, reports, seconds, exit_code))
        except OSError as exc:
            raise UsageError(f"cannot write {target.path}: {exc.strerror or exc}") from None
        return
    if target.format == "text":
        from attrgraph_cli.validate import report_text

        report_text.render(reports, seconds, errors=False)
    else:  # JSON formats keep their meaning; C1 controls and bidi overrides become \u escapes
        sys.stdout.buffer.write(json_bytes(render(target.format, reports, seconds, exit_code)))
    sys.stdout.flush()


def print_errors(reports: list[FileReport]) -> None:
    """One `attrgraph: error:` line on stderr per unreadable file."""
    for report in reports:
        if report.status == "unreadable":
            sys.stderr.write(f"attrgraph: error: {printable(report.error)}\n")
