"""GitHub Actions report: `::error` / `::warning` workflow commands that annotate the files in a PR.

Values are escaped as the runner expects (`%`, CR, LF in messages; also `:` and `,` in properties), so a
hostile string in a graph cannot inject a second command.
"""

from __future__ import annotations

from attrgraph_cli.safetext import printable
from attrgraph_cli.validate.files import FileReport
from attrgraph_cli.validate.positions import Position


def escape_data(text: str) -> str:
    # CR/LF in GitHub's own encoding (shown as line breaks inside the annotation); every other control,
    # bidi override or escape sequence as visible text
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, file: str, title: str, message: str, at: Position | None = None) -> str:
    where = f",line={at.line},col={at.column}" if at else ""
    properties = f"file={escape_property(file)}{where},title={escape_property(title)}"
    return f"::{level} {properties}::{escape_data(message)}"


def render(reports: list[FileReport]) -> str:
    lines: list[str] = []
    for report in reports:
        if report.status == "unreadable":
            lines.append(command("error", report.path, "attrgraph validate: unreadable", report.error or ""))
            continue
        sink = report.sink
        for p in sink.problems:
            level = "error" if p.severity == "error" or report.strict else "warning"
            expected = f" (expected {p.expected})" if p.expected else ""
            lines.append(
                command(
                    level,
                    report.path,
                    f"attrgraph {p.rule}",
                    f"{p.path}: {p.message}{expected}",
                    report.position(p),
                )
            )
        for rule, n in sink.omitted().items():
            level = "error" if sink.severities[rule] == "error" or report.strict else "warning"
            lines.append(
                command(level, report.path, f"attrgraph {rule}", f"… and {n:,} more problems of this rule")
            )
    n_bad = sum(r.status != "valid" for r in reports)
    lines.append(f"attrgraph validate: {len(reports)} file(s), {n_bad} failing")
    return "\n".join(lines) + "\n"
