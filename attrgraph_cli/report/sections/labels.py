"""Labels (autointerp): the label view (`report/views.py`, the one the viewer's Labels panel draws): the
summary line, then every labelled feature with its label, where it came from and its quality score, in the
report's ranking; dense features (density above `--max-density`) listed apart."""

from __future__ import annotations

from dataclasses import dataclass

from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.tables import cell, num
from attrgraph_cli.report.views import MAX_LABEL_ROWS
from attrgraph_cli.report.views import LabelRow as ViewRow


@dataclass
class LabelRow:
    key: str
    label: str
    source: str
    score: str
    density: str
    url: str = ""


@dataclass
class LabelsView:
    summary: str
    score_method: str
    rows: list[LabelRow]
    dense: list[LabelRow]
    max_density: str
    more: int
    more_dense: int


def _row(row: ViewRow) -> LabelRow:
    return LabelRow(
        key=cell(row.key, 30),
        label=cell(row.label, 120),
        source=cell(row.source, 20),
        score=num(row.score) if row.score is not None else "",
        density=num(row.density) if row.density is not None else "",
        url=row.url or "",
    )


def build(report: ReportContext) -> LabelsView | None:
    view = report.views.labels
    if view is None:
        return None
    return LabelsView(
        summary=view.text,
        score_method=cell(", ".join(view.score_methods), 120),
        rows=[_row(r) for r in view.rows[:MAX_LABEL_ROWS]],
        dense=[_row(r) for r in view.dense_rows[:MAX_LABEL_ROWS]],
        max_density=num(report.sem.thresholds.max_density),
        more=max(len(view.rows) - MAX_LABEL_ROWS, 0),
        more_dense=max(len(view.dense_rows) - MAX_LABEL_ROWS, 0),
    )


SECTION = Section("labels", "pdf_sections/labels.html.j2", build)
