"""JUnit XML report (Jenkins, GitLab test reports, Buildkite, Azure): one test case per file.

An invalid file is a failed test case whose failure text lists its problems as `file:line:col: ...`; an
unreadable file is an errored one; warnings of a passing file go to its `system-out`. Characters that
XML 1.0 cannot hold (control characters from a hostile graph) are written as `\\xNN`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from attrgraph_cli.validate.files import FileReport
from attrgraph_cli.validate.problems import Problem

SUITE = "attrgraph validate"
CLASSNAME = "attrgraph.validate"
#: what XML 1.0 forbids, and DEL and C1 controls (it discourages them; a terminal or CI log obeys them)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 forbids written as `\\xNN` / `\\uNNNN`."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else "\\ufffd", text)


def problem_line(report: FileReport, problem: Problem) -> str:
    """`graph.json:80231:17: error links.endpoint links[4012].target: target 'x' is ... (expected ...)`."""
    at = report.position(problem)
    where = f"{report.path}:{at.line}:{at.column}" if at else report.path
    level = "error" if problem.severity == "error" or report.strict else "warning"
    expected = f" (expected {problem.expected})" if problem.expected else ""
    return f"{where}: {level} {problem.rule} {problem.path}: {problem.message}{expected}"


def _details(report: FileReport) -> str:
    sink = report.sink
    lines = [problem_line(report, p) for p in sink.problems]
    lines += [f"{report.path}: … and {n:,} more {rule} problems" for rule, n in sink.omitted().items()]
    return "\n".join(lines)


def _summary(report: FileReport) -> str:
    sink = report.sink
    return f"{sink.n_errors:,} error(s), {sink.n_warnings:,} warning(s)"


def build(reports: list[FileReport], seconds: float) -> ET.Element:
    failures = sum(r.status == "invalid" for r in reports)
    errors = sum(r.status == "unreadable" for r in reports)
    counts = {
        "tests": str(len(reports)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": f"{seconds:.3f}",
    }
    suites = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(suites, "testsuite", {"name": SUITE, **counts})
    for report in reports:
        name = xml_text(report.path)
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": CLASSNAME, "name": name, "file": name, "time": f"{report.seconds:.3f}"},
        )
        if report.status == "unreadable":
            message = xml_text(report.error or "unreadable")
            ET.SubElement(case, "error", {"type": "unreadable", "message": message}).text = message
        elif report.status == "invalid":
            failure = ET.SubElement(case, "failure", {"type": "invalid", "message": _summary(report)})
            failure.text = xml_text(_details(report))
        elif report.sink.problems:
            ET.SubElement(case, "system-out").text = xml_text(_details(report))
    return suites


def render(reports: list[FileReport], seconds: float) -> bytes:
    root = build(reports, seconds)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
