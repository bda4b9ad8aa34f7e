"""`attrgraph validate PATH...`: schema and semantic checks of graph and feature-details files."""

from __future__ import annotations

import re
import sys
import time
from enum import Enum
from typing import Annotated

import typer

from attrgraph_cli.commands._common import user_errors
from attrgraph_cli.errors import AttrgraphError


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


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
        "--format", "-f", help="text, json or github (workflow-command annotations for GitHub Actions)."
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
) -> None:
    """Check graph JSON (Neuronpedia schema + semantic checks) and feature-details files.

    Exit status: 0 valid (warnings allowed unless --strict), 1 invalid, 2 unreadable input or bad usage.
    """
    _run(paths, output_format, strict, max_per_rule, max_size, trust_pickle)


@user_errors
def _run(paths, output_format, strict, max_per_rule, max_size, trust_pickle) -> None:  # noqa: ANN001
    from attrgraph_cli.validate import runner

    options = runner.Options(
        max_bytes=parse_size(max_size),
        max_per_rule=max_per_rule or None,
        strict=strict,
        trust_pickle=trust_pickle,
    )
    start = time.perf_counter()
    reports = [
        item if isinstance(item, runner.FileReport) else runner.validate_file(item, options)
        for item in runner.expand_paths(paths)
    ]
    seconds = time.perf_counter() - start
    code = runner.exit_code(reports)
    if output_format is OutputFormat.json:
        from attrgraph_cli.validate import report_json

        sys.stdout.buffer.write(report_json.render(reports, seconds, code))
        for r in reports:
            if r.status == "unreadable":
                sys.stderr.write(f"attrgraph: error: {r.error}\n")
    elif output_format is OutputFormat.github:
        from attrgraph_cli.validate import report_github

        sys.stdout.write(report_github.render(reports))
        for r in reports:
            if r.status == "unreadable":
                sys.stderr.write(f"attrgraph: error: {r.error}\n")
    else:
        from attrgraph_cli.validate import report_text

        report_text.render(reports, seconds)
    sys.stdout.flush()
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
