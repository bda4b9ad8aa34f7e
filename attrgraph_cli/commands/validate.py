"""`attrgraph validate PATH...`: schema and semantic checks of graph and feature-details files."""

from __future__ import annotations

import re
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from attrgraph_cli.commands._common import user_errors
from attrgraph_cli.errors import AttrgraphError


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"
    junit = "junit"
    codequality = "codequality"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """`500MB`, `2G`, `1.5GiB`, `1000000` -> bytes (powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise AttrgraphError(f"--max-size {text!r}: expected a size such as 500MB or 2GB")
    scale = 1024 ** "kmgt".index(match.group(2).lower()) * 1024 if match.group(2) else 1
    return int(float(match.group(1)) * scale)


PathsArg = Annotated[
    list[str],
    typer.Argument(
        help="Graph or feature-details files, directories (searched recursively for *.json), or globs. "
        "Non-JSON graphs (.pt, .npz) are read with load_graph."
    ),
]
FormatOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="text (file:line:col per problem), json (problems with line/column), github (workflow-command "
        "annotations on the offending line), sarif (SARIF 2.1.0 for code scanning), junit (JUnit XML, one "
        "test case per file), codequality (GitLab Code Quality JSON).",
    ),
]
OutputOpt = Annotated[
    Optional[Path],  # noqa: UP045 - typer reads the annotation at run time (Python 3.10)
    typer.Option("--output", "-o", help="Write the --format report to this file (atomically), not stdout."),
]
ReportOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--report",
        metavar="FORMAT:FILE",
        help="Also write a report in FORMAT to FILE, from the same run (repeatable), e.g. "
        "--report sarif:results.sarif --report junit:validate.xml.",
    ),
]
ChangedOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--changed-since",
        metavar="REF",
        help="Only the files among PATHS that `git diff REF` touched (and new untracked files).",
    ),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail (exit 1) on warnings too.")]
MaxPerRuleOpt = Annotated[
    int,
    typer.Option(
        "--max-per-rule", min=0, help="Problems shown per rule and file; the rest are counted. 0: all."
    ),
]
MaxSizeOpt = Annotated[str, typer.Option("--max-size", help="Refuse larger files (e.g. 500MB, 4GB).")]
TrustOpt = Annotated[
    bool,
    typer.Option(
        "--trust-pickle",
        help="Allow full unpickling of .pt files that need it (runs code from the file: trusted files only).",
    ),
]


def validate(
    paths: PathsArg,
    output_format: FormatOpt = OutputFormat.text,
    strict: StrictOpt = False,
    max_per_rule: MaxPerRuleOpt = 20,
    max_size: MaxSizeOpt = "1GB",
    trust_pickle: TrustOpt = False,
    output: OutputOpt = None,
    report: ReportOpt = None,
    changed_since: ChangedOpt = None,
) -> None:
    """Check graph JSON (Neuronpedia schema + semantic checks) and feature-details files.

    Problems carry the line/column of their value; one run writes --format and every --report FORMAT:FILE.

    Exit status: 0 valid (warnings allowed unless --strict), 1 invalid, 2 unreadable input or bad usage.
    """
    _run(paths, output_format, strict, max_per_rule, max_size, trust_pickle, output, report, changed_since)


@user_errors
def _run(  # noqa: ANN001
    paths, output_format, strict, max_per_rule, max_size, trust_pickle, output, report, changed_since
) -> None:
    from attrgraph_cli.io.neuronpedia_link import resolve_links
    from attrgraph_cli.validate import files, outputs

    paths = resolve_links({"paths": paths})["paths"]  # a Neuronpedia link -> its downloaded graph
    targets = [outputs.ReportTarget(output_format.value, output)]
    targets += [outputs.parse_report(spec) for spec in report or []]
    options = files.Options(
        max_bytes=parse_size(max_size),
        max_per_rule=max_per_rule or None,
        strict=strict,
        trust_pickle=trust_pickle,
    )
    start = time.perf_counter()
    items = files.expand_paths(paths)
    if changed_since is not None:
        from attrgraph_cli.validate.changed import keep_changed

        items = keep_changed(items, changed_since)
    from attrgraph_cli.io.overwrite import refuse_overwrite

    read = [("file to validate", item.path if isinstance(item, files.FileReport) else item) for item in items]
    for target in targets:  # a report never replaces a file it reports on
        refuse_overwrite(target.path, read, flag="--report" if target is not targets[0] else "-o")
    reports = [
        item if isinstance(item, files.FileReport) else files.validate_file(item, options) for item in items
    ]
    seconds = time.perf_counter() - start
    code = files.exit_code(reports)
    outputs.print_errors(reports)
    for target in targets:
        outputs.write(target, reports, seconds, code)
    if all(target.path is not None for target in targets):  # nothing on stdout: say how it went
        sys.stderr.write(_summary(reports, [t.path for t in targets]) + "\n")
    raise typer.Exit(code)


def _summary(reports: list, paths: list[Path]) -> str:
    """One line: files checked by status, error and warning counts, where the reports went."""
    from attrgraph_cli.safetext import printable

    counts = {s: sum(1 for r in reports if r.status == s) for s in ("valid", "invalid", "unreadable")}
    parts = ", ".join(f"{n:,} {s}" for s, n in counts.items() if n) or "none"
    errors = sum(r.sink.n_errors for r in reports)
    warnings = sum(r.sink.n_warnings for r in reports)
    where = ", ".join(str(p) for p in paths)
    return printable(
        f"{len(reports):,} file(s) checked: {parts} · {errors:,} error(s), {warnings:,} warning(s) -> {where}"
    )


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
