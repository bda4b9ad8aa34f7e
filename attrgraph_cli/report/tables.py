"""The data of the PDF report's tables, as plain rows of strings (the template only lays them out).

Top nodes, top logits, clusters, run settings, intervention results and feature details. Graph files
come from many tools, so every reader here is tolerant: a missing or oddly shaped field becomes an empty
cell or a JSON rendering of whatever is there, never an exception.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attrgraph_cli.graph.ids import feature_number
from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.report import semantics
from attrgraph_cli.report.text import clean_text, token_text

KIND_NAMES = {
    NodeKind.FEATURE: "feature",
    NodeKind.ERROR: "error",
    NodeKind.EMBEDDING: "embedding",
    NodeKind.LOGIT: "logit",
}
#: longest text put into one table cell before it is cut
MAX_CELL = 160


def num(value: Any, digits: int = 3) -> str:
    """A number for a table cell: `digits` significant digits, "" for NaN / None / not a number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "\u221e" if v > 0 else "\u2212\u221e"
    return f"{v:.{digits}g}"


def cell(value: Any, limit: int = MAX_CELL) -> str:
    """Any value as one line of text, cut at `limit` characters (escaping is the template's job)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        text = num(value, 4)
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    text = clean_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def position_text(graph: AttributionGraph, pos: int) -> str:
    tokens = graph.prompt_tokens
    return f"{pos} {token_text(tokens[pos])}" if 0 <= pos < len(tokens) else str(pos)


@dataclass
class NodeRow:
    rank: int
    index: int
    node_id: str
    label: str
    kind: str
    layer: str
    position: str
    influence: str
    activation: str


def top_node_indices(graph: AttributionGraph, n: int) -> np.ndarray:
    """The `n` most important feature and error nodes, in `semantics` rank order."""
    return semantics.top_nodes(graph, n, (NodeKind.FEATURE, NodeKind.ERROR))


def layer_text(graph: AttributionGraph, i: int) -> str:
    kind = int(graph.nodes.kind[i])
    if kind == NodeKind.EMBEDDING:
        return "E"
    if kind == NodeKind.LOGIT:
        return "logit"
    return str(int(graph.nodes.layer[i]))


def node_row(graph: AttributionGraph, i: int, rank: int = 0) -> NodeRow:
    nodes = graph.nodes
    kind = NodeKind(int(nodes.kind[i]))
    label = semantics.display_label(graph, i)
    return NodeRow(
        rank=rank,
        index=int(i),
        node_id=cell(nodes.ids[i], 40),
        label=cell(label),
        kind=KIND_NAMES[kind],
        layer=layer_text(graph, i),
        position=cell(position_text(graph, int(nodes.position[i])), 40),
        influence=num(nodes.influence[i]),
        activation=num(nodes.activation[i]),
    )


def top_nodes(graph: AttributionGraph, n: int) -> list[NodeRow]:
    return [node_row(graph, i, rank + 1) for rank, i in enumerate(top_node_indices(graph, n).tolist())]


def top_logits(graph: AttributionGraph, n: int = 10) -> list[tuple[str, str]]:
    """(short label = the token, probability) of the logit nodes, most probable first."""
    return [
        (cell(semantics.short_label(graph, i), 60), num(graph.nodes.logit_probability[i]))
        for i in semantics.top_logits(graph, n).tolist()
    ]


@dataclass
class Cluster:
    name: str
    members: list[NodeRow]
    missing: list[str]


def clusters(graph: AttributionGraph) -> list[Cluster]:
    """Every supernode with its members (ids the graph lacks are listed apart)."""
    index = {nid: i for i, nid in enumerate(graph.nodes.ids.tolist())}
    out = []
    for name, *members in graph.supernodes:
        rows = [node_row(graph, index[m]) for m in members if m in index]
        missing = [cell(m, 40) for m in members if m not in index]
        out.append(Cluster(cell(name, 120), rows, missing))
    return out


def record_text(record: dict, prefix: str = "") -> str:
    """A provenance record as readable `key: value` pairs (nested keys dotted, empty values left out)."""
    parts = []
    for key, value in record.items():
        name = f"{prefix}{key}".replace("_", " ")
        if isinstance(value, dict):
            inner = record_text(value, f"{prefix}{key}.")
            if inner:
                parts.append(inner)
        elif value not in (None, "", [], {}):
            text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else cell(value, 80)
            parts.append(f"{name}: {text}")
    return "; ".join(parts)


def settings(graph: AttributionGraph) -> list[tuple[str, str]]:
    """Key / value rows describing how the graph was made (model, transcoders, thresholds, provenance)."""
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
    stages = info.get("attrgraph") if isinstance(info.get("attrgraph"), dict) else {}
    for stage, record in stages.items():
        add(f"attrgraph {stage}", record_text(record) if isinstance(record, dict) else record)
    n_feat = int((graph.nodes.kind == NodeKind.FEATURE).sum())
    rows.append(("Size", f"{len(graph.nodes):,} nodes ({n_feat:,} features), {len(graph.edges):,} links"))
    return rows


# ---- interventions -----------------------------------------------------------------------------------


@dataclass
class Intervention:
    title: str
    settings: list[tuple[str, str]]
    before: list[tuple[str, str]]
    after: list[tuple[str, str]]
    other: list[tuple[str, str]] = field(default_factory=list)


def _logit_list(value: Any) -> list[tuple[str, str]]:
    """Top-logit entries in any of the usual shapes: [tok, p], {"token", "prob"|"probability"|...}, "tok"."""
    if isinstance(value, dict):
        value = list(value.items())
    if not isinstance(value, list):
        return [(cell(value), "")] if value not in (None, "") else []
    out = []
    for entry in value[:20]:
        if isinstance(entry, (list, tuple)) and entry:
            out.append((cell(entry[0], 60), num(entry[1]) if len(entry) > 1 else ""))
        elif isinstance(entry, dict):
            token = entry.get("token", entry.get("text", entry.get("id", "")))
            prob = next((entry[k] for k in ("probability", "prob", "p", "logit", "value") if k in entry), "")
            out.append((cell(token, 60), num(prob)))
        else:
            out.append((cell(entry, 60), ""))
    return out


def _settings_list(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(cell(k, 60), cell(v, 80)) for k, v in value.items()]
    if isinstance(value, list):
        rows = []
        for entry in value:
            if isinstance(entry, dict):
                key = entry.get("id", entry.get("node", entry.get("feature", "")))
                rows.append((cell(key, 60), cell(entry.get("value", entry.get("set", "")), 80)))
            elif isinstance(entry, (list, tuple)) and len(entry) >= 2:
                rows.append((cell(entry[0], 60), cell(entry[-1], 80)))
            else:
                rows.append((cell(entry, 60), ""))
        return rows
    return [(cell(value), "")] if value not in (None, "") else []


def interventions(graph: AttributionGraph) -> list[Intervention]:
    """`graph.extra["interventions"]`, read robustly.

    The shape attrgraph writes is a list of objects `{"name"?, "set": {node_id: value},
    "top_logits_before": [[token, p], ...], "top_logits_after": [[token, p], ...]}`; a dict of such
    objects (name -> object) and other list / dict shapes also render, unknown keys as JSON text.
    """
    raw = graph.extra.get("interventions")
    if raw in (None, [], {}):
        return []
    if isinstance(raw, dict):
        looks_single = any(k in raw for k in ("set", "top_logits_before", "top_logits_after"))
        entries = (
            [raw]
            if looks_single
            else [dict(v, name=k) if isinstance(v, dict) else {k: v} for k, v in raw.items()]
        )
    elif isinstance(raw, list):
        entries = raw
    else:
        entries = [{"value": raw}]
    out = []
    for n, entry in enumerate(entries[:50], start=1):
        if not isinstance(entry, dict):
            out.append(Intervention(f"Intervention {n}", [], [], [], [("value", cell(entry))]))
            continue
        title = cell(entry.get("name") or entry.get("description") or f"Intervention {n}", 120)
        setting = entry.get("set", entry.get("interventions", entry.get("features")))
        before = entry.get("top_logits_before", entry.get("before"))
        after = entry.get("top_logits_after", entry.get("after"))
        known = {
            "name",
            "description",
            "set",
            "interventions",
            "features",
            "top_logits_before",
            "before",
            "top_logits_after",
            "after",
        }
        other = [(cell(k, 60), cell(v, 300)) for k, v in entry.items() if k not in known]
        out.append(
            Intervention(title, _settings_list(setting), _logit_list(before), _logit_list(after), other)
        )
    return out


# ---- feature details ---------------------------------------------------------------------------------


@dataclass
class Example:
    tokens: list[tuple[str, float]]  # (text, activation / max activation in 0..1)


@dataclass
class FeatureDetail:
    row: NodeRow
    top_logits: list[str]
    bottom_logits: list[str]
    examples: list[Example]
    density: str


def _schema_version(graph: AttributionGraph) -> int | None:
    version = graph.metadata.get("schema_version", 1)
    return version if isinstance(version, int) else None


def _detail_for(details: dict, graph: AttributionGraph, i: int) -> dict | None:
    """The node's entry: keyed by its feature number (Cantor pair for schema_version 1, as in the
    HTML viewer and Neuronpedia's `{feature}.json`), `layer_index`, `layer-index` or its id."""
    nodes = graph.nodes
    layer, feat = int(nodes.layer[i]), int(nodes.feature[i])
    keys = [
        str(feature_number(layer, feat, _schema_version(graph))) if layer >= 0 and feat >= 0 else None,
        f"{layer}_{feat}",
        f"{layer}-{feat}",
        str(nodes.ids[i]),
    ]
    for key in keys:
        if key is not None and isinstance(details.get(key), dict):
            return details[key]
    return None


