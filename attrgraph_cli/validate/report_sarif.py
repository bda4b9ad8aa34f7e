"""SARIF 2.1.0 report (GitHub code scanning, GitLab, Azure DevOps): one run, every rule, a result per problem.

Files are URIs relative to the working directory (`uriBaseId` %SRCROOT%) when they lie under it;
regions carry the start line and column (Unicode code points) of the value a problem is about. An
unreadable file is a tool execution notification, and problems a `--max-per-rule` cap left out are
counted in notes, so that nothing found is silent.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import orjson

from attrgraph_cli import __version__
from attrgraph_cli.safetext import no_surrogates
from attrgraph_cli.validate.files import FileReport
from attrgraph_cli.validate.problems import Problem
from attrgraph_cli.validate.rules import RULES, Rule, rule_info

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def artifact_location(path: str, cwd: Path | None = None) -> dict:
    """`{"uri": "graphs/a.json", "uriBaseId": "%SRCROOT%"}`, or an absolute file URI outside `cwd`."""
    root = (cwd or Path.cwd()).resolve()
    full = Path(os.path.abspath(path))
    try:
        relative = full.relative_to(root)
    except ValueError:
        return {"uri": full.as_uri()}
    # a name that is not UTF-8 (lone surrogates here) is %-encoded byte by byte, as a URI holds it
    return {"uri": quote(os.fsencode(relative.as_posix())), "uriBaseId": SRCROOT}


def _descriptor(rule: Rule) -> dict:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.replace("-", ".").replace("_", ".").split(".")),
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.help},
        "defaultConfiguration": {"level": rule.level},
        "help": {"text": rule.help},
        "properties": {"tags": ["attrgraph", rule.id.split(".")[0]]},
    }


def _level(report: FileReport, severity: str) -> str:
    return "error" if severity == "error" or report.strict else "warning"


def _result(report: FileReport, problem: Problem, index: int, location: dict) -> dict:
    physical: dict = {"artifactLocation": location}
    at = report.position(problem)
    if at is not None:
        physical["region"] = {"startLine": at.line, "startColumn": at.column}
    expected = f" (expected {problem.expected})" if problem.expected else ""
    return {
        "ruleId": problem.rule,
        "ruleIndex": index,
        "level": _level(report, problem.severity),
        "message": {"text": f"{problem.path}: {problem.message}{expected}"},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [{"fullyQualifiedName": problem.path, "kind": "member"}],
            }
        ],
    }


def _notification(text: str, level: str, location: dict) -> dict:
    return {
        "level": level,
        "message": {"text": text},
        "locations": [{"physicalLocation": {"artifactLocation": location}}],
    }


def build(reports: list[FileReport], exit_code: int, cwd: Path | None = None) -> dict:
    """The SARIF log as a dict."""
    rules = list(RULES)
    index = {rule.id: i for i, rule in enumerate(rules)}
    for report in reports:  # a rule the catalogue does not know still gets a descriptor
        for rule_id, severity in report.sink.severities.items():
            if rule_id not in index:
                index[rule_id] = len(rules)
                rules.append(rule_info(rule_id, severity))
    results: list[dict] = []
    notifications: list[dict] = []
    for report in reports:
        location = artifact_location(report.path, cwd)
        if report.status == "unreadable":
            notifications.append(_notification(report.error or "unreadable", "error", location))
            continue
        sink = report.sink
        results.extend(_result(report, p, index[p.rule], location) for p in sink.problems)
        for rule_id, n in sink.omitted().items():
            notifications.append(
                _notification(
                    f"{n:,} more {rule_id} problems in {report.path} not listed (--max-per-rule 0 lists all)",
                    "note",
                    location,
                )
            )
    root = (cwd or Path.cwd()).resolve().as_uri() + "/"
    run = {
        "tool": {
            "driver": {
                "name": "attrgraph",
                "fullName": "attrgraph validate",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_descriptor(rule) for rule in rules],
            }
        },
        "invocations": [
            {
                "executionSuccessful": exit_code != 2,
                "exitCode": exit_code,
                "toolExecutionNotifications": notifications,
            }
        ],
        "originalUriBaseIds": {SRCROOT: {"uri": root}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(reports: list[FileReport], exit_code: int, cwd: Path | None = None) -> bytes:
    return orjson.dumps(no_surrogates(build(reports, exit_code, cwd)), option=orjson.OPT_INDENT_2) + b"\n"
