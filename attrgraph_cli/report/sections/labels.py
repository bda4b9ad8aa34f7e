"""Labels (autointerp): every labelled feature of the graph with its label, where it came from and its
quality score, in the report's ranking; dense features (density above `--max-density`) listed apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attrgraph_cli import extension
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.report import semantics
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.tables import cell, num

#: rows per table (a 7,500-feature graph would otherwise print pages of labels)
MAX_ROWS = 60


@dataclass
class LabelRow:
    key: str
    label: str
    source: str
    score: str
    density: str


@dataclass
class LabelsView:
    summary: str
    score_method: str
    rows: list[LabelRow]
    dense: list[LabelRow]
    max_density: str
    more: int
    more_dense: int


def _row(key: str, entry: dict[str, Any], density: float | None) -> LabelRow:
    return LabelRow(
        key=cell(key, 30),
        label=cell(entry.get("label") or "", 120),
        source=cell(entry.get("source") or "", 20),
        score=num(entry.get("score")) if isinstance(entry.get("score"), (int, float)) else "",
        density=num(density) if density is not None else "",
    )


def build(report: ReportContext) -> LabelsView | None:
    entries = extension.features(report.graph)
    if not entries:
        return None
    sem = report.sem
    rows: list[LabelRow] = []
    dense: list[LabelRow] = []
    seen: set[str] = set()
    order = semantics.top_nodes(report.graph, len(report.graph.nodes), (NodeKind.FEATURE,))
    for i in order.tolist():
        key = sem.feature_key[i]
        if key is None or key in seen or not isinstance(entries.get(key), dict):
            continue
        seen.add(key)
        entry = entries[key]
        (dense if sem.dense[i] else rows).append(_row(key, entry, sem.density[i]))
    if not rows and not dense:
        return None
    by_source: dict[str, int] = {}
    scores = []
    methods = set()
    for key in seen:
        entry = entries[key]
        source = str(entry.get("source") or "unknown")
        by_source[source] = by_source.get(source, 0) + 1
        if isinstance(entry.get("score"), (int, float)):
            scores.append(float(entry["score"]))
            methods.add(str(entry.get("score_method") or ""))
    parts = ", ".join(f"{n} {s}" for s, n in sorted(by_source.items()))
    summary = f"{len(seen)} labelled features: {parts}"
    if scores:
        summary += f"; mean score {sum(scores) / len(scores):.3f} over {len(scores)}"
    return LabelsView(
        summary=summary,
        score_method=cell(", ".join(sorted(m for m in methods if m)), 120),
        rows=rows[:MAX_ROWS],
        dense=dense[:MAX_ROWS],
        max_density=num(sem.thresholds.max_density),
        more=max(len(rows) - MAX_ROWS, 0),
        more_dense=max(len(dense) - MAX_ROWS, 0),
    )


SECTION = Section("labels", "pdf_sections/labels.html.j2", build)