def _examples(detail: dict, limit: int) -> list[Example]:
    quantiles = detail.get("examples_quantiles")
    raw: list = []
    if isinstance(quantiles, list):
        for q in quantiles:
            if isinstance(q, dict) and isinstance(q.get("examples"), list):
                raw.extend(q["examples"])
            if len(raw) >= limit:
                break
    elif isinstance(detail.get("activations"), list):  # Neuronpedia's API shape
        raw = [
            {"tokens": a.get("tokens"), "tokens_acts_list": a.get("values")}
            for a in detail["activations"]
            if isinstance(a, dict)
        ]
    out = []
    for ex in raw[:limit]:
        if not isinstance(ex, dict) or not isinstance(ex.get("tokens"), list):
            continue
        tokens = [str(t) for t in ex["tokens"]][:512]
        acts = ex.get("tokens_acts_list") or ex.get("values") or []
        acts = [float(a) if isinstance(a, (int, float)) and math.isfinite(a) else 0.0 for a in acts]
        acts += [0.0] * (len(tokens) - len(acts))
        top = max((abs(a) for a in acts[: len(tokens)]), default=0.0) or 1.0
        # a window of 24 tokens around the strongest activation keeps the example one or two lines long
        peak = int(np.argmax(np.abs(acts[: len(tokens)]))) if tokens else 0
        lo = max(0, min(peak - 12, len(tokens) - 24))
        window = [
            (clean_text(t), min(abs(a) / top, 1.0))
            for t, a in zip(tokens[lo : lo + 24], acts[lo : lo + 24], strict=False)
        ]
        out.append(Example(window))
    return out


