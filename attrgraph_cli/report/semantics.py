"""What a node *means* on screen, computed once in Python for every renderer (HTML viewer, SVG, PDF).

- display label: a feature's clerp, else `L{layer}/{index}`; an error node's clerp, else
  `Error L{layer} @{pos}`; an embedding shows its prompt token; a logit `Output "tok" (p=0.42)`; the
  short label (figures) is the same but a logit's is its token alone;
- colour: one palette (`PALETTE`): one CSS colour per node kind, edge colours by sign, and the supernode
  palette (supernode k takes `supernodes[k % len]`);
- rank: one importance order over all nodes, 0 = most important (`node_rank`): circuit-tracer's cumulative
  influence ascending (NaN last), then |activation| descending, then logit probability descending, then
  file order. A renderer that shows "the top k features" takes the features in rank order;
- feature key: the node's entry in `attrgraph.features` (`extension.feature_key(layer, index)`), or None
  when the graph has none for it; density and the dense flag come from that entry;
- thresholds: every default threshold and count the report uses (`DEFAULTS`, per graph `thresholds`).

The viewer receives all of this as `head.semantics` (`as_payload`); the SVG and the PDF call the same
functions, so the three outputs cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from attrgraph_cli import extension
from attrgraph_cli.clip import MAX_LABEL, clip
from attrgraph_cli.graph.ids import parse_logit_clerp
from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.report.text import clean_text, shown_token, token_text

#: node kind -> the name used in the palette and in tables
KIND_NAMES = {
    NodeKind.EMBEDDING: "embedding",
    NodeKind.FEATURE: "feature",
    NodeKind.ERROR: "error",
    NodeKind.LOGIT: "logit",
}

#: `feature_type` of the nodes that stand for a whole supernode (the PDF's collapsed subgraph)
SUPERNODE_TYPE = "supernode"

#: the one palette: node fills by kind, edge strokes by sign, supernode colours (cycled)
PALETTE: dict[str, Any] = {
    "embedding": "#475569",
    "feature": "#0d9488",
    "error": "#a8a29e",
    "logit": "#16a34a",
    "positive": "#2563eb",
    "negative": "#dc2626",
    "supernodes": [
        "#e11d48",
        "#7c3aed",
        "#ea580c",
        "#0891b2",
        "#65a30d",
        "#c026d3",
        "#ca8a04",
        "#4f46e5",
        "#059669",
        "#db2777",
        "#0284c7",
        "#92400e",
    ],
    # lines of a chart with several series (an intervention sweep: one per token), in series order
    "series": ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"],
}


def kind_color(kind: int) -> str:
    """CSS colour of a node kind."""
    return PALETTE[KIND_NAMES[NodeKind(int(kind))]]


def supernode_color(k: int) -> str:
    """CSS colour of the k-th supernode (in `qParams.supernodes` order)."""
    colours = PALETTE["supernodes"]
    return colours[k % len(colours)]


@dataclass(frozen=True)
class Thresholds:
    """Every default threshold and count of the report, in one place.

    - `display_influence_threshold`: a display filter, not pruning: the viewer's node-influence slider
      starts here and hides the nodes ranked past this share of the influence (the graph's own pruning
      threshold, `metadata.node_threshold`, when it records one, see `thresholds`);
    - `min_weight`: smallest |edge weight| drawn (viewer slider and figures);
    - `max_edges`: the figure draws this many strongest links; `subgraph_max_edges` for the pinned subgraph;
    - `figure_labels`, `logit_labels`: how many features / logits the figure labels;
    - `top_nodes`: rows of the PDF's top-nodes table (`render --top`); `detail_examples`: activating
      examples per feature in the PDF;
    - `label_density`: share of the visible nodes the viewer labels, most important first, each where its
      label has room: 1 labels every node that has room, as the PDF's figure does (one rule for both);
    - `errors_hidden_above`: the viewer starts with error nodes hidden when there are more than this;
    - `max_density`: a feature firing on a larger share of tokens is `dense` (unless its entry says).
    """

    display_influence_threshold: float = 1.0
    min_weight: float = 0.0
    max_edges: int = 1000
    subgraph_max_edges: int = 400
    figure_labels: int = 24
    logit_labels: int = 6
    top_nodes: int = 20
    detail_examples: int = 3
    label_density: float = 1.0
    errors_hidden_above: int = 50
    max_density: float = 0.25

    def as_json(self) -> dict[str, float | int]:
        """The thresholds with camelCase names (the viewer's)."""
        out = {}
        for name in self.__dataclass_fields__:
            head, *rest = name.split("_")
            out[head + "".join(w.capitalize() for w in rest)] = getattr(self, name)
        return out


DEFAULTS = Thresholds()


def thresholds(graph: AttributionGraph) -> Thresholds:
    """`DEFAULTS` with the display threshold at the node threshold the graph was pruned at (clipped to
    [0, 1]), when it says."""
    value = graph.metadata.get("node_threshold")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        from dataclasses import replace

        return replace(DEFAULTS, display_influence_threshold=float(min(max(value, 0.0), 1.0)))
    return DEFAULTS


# ---- labels ------------------------------------------------------------------------------------------


def _prob_text(p: float) -> str:
    return f"{p:.2g}" if p >= 0.01 or p == 0 else f"{p:.1e}"


def display_label(graph: AttributionGraph, i: int) -> str:
    """What node `i` is called everywhere (see the module docstring); clean of XML-forbidden characters."""
    nodes = graph.nodes
    kind = int(nodes.kind[i])
    label = clip(str(nodes.label[i] or "").strip(), MAX_LABEL)
    if label and nodes.feature_type[i] == SUPERNODE_TYPE:  # a collapsed supernode shows its name
        return clean_text(label)
    if kind == NodeKind.FEATURE:
        return clean_text(label) if label else f"L{int(nodes.layer[i])}/{int(nodes.feature[i])}"
    if kind == NodeKind.ERROR:
        return clean_text(label) if label else f"Error L{int(nodes.layer[i])} @{int(nodes.position[i])}"
    if kind == NodeKind.EMBEDDING:
        tokens = graph.prompt_tokens
        pos = int(nodes.position[i])
        if 0 <= pos < len(tokens):
            return clean_text(token_text(str(tokens[pos])))
        return clean_text(label) if label else f"Emb @{pos}"
    token, prob = _logit(graph, i)
    if token is None:
        return clean_text(label) if label else clean_text(str(nodes.ids[i]))
    text = f'Output "{shown_token(token)}"'
    return text + (f" (p={_prob_text(prob)})" if math.isfinite(prob) else "")


def _logit(graph: AttributionGraph, i: int) -> tuple[str | None, float]:
    """A logit node's output token (None when unknown) and probability (NaN when unknown)."""
    nodes = graph.nodes
    token = str(nodes.logit_token[i] or "")
    prob = float(nodes.logit_probability[i])
    if not token:
        parsed = parse_logit_clerp(str(nodes.label[i] or "").strip())
        if parsed is None:
            return None, prob
        token = parsed[0]
        if math.isnan(prob):
            prob = parsed[1]
    return token, prob


def short_label(graph: AttributionGraph, i: int) -> str:
    """`display_label`, except that a logit shows only its token (figures label the logit row this way;
    the probability is in the PDF's top-logits table and the viewer's hover)."""
    if int(graph.nodes.kind[i]) == NodeKind.LOGIT and graph.nodes.feature_type[i] != SUPERNODE_TYPE:
        token, _ = _logit(graph, i)
        if token is not None:
            return clean_text(token_text(token))
    return display_label(graph, i)


def display_labels(graph: AttributionGraph) -> list[str]:
    """`display_label` of every node."""
    return [display_label(graph, i) for i in range(len(graph.nodes))]


# ---- ranking -----------------------------------------------------------------------------------------


def rank_order(graph: AttributionGraph) -> np.ndarray:
    """Node indices, most important first (the order `node_rank` numbers)."""
    nodes = graph.nodes
    n = len(nodes)
    if not n:
        return np.empty(0, dtype=np.int64)
    infl = np.where(np.isnan(nodes.influence), np.inf, nodes.influence)
    act = -np.abs(np.nan_to_num(nodes.activation, nan=0.0))
    prob = -np.nan_to_num(nodes.logit_probability, nan=-1.0)
    return np.lexsort((np.arange(n), prob, act, infl))


def node_rank(graph: AttributionGraph) -> np.ndarray:
    """Rank of every node: 0 = most important (int64 array; see the module docstring)."""
    order = rank_order(graph)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def top_nodes(graph: AttributionGraph, n: int, kinds: tuple[int, ...] = (NodeKind.FEATURE,)) -> np.ndarray:
    """The `n` best-ranked nodes of the given kinds, best first."""
    order = rank_order(graph)
    keep = np.isin(graph.nodes.kind[order], np.asarray(kinds, dtype=graph.nodes.kind.dtype))
    return order[keep][: max(n, 0)]


def top_logits(graph: AttributionGraph, n: int) -> np.ndarray:
    """The `n` most probable logit nodes, most probable first (ties in file order)."""
    idx = np.flatnonzero(graph.nodes.kind == NodeKind.LOGIT)
    prob = np.nan_to_num(graph.nodes.logit_probability[idx], nan=-1.0)
    return idx[np.argsort(-prob, kind="stable")][: max(n, 0)]


# ---- features ------------------------------------------------------------------------------------------


def feature_keys(graph: AttributionGraph) -> list[str | None]:
    """Per node, its key in `attrgraph.features` when the graph has an entry for it, else None."""
    entries = extension.features(graph)
    nodes = graph.nodes
    if not entries:
        return [None] * len(nodes)
    out: list[str | None] = []
    for kind, layer, index in zip(
        nodes.kind.tolist(), nodes.layer.tolist(), nodes.feature.tolist(), strict=True
    ):
        key = extension.feature_key(layer, index) if kind == NodeKind.FEATURE and index >= 0 else None
        out.append(key if key is not None and isinstance(entries.get(key), dict) else None)
    return out


def _density(entry: dict[str, Any]) -> float | None:
    value = entry.get("density")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def densities(graph: AttributionGraph, keys: list[str | None] | None = None) -> list[float | None]:
    """Per node, the density of its feature entry (share of corpus tokens it fires on), else None."""
    entries = extension.features(graph)
    keys = keys if keys is not None else feature_keys(graph)
    return [_density(entries[k]) if k is not None else None for k in keys]


def dense_flags(
    graph: AttributionGraph, keys: list[str | None] | None = None, limits: Thresholds | None = None
) -> list[bool]:
    """Per node: its entry's `dense` flag, else density above `max_density`; False without an entry."""
    entries = extension.features(graph)
    keys = keys if keys is not None else feature_keys(graph)
    limit = (limits or thresholds(graph)).max_density
    out = []
    for key in keys:
        entry = entries[key] if key is not None else None
        if entry is None:
            out.append(False)
        elif isinstance(entry.get("dense"), bool):
            out.append(entry["dense"])
        else:
            density = _density(entry)
            out.append(density is not None and density > limit)
    return out


# ---- everything, once ------------------------------------------------------------------------------------


@dataclass
class Semantics:
    """The per-node semantics of one graph (lists / arrays with one entry per node)."""

    display: list[str]
    short: list[str]
    color: list[str]
    rank: np.ndarray
    feature_key: list[str | None]
    density: list[float | None]
    dense: list[bool]
    thresholds: Thresholds

    def as_payload(self) -> dict[str, Any]:
        """The `head.semantics` object of the viewer payload."""
        return {
            "display": self.display,
            "short": {
                str(i): t for i, (t, d) in enumerate(zip(self.short, self.display, strict=True)) if t != d
            },
            "palette": PALETTE,
            "color": self.color,
            "rank": self.rank.tolist(),
            "featureKey": self.feature_key,
            "density": self.density,
            "dense": self.dense,
            "thresholds": self.thresholds.as_json(),
            "limits": {"label": MAX_LABEL},
        }


def compute(graph: AttributionGraph) -> Semantics:
    """All of the graph's semantics."""
    limits = thresholds(graph)
    keys = feature_keys(graph)
    by_kind = {int(k): kind_color(k) for k in KIND_NAMES}
    return Semantics(
        display=display_labels(graph),
        short=[short_label(graph, i) for i in range(len(graph.nodes))],
        color=[by_kind[k] for k in graph.nodes.kind.tolist()],
        rank=node_rank(graph),
        feature_key=keys,
        density=densities(graph, keys),
        dense=dense_flags(graph, keys, limits),
        thresholds=limits,
    )
