"""Feature details of the top-ranked features that have an `attrgraph.features` entry: the label with its
source, explainer and score, density (and the dense flag), top/bottom logits, activating examples with the
activating tokens shaded, and the activation histogram as a small bar chart."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from attrgraph_cli import extension
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.jsontypes import list_or_empty
from attrgraph_cli.report import semantics
from attrgraph_cli.report.charts import bar_chart
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.tables import NodeRow, cell, node_row, num
from attrgraph_cli.report.text import clean_text

#: tokens shown per example: a window around the strongest activation
WINDOW = 24


@dataclass
class Example:
    tokens: list[tuple[str, float]]  # (text, |activation| / max |activation| in 0..1)


@dataclass
class FeatureView:
    row: NodeRow
    key: str
    label: str
    source: str
    explainer: str
    score: str
    score_method: str
    density: str
    dense: bool
    top_logits: list[str]
    bottom_logits: list[str]
    examples: list[Example]
    histogram: str | None
    facts: list[tuple[str, str]]


def _logits(details: dict[str, Any], name: str) -> list[str]:
    tokens = details.get(name)
    values = details.get(f"{name[:-1]}_values")
    if not isinstance(tokens, list):
        return []
    values = values if isinstance(values, list) and len(values) == len(tokens) else None
    out = []
    for k, token in enumerate(tokens[:10]):
        text = cell(token, 40)
        out.append(f"{text} ({num(values[k])})" if values is not None else text)
    return out


def examples(details: dict[str, Any], limit: int) -> list[Example]:
    """The first `limit` examples over the quantiles (strongest first, as stored)."""
    raw: list[dict[str, Any]] = []
    for q in list_or_empty(details.get("examples_quantiles")):
        if isinstance(q, dict) and isinstance(q.get("examples"), list):
            raw.extend(ex for ex in q["examples"] if isinstance(ex, dict))
        if len(raw) >= limit:
            break
    out = []
    for ex in raw[:limit]:
        tokens = [str(t) for t in list_or_empty(ex.get("tokens"))][:512]
        acts = [
            float(a) if isinstance(a, (int, float)) and math.isfinite(a) else 0.0
            for a in list_or_empty(ex.get("tokens_acts_list"))
        ][: len(tokens)]
        acts += [0.0] * (len(tokens) - len(acts))
        if not tokens:
            continue
        top = max(abs(a) for a in acts) or 1.0
        peak = int(np.argmax(np.abs(acts)))
        lo = max(0, min(peak - WINDOW // 2, len(tokens) - WINDOW))
        window = zip(tokens[lo : lo + WINDOW], acts[lo : lo + WINDOW], strict=True)
        out.append(Example([(clean_text(t), min(abs(a) / top, 1.0)) for t, a in window]))
    return out


def _histogram(details: dict[str, Any]) -> str | None:
    hist = details.get("histogram")
    if (
        not isinstance(hist, dict)
        or not isinstance(hist.get("edges"), list)
        or not isinstance(hist.get("counts"), list)
    ):
        return None
    if len(hist["edges"]) < 2:
        return None
    return bar_chart(hist["edges"], hist["counts"], x_label="activation")


def view(report: ReportContext, i: int, rank: int, entry: dict[str, Any]) -> FeatureView:
    sem = report.sem
    details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
    facts = [
        (name, num(details.get(key)) if key != "n_tokens" else f"{details[key]:,}")
        for name, key in (("max activation", "act_max"), ("corpus tokens", "n_tokens"))
        if isinstance(details.get(key), (int, float)) and not isinstance(details.get(key), bool)
    ]
    return FeatureView(
        row=node_row(report.graph, i, rank, sem, report.views.links),
        key=cell(sem.feature_key[i], 40),
        label=cell(entry.get("label") or "", 200),
        source=cell(entry.get("source") or "", 30),
        explainer=cell(entry.get("explainer") or "", 80),
        score=num(entry.get("score")),
        score_method=cell(entry.get("score_method") or "", 80),
        density=num(sem.density[i]) if sem.density[i] is not None else "",
        dense=bool(sem.dense[i]),
        top_logits=_logits(details, "top_logits"),
        bottom_logits=_logits(details, "bottom_logits"),
        examples=examples(details, sem.thresholds.detail_examples),
        histogram=_histogram(details),
        facts=facts,
    )


def build(report: ReportContext) -> list[FeatureView] | None:
    entries = extension.features(report.graph)
    if not entries:
        return None
    sem = report.sem
    top = semantics.top_nodes(report.graph, report.top, (NodeKind.FEATURE, NodeKind.ERROR))
    out = [
        view(report, i, rank, entries[sem.feature_key[i]])
        for rank, i in enumerate(top.tolist(), start=1)
        if sem.feature_key[i] is not None
    ]
    return out or None


SECTION = Section("feature_details", "pdf_sections/feature_details.html.j2", build)
