"""Page 1: title, prompt, how the graph was made, the top logits and the main figure."""

from __future__ import annotations

from typing import Any

from attrgraph_cli.clip import MAX_PROMPT, clip
from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.report import semantics
from attrgraph_cli.report.page import fit_figure, header_height_mm
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.tables import cell, num

#: height of one line of the 8 pt note saying which files the PDF carries
BUNDLE_NOTE_LINE_MM = 3.6


def settings(graph: AttributionGraph) -> list[tuple[str, str]]:
    """Key / value rows describing how the graph was made (model, transcoders, thresholds, size).

    The stages that made the file are the provenance section's (`attrgraph.history`)."""
    meta = graph.metadata
    info = meta.get("info") if isinstance(meta.get("info"), dict) else {}
    rows: list[tuple[str, str]] = []

    def add(key: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            rows.append((key, cell(value, 300)))

    add("Model (scan)", meta.get("scan"))
    transcoders = meta.get("transcoder_list") or info.get("transcoder_list")
    if isinstance(transcoders, list) and len(transcoders) > 3:
        transcoders = f"{len(transcoders)} per-layer sets: {transcoders[0]}, \u2026, {transcoders[-1]}"
    add("Transcoders", transcoders)
    details = meta.get("feature_details") if isinstance(meta.get("feature_details"), dict) else {}
    add("Feature source set", details.get("neuronpedia_source_set"))
    add("Transcoder sources", info.get("source_urls"))
    generator = info.get("generator") if isinstance(info.get("generator"), dict) else {}
    add("Generator", " ".join(str(generator[k]) for k in ("name", "version") if generator.get(k)))
    add("Node threshold", meta.get("node_threshold"))
    for group in ("pruning_settings", "generation_settings"):
        values = meta.get(group)
        if isinstance(values, dict):
            prefix = "Pruning" if group == "pruning_settings" else "Generation"
            for key, value in values.items():
                add(f"{prefix}: {key.replace('_', ' ')}", value)
    add("Description", info.get("description"))
    add("Created by", info.get("creator_name"))
    n_feat = int((graph.nodes.kind == NodeKind.FEATURE).sum())
    rows.append(("Size", f"{len(graph.nodes):,} nodes ({n_feat:,} features), {len(graph.edges):,} links"))
    return rows


def top_logits(report: ReportContext, n: int) -> list[tuple[str, str]]:
    """(short label = the token, probability) of the `n` most probable logits."""
    graph = report.graph
    return [
        (cell(report.sem.short[i], 60), num(graph.nodes.logit_probability[i]))
        for i in semantics.top_logits(graph, n).tolist()
    ]


def build(report: ReportContext) -> dict[str, Any]:
    graph, geometry = report.graph, report.geometry
    rows = settings(graph)
    logits = top_logits(report, max(5, min(10, len(rows))))
    prompt = clip(graph.prompt, MAX_PROMPT)  # a 50 MB prompt must not stop the layout
    header = header_height_mm(prompt, rows, len(logits), geometry.content_width_mm)
    if report.bundle_note:
        header += 2 * BUNDLE_NOTE_LINE_MM  # the note wraps to two lines on a narrow page
    graph_url = report.views.links.graph  # the graph's page on Neuronpedia (report/links.py), http(s) only
    if graph_url:
        header += 2 * BUNDLE_NOTE_LINE_MM
    return {
        "title": report.title,
        "prompt": prompt,
        "bundle_note": report.bundle_note,
        "graph_url": graph_url,
        "graph_url_text": clip(graph_url, 200) if graph_url else "",
        "settings": rows,
        "top_logits": logits,
        "figure": report.figure,
        "size": fit_figure(report.figure, geometry.content_width_mm, geometry.content_height_mm - header),
    }


SECTION = Section("figure", "pdf_sections/figure.html.j2", build)
