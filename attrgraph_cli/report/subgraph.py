"""The pinned subgraph with supernodes collapsed, as a small graph of its own (the PDF's page 2, the viewer's
collapsed graph and its Subgraph panel).

Nodes, in this order: every pinned node (`qParams.pinnedIds`) that is not in a supernode; the target logit
(the most probable one) when no group holds it; every prompt token (embedding node) with a direct edge into
one of those nodes or groups, by position; then one node per supernode (`qParams.supernodes`,
`[name, id, id, ...]`) standing for its members. So the graph reads like the supernode diagrams of the
circuit-tracing papers: tokens -> supernodes -> "Austin". Edges: the sum of the original edge weights
between the groups' members (edges inside a group are dropped), as in Neuronpedia's subgraph view; each
supernode node is framed in its group's colour. A supernode sits at its members' median layer and their
last position, and is a feature unless all its members are logits or embeddings.

`static_js/collapse.js` computes the same graph in the viewer after an edit (tests/report/test_views.py
holds the two to the same result).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attrgraph_cli.graph.model import AttributionGraph, EdgeList, NodeKind, NodeTable
from attrgraph_cli.report.semantics import SUPERNODE_TYPE, top_logits


@dataclass
class Collapsed:
    """The collapsed graph and, per node of it, the original node indices it stands for.

    `supernode[k]` is the index in `qParams.supernodes` of the group node k stands for (None: one node).
    """

    graph: AttributionGraph
    members: list[list[int]]
    supernode: list[int | None]


Groups = list[tuple[int, str, list[int]]]


def _groups(graph: AttributionGraph, index: dict[str, int]) -> tuple[Groups, set[int]]:
    """(supernode index, name, member rows) of every supernode with members left (each node in one group)."""
    groups: Groups = []
    grouped: set[int] = set()
    for k, (name, *members) in enumerate(graph.supernodes):
        rows = sorted({index[m] for m in members if m in index} - grouped)
        if rows:
            groups.append((k, name, rows))
            grouped.update(rows)
    return groups, grouped


def _singles(graph: AttributionGraph, index: dict[str, int], grouped: set[int]) -> list[int]:
    """Loose pinned nodes, the target logit, then the tokens that feed any of them or a group directly."""
    singles = [index[p] for p in dict.fromkeys(graph.pinned_ids) if p in index and index[p] not in grouped]
    shown = set(singles)
    for i in top_logits(graph, 1).tolist():
        if i not in grouped and i not in shown:
            singles.append(i)
            shown.add(i)
    inside = np.zeros(len(graph.nodes), dtype=bool)
    inside[list(grouped | shown)] = True
    src, tgt = graph.edges.source, graph.edges.target
    feeding = np.unique(src[inside[tgt] & (graph.edges.weight != 0)])
    tokens = [int(i) for i in feeding if graph.nodes.kind[i] == NodeKind.EMBEDDING and not inside[i]]
    tokens.sort(key=lambda i: (int(graph.nodes.position[i]), i))
    return singles + tokens


def collapse(graph: AttributionGraph) -> Collapsed | None:
    """The collapsed subgraph, or None when the graph has neither pinned nodes nor supernodes."""
    index = {nid: i for i, nid in enumerate(graph.nodes.ids.tolist())}
    groups, grouped = _groups(graph, index)
    if not groups and not any(p in index for p in graph.pinned_ids):
        return None
    singles = _singles(graph, index, grouped)
    # one box entry per original supernode, so the box colours match page 1 (unnamed: the node names it)
    by_k = {k: g for g, (k, _, _) in enumerate(groups)}
    boxes = [
        ["", f"supernode:{by_k[k]}"] if k in by_k else [name] for k, (name, *_) in enumerate(graph.supernodes)
    ]

    nodes = graph.nodes
    n_new = len(singles) + len(groups)
    group_of = np.full(len(nodes), -1, dtype=np.int64)
    group_of[singles] = np.arange(len(singles))
    table = nodes.take(np.asarray(singles, dtype=np.int64)) if singles else NodeTable.empty(0)
    extra = NodeTable.empty(len(groups))
    for g, (_, name, rows) in enumerate(groups):
        group_of[rows] = len(singles) + g
        kinds = set(nodes.kind[rows].tolist())
        kind = (
            kinds.pop()
            if len(kinds) == 1 and kinds <= {NodeKind.LOGIT, NodeKind.EMBEDDING}
            else NodeKind.FEATURE
        )
        extra.ids[g] = f"supernode:{g}"
        extra.kind[g] = kind
        extra.layer[g] = int(np.median(nodes.layer[rows]))
        extra.position[g] = int(nodes.position[rows].max())
        extra.label[g] = f"{name} ({len(rows)})"
        infl = nodes.influence[rows]
        extra.influence[g] = float(np.nanmin(infl)) if np.isfinite(infl).any() else np.nan
        extra.activation[g] = float(np.nansum(nodes.activation[rows]))
        extra.logit_probability[g] = float(np.nansum(nodes.logit_probability[rows]))
        extra.feature_type[g] = SUPERNODE_TYPE
    merged = NodeTable(
        **{
            name: np.concatenate([getattr(table, name), getattr(extra, name)])
            for name in NodeTable.__dataclass_fields__
        }
    )
    merged.logit_token[len(singles) :] = ""  # a supernode's label is its name, not a logit token

    src = group_of[graph.edges.source]
    tgt = group_of[graph.edges.target]
    keep = (src >= 0) & (tgt >= 0) & (src != tgt)
    edges = EdgeList.from_arrays([], [], [])
    if keep.any():
        from scipy.sparse import coo_matrix

        summed = coo_matrix((graph.edges.weight[keep], (tgt[keep], src[keep])), shape=(n_new, n_new)).tocsr()
        summed.sum_duplicates()
        coo = summed.tocoo()
        nz = coo.data != 0
        edges = EdgeList.from_arrays(coo.col[nz], coo.row[nz], coo.data[nz])
    qparams = {"pinnedIds": [], "supernodes": boxes}
    view = AttributionGraph(nodes=merged, edges=edges, metadata=dict(graph.metadata), qparams=qparams)
    return Collapsed(
        graph=view,
        members=[[i] for i in singles] + [rows for _, _, rows in groups],
        supernode=[None] * len(singles) + [k for k, _, _ in groups],
    )


def pinned_view(graph: AttributionGraph) -> AttributionGraph | None:
    """The collapsed subgraph as a graph (see `collapse`), or None."""
    found = collapse(graph)
    return found.graph if found is not None else None
