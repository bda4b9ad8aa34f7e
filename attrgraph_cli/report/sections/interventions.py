"""Intervention records (`attrgraph.interventions`, schemas/extension/interventions.schema.json): what was
changed, the settings, per target logit the measured and the graph's predicted change, the top logits and
generated text before and after, a sweep as a line chart, a supernode check as key/value rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attrgraph_cli import extension
from attrgraph_cli.jsontypes import list_or_empty
from attrgraph_cli.report.charts import line_chart, scatter_chart
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.tables import cell, key_values, num
from attrgraph_cli.report.views import sweep_view

#: records shown (the newest ones when there are more)
MAX_RECORDS = 50
#: node ids listed per spec entry before "+N more"
MAX_SPEC_NODES = 8


@dataclass
class Target:
    token: str
    node: str
    logit_before: str
    logit_after: str
    measured: str
    predicted: str
    p_before: str
    p_after: str
    rank_before: str
    rank_after: str
    flag: str = ""


@dataclass
class InterventionView:
    number: int
    name: str
    kind: str
    model: str
    when: str
    spec: list[str]
    settings: list[tuple[str, str]]
    targets: list[Target]
    top_before: list[tuple[str, str]]
    top_after: list[tuple[str, str]]
    generated_before: str
    generated_after: str
    sweep_chart: str | None = None
    agreement_chart: str | None = None
    check: list[tuple[str, str]] = field(default_factory=list)
    #: what measured and predicted compare: mode, units, coverage, tolerance, summary (intervene.agreement)
    prediction: list[str] = field(default_factory=list)
    partial: bool = False


def spec_text(entry: Any) -> str:
    """One spec entry in words: `set 20_15589_10 = 0 at positions 3, 4 (as written: ...)`."""
    if not isinstance(entry, dict):
        return cell(entry)
    op = str(entry.get("op", "?"))
    nodes = [str(n) for n in list_or_empty(entry.get("nodes"))]
    shown = ", ".join(nodes[:MAX_SPEC_NODES]) + (
        f" +{len(nodes) - MAX_SPEC_NODES} more" if len(nodes) > MAX_SPEC_NODES else ""
    )
    target = f"supernode {entry['supernode']} ({shown})" if entry.get("supernode") else shown or "no nodes"
    words = f"{op} {target}"
    if op == "set" and entry.get("value") is not None:
        words += f" = {num(entry['value'], 4)}"
    if op == "scale" and entry.get("multiple") is not None:
        words += f" \u00d7 {num(entry['multiple'], 4)}"
    if op == "swap" and entry.get("source_prompt"):
        words += f" from {entry['source_prompt']!r}"
    positions = list_or_empty(entry.get("positions"))
    if positions:
        words += " at position" + ("s " if len(positions) > 1 else " ") + ", ".join(map(str, positions[:20]))
    text = entry.get("text")
    if isinstance(text, str) and text and text != words:
        words += f" (as written: {text})"
    return cell(words, 400)


def _pairs(value: Any) -> list[tuple[str, str]]:
    out = []
    for item in list_or_empty(value)[:20]:
        if isinstance(item, list) and len(item) == 2:
            out.append((cell(item[0], 60), num(item[1])))
    return out


def _target(t: dict[str, Any]) -> Target:
    return Target(
        token=cell(t.get("token", ""), 60),
        node=cell(t.get("node") or "", 40),
        logit_before=num(t.get("logit_before")),
        logit_after=num(t.get("logit_after")),
        measured=num(t.get("measured_delta")),
        predicted=num(t.get("predicted_delta")),
        p_before=num(t.get("p_before")),
        p_after=num(t.get("p_after")),
        rank_before=num(t.get("rank_before")),
        rank_after=num(t.get("rank_after")),
        flag={"sign": "sign differs", "magnitude": "> 2x apart"}.get(str(t.get("flag")), ""),
    )


def _sweep_chart(sweep: Any) -> str | None:
    """The sweep view (`report/views.py`: the series and colours the viewer draws) as a line chart."""
    found = sweep_view(sweep)
    if found is None:
        return None
    series = [(s.token, s.p) for s in found.series]
    colours = [s.color for s in found.series]
    return line_chart(found.values, series, x_label=found.parameter, y_label="p(token)", colours=colours)


def _agreement_chart(targets: list[dict[str, Any]]) -> str | None:
    points = [
        (str(t.get("token", "")), t.get("predicted_delta"), t.get("measured_delta"))
        for t in targets
        if isinstance(t.get("predicted_delta"), (int, float))
        and isinstance(t.get("measured_delta"), (int, float))
    ]
    if len(points) < 2:
        return None
    return scatter_chart(points, x_label="predicted \u0394 logit (graph)", y_label="measured \u0394 logit")


def view(record: dict[str, Any], number: int) -> InterventionView:
    """One record as the template shows it; missing optional fields are empty strings / lists."""
    targets = [t for t in list_or_empty(record.get("targets")) if isinstance(t, dict)]
    settings = record.get("settings") if isinstance(record.get("settings"), dict) else {}
    when = cell(record.get("time") or "", 40)
    duration = num(record.get("duration_s"))
    if duration:
        when = f"{when}, {duration} s" if when else f"{duration} s"
    check = record.get("check")
    return InterventionView(
        number=number,
        name=cell(record.get("name") or f"Intervention {number}", 120),
        kind=cell(record.get("kind", ""), 30),
        model=cell(record.get("model") or "", 120),
        when=when,
        spec=[spec_text(e) for e in list_or_empty(record.get("spec"))]
        or ["nothing changed (plain forward pass)"],
        settings=key_values(settings, 80),
        targets=[_target(t) for t in targets[:30]],
        top_before=_pairs(record.get("top_before")),
        top_after=_pairs(record.get("top_after")),
        generated_before=cell(record.get("generated_before") or "", 600),
        generated_after=cell(record.get("generated_after") or "", 600),
        sweep_chart=_sweep_chart(record.get("sweep")),
        agreement_chart=_agreement_chart(targets),
        check=key_values(check, 120) if isinstance(check, dict) else [],
        prediction=_prediction_lines(record.get("prediction")),
        partial=isinstance(record.get("prediction"), dict)
        and record["prediction"].get("coverage") in ("partial", "none"),
    )


def _prediction_lines(pred: Any) -> list[str]:
    """The notes under the table (mode, Δ's units, partial coverage, tolerance, summary), as printed."""
    from attrgraph_cli.intervene.table import prediction_lines

    if not isinstance(pred, dict):
        return []
    return [cell(line, 300) for line in prediction_lines(pred)]


def build(report: ReportContext) -> list[InterventionView] | None:
    records = [r for r in extension.interventions(report.graph) if isinstance(r, dict)]
    if not records:
        return None
    start = max(len(records) - MAX_RECORDS, 0)
    return [view(r, n) for n, r in enumerate(records[start:], start=start + 1)]


SECTION = Section("interventions", "pdf_sections/interventions.html.j2", build)
