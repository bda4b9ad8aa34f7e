"""GitLab Code Quality report (the Code Climate issue subset GitLab reads): one issue per problem.

GitLab shows these in merge-request widgets and diffs (`artifacts: reports: codequality`). Each issue
has a description, the rule as `check_name`, a stable fingerprint (file, rule, path, message), a
severity (`major` for errors, `minor` for warnings, `blocker` for unreadable files) and the location
(path relative to the working directory, begin line and column).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import orjson

from attrgraph_cli.safetext import no_surrogates
from attrgraph_cli.validate.files import FileReport

SEVERITY = {"error": "major", "warning": "minor"}


def relative_path(path: str, cwd: Path | None = None) -> str:
    """`path` relative to the working directory when it lies under it, else absolute (POSIX slashes)."""
    full = Path(os.path.abspath(path))
    try:
        return full.relative_to((cwd or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return full.as_posix()


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def build(reports: list[FileReport], cwd: Path | None = None) -> list[dict]:
    issues: list[dict] = []
    for report in reports:
        path = relative_path(report.path, cwd)
        if report.status == "unreadable":
            text = report.error or "unreadable"
            issues.append(
                {
                    "type": "issue",
                    "description": text,
                    "check_name": "attrgraph.unreadable",
                    "categories": ["Bug Risk"],
                    "fingerprint": _fingerprint(path, "unreadable", text),
                    "severity": "blocker",
                    "location": {"path": path, "lines": {"begin": 1}},
                }
            )
            continue
        for p in report.sink.problems:
            at = report.position(p)
            begin = {"line": at.line, "column": at.column} if at else {"line": 1, "column": 1}
            expected = f" (expected {p.expected})" if p.expected else ""
            severity = "error" if report.strict else p.severity
            issues.append(
                {
                    "type": "issue",
                    "description": f"{p.path}: {p.message}{expected}",
                    "check_name": p.rule,
                    "categories": ["Bug Risk"],
                    "fingerprint": _fingerprint(path, p.rule, p.path, p.message),
                    "severity": SEVERITY[severity],
                    "location": {"path": path, "positions": {"begin": begin, "end": begin}},
                }
            )
    return issues


def render(reports: list[FileReport], cwd: Path | None = None) -> bytes:
    return orjson.dumps(no_surrogates(build(reports, cwd)), option=orjson.OPT_INDENT_2) + b"\n"
