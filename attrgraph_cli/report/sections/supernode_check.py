"""The `attrgraph intervene --check-supernodes` ranking: every supernode ablated and negated, ranked by
its measured effect on the graph's target logits, next to the graph's prediction, its influence rank and
the same-size random control (records of kind `supernode-check` in `attrgraph.interventions`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attrgraph_cli import extension
from attrgraph_cli.report.charts import scatter_chart
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.tables import cell, num


@dataclass
class CheckRow:
    supernode: str
    op: str
    members: str
    effect: str
    predicted: str
    agreement: str
    effect_rank: str
    influence_rank: str
    control: str


@dataclass
class CheckView:
    rows: list[CheckRow]
    chart: str | None


def _float(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def build(report: ReportContext) -> CheckView | None:
    checks = [
        r["check"]
        for r in extension.interventions(report.graph)
        if isinstance(r, dict) and r.get("kind") == "supernode-check" and isinstance(r.get("check"), dict)
    ]
    if not checks:
        return None
    checks.sort(key=lambda c: (str(c.get("op", "")), -abs(_float(c.get("effect")) or 0.0)))
    rows = []
    for c in checks:
        control = c.get("control") if isinstance(c.get("control"), dict) else {}
        agreement = c.get("agreement")
        rows.append(
            CheckRow(
                supernode=cell(c.get("supernode", ""), 80),
                op="ablate (0)" if c.get("op") == "ablate" else "scale (\u22121\u00d7)",
                members=num(c.get("n_members")),
                effect=num(c.get("effect")),
                predicted=num(c.get("predicted_effect")),
                agreement=(
                    ("same sign" if agreement else "opposite")
                    if isinstance(agreement, bool)
                    else num(agreement)
                ),
                effect_rank=num(c.get("effect_rank")),
                influence_rank=num(c.get("influence_rank")),
                control=f"{num(control.get('mean_abs_effect'))} (max {num(control.get('max_abs_effect'))})",
            )
        )
    points = [
        (
            f"{c.get('supernode', '')} ({c.get('op', '')})",
            _float(c.get("predicted_effect")),
            _float(c.get("effect")),
        )
        for c in checks
    ]
    points = [p for p in points if p[1] is not None and p[2] is not None]
    chart = (
        scatter_chart(points, x_label="predicted effect (graph)", y_label="measured effect")
        if len(points) >= 2
        else None
    )
    return CheckView(rows, chart)


SECTION = Section("supernode_check", "pdf_sections/supernode_check.html.j2", build)
