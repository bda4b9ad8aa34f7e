"""Cells and rows for the PDF report's tables: plain strings (the section templates only lay them out).

Every value from a graph file is untrusted and may be oddly typed: `num` and `cell` turn anything into one
line of clean text and never raise; escaping is the templates' (Jinja2 autoescape).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.report import semantics
from attrgraph_cli.report.links import NeuronpediaLinks
from attrgraph_cli.report.text import clean_text, token_text

#: longest text put into one table cell before it is cut
MAX_CELL = 160


def num(value: Any, digits: int = 3) -> str:
    """A number for a table cell: `digits` significant digits, "" for NaN / None / not a number."""
    if isinstance(value, bool):
        return str(value).lower()
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
    elif isinstance(value, bool) or value is None:
        text = "\u2014" if value is None else str(value).lower()
    elif isinstance(value, float):
        text = num(value, 4)
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    text = clean_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def key_values(value: Any, limit: int = 120) -> list[tuple[str, str]]:
    """A dict as (key, value) rows, nested dicts dotted (`a.b`); anything else as one unnamed row."""
    if not isinstance(value, dict):
        return [] if value in (None, "", [], {}) else [("", cell(value, limit))]
    rows: list[tuple[str, str]] = []
    for key, item in value.items():
        if isinstance(item, dict) and item:
            rows.extend(
                (f"{cell(key, 60)}.{k}" if k else cell(key, 60), v) for k, v in key_values(item, limit)
            )
        else:
            rows.append((cell(key, 60), cell(item, limit)))
    return rows


def position_text(graph: AttributionGraph, pos: int) -> str:
    tokens = graph.prompt_tokens
    return f"{pos} {token_text(tokens[pos])}" if 0 <= pos < len(tokens) else str(pos)


def layer_text(graph: AttributionGraph, i: int) -> str:
    kind = int(graph.nodes.kind[i])
    if kind == NodeKind.EMBEDDING:
        return "E"
    if kind == NodeKind.LOGIT:
        return "logit"
    return str(int(graph.nodes.layer[i]))


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
    #: the feature's page on Neuronpedia ("" when none: not a feature, or not hosted there)
    url: str = ""


def node_row(
    graph: AttributionGraph,
    i: int,
    rank: int = 0,
    sem: semantics.Semantics | None = None,
    links: NeuronpediaLinks | None = None,
) -> NodeRow:
    """One node as table cells; its label is the semantics display label, `links` give its page."""
    nodes = graph.nodes
    label = sem.display[i] if sem is not None else semantics.display_label(graph, i)
    return NodeRow(
        rank=rank,
        index=int(i),
        node_id=cell(nodes.ids[i], 40),
        label=cell(label),
        kind=semantics.KIND_NAMES[NodeKind(int(nodes.kind[i]))],
        layer=layer_text(graph, i),
        position=cell(position_text(graph, int(nodes.position[i])), 40),
        influence=num(nodes.influence[i]),
        activation=num(nodes.activation[i]),
        url=(links.node(graph, i) or "") if links is not None else "",
    )