def feature_details(graph: AttributionGraph, n: int, examples: int = 3) -> list[FeatureDetail]:
    """Details (`graph.extra["feature_details"]`, feature key -> Neuronpedia feature object) of the top
    `n` features that have them. Keys tried: the feature number (Cantor pair of layer and index, as in
    Neuronpedia's `{feature}.json`), `layer_index`, and the node id."""
    details = graph.extra.get("feature_details")
    if not isinstance(details, dict) or not details:
        return []
    out = []
    for rank, i in enumerate(top_node_indices(graph, n).tolist(), start=1):
        if graph.nodes.kind[i] != NodeKind.FEATURE:
            continue
        detail = _detail_for(details, graph, i)
        if detail is None:
            continue
        logits = (
            [cell(t, 40) for t in detail.get("top_logits", []) or []][:10]
            if isinstance(detail.get("top_logits"), list)
            else []
        )
        bottom = (
            [cell(t, 40) for t in detail.get("bottom_logits", [])][:10]
            if isinstance(detail.get("bottom_logits"), list)
            else []
        )
        density = detail.get("frac_nonzero", detail.get("density", detail.get("act_density")))
        out.append(
            FeatureDetail(node_row(graph, i, rank), logits, bottom, _examples(detail, examples), num(density))
        )
    return out
