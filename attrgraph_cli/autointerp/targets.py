"""The graph's features (one per layer and index, whatever the number of positions) and their context."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from attrgraph_cli.graph.ids import parse_logit_clerp
from attrgraph_cli.graph.model import AttributionGraph, NodeKind


@dataclass
class Target:
    """One feature of the graph: where it sits and what it connects to (the heuristic's graph context)."""

    layer: int
    index: int
    rows: list[int] = field(default_factory=list)
    position_tokens: list[str] = field(default_factory=list)
    output_tokens: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int]:
        return (self.layer, self.index)


def graph_targets(graph: AttributionGraph) -> dict[tuple[int, int], Target]:
    """Feature targets keyed by (layer, index), in node order, with position and output-logit tokens."""
    nodes = graph.nodes
    tokens = graph.prompt_tokens
    targets: dict[tuple[int, int], Target] = {}
    for row in np.nonzero(nodes.kind == NodeKind.FEATURE)[0]:
        layer, index = int(nodes.layer[row]), int(nodes.feature[row])
        if index < 0:
            continue
        target = targets.setdefault((layer, index), Target(layer, index))
        target.rows.append(int(row))
        pos = int(nodes.position[row])
        if 0 <= pos < len(tokens) and tokens[pos] not in target.position_tokens:
            target.position_tokens.append(tokens[pos])
    if not targets:
        return targets
    logit_text = {}
    for row in np.nonzero(nodes.kind == NodeKind.LOGIT)[0]:
        parsed = parse_logit_clerp(str(nodes.label[row]))
        logit_text[int(row)] = str(nodes.logit_token[row]) or (parsed[0] if parsed else "")
    row_to_key = {row: key for key, t in targets.items() for row in t.rows}
    edges = graph.edges
    order = np.argsort(-edges.weight, kind="stable")  # strongest positive effect first
    for e in order:
        if edges.weight[e] <= 0:
            break
        src, dst = int(edges.source[e]), int(edges.target[e])
        key = row_to_key.get(src)
        if key is not None and dst in logit_text:
            text = logit_text[dst]
            if text and text not in targets[key].output_tokens:
                targets[key].output_tokens.append(text)
    return targets
