"""The stages that made the file (`attrgraph.history`): name, version, settings, inputs with short
digests, start time and duration, oldest first."""

from __future__ import annotations

from dataclasses import dataclass

from attrgraph_cli import extension
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.tables import cell, key_values, num

#: hex digits of an input's sha256 shown in the table
DIGEST_CHARS = 12


@dataclass
class StageInput:
    name: str
    role: str
    format: str
    size: str
    digest: str


@dataclass
class StageView:
    number: int
    stage: str
    version: str
    started: str
    duration: str
    settings: list[tuple[str, str]]
    inputs: list[StageInput]
    details: list[tuple[str, str]]


def _size(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return ""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value} B"


def _inputs(raw: object) -> list[StageInput]:
    out = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        digest = item.get("sha256")
        out.append(
            StageInput(
                name=cell(item.get("name", ""), 80),
                role=cell(item.get("role", ""), 20),
                format=cell(item.get("format", ""), 30),
                size=_size(item.get("bytes")),
                digest=cell(digest[:DIGEST_CHARS], 20) + "\u2026" if isinstance(digest, str) else "\u2014",
            )
        )
    return out


def build(report: ReportContext) -> list[StageView] | None:
    records = [r for r in extension.history(report.graph) if isinstance(r, dict)]
    if not records:
        return None
    out = []
    for n, record in enumerate(records, start=1):
        settings = record.get("settings")
        duration = num(record.get("duration_s"))
        out.append(
            StageView(
                number=n,
                stage=cell(record.get("stage", "?"), 40),
                version=cell(record.get("attrgraph_version", ""), 40),
                started=cell(record.get("started", ""), 40),
                duration=f"{duration} s" if duration else "",
                settings=key_values(settings if isinstance(settings, dict) else {}, 120),
                inputs=_inputs(record.get("inputs")),
                details=key_values(
                    record.get("details") if isinstance(record.get("details"), dict) else {}, 120
                ),
            )
        )
    return out


SECTION = Section("provenance", "pdf_sections/provenance.html.j2", build)
