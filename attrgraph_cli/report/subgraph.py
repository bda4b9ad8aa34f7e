"""The pinned subgraph with supernodes collapsed, as a small graph of its own (for the PDF's page 2).

Nodes: every pinned node (`qParams.pinnedIds`) that is not in a supernode, plus one node per supernode
(`qParams.supernodes`, `[name, id, id, ...]`) standing for its members. Edges: the sum of the original
edge weights between the groups' members (edges inside a group are dropped), as in Neuronpedia's
subgraph view; each supernode node is framed in its group's colour. A supernode sits at its members'
median layer and their last position, and is a feature unless all its members are logits or embeddings.
"""

from __future__ import annotations

import numpy as np

from attrgraph_cli.graph.model import AttributionGraph, EdgeList, NodeKind, NodeTable
from attrgraph_cli.report.semantics import SUPERNODE_TYPE


def pinned_view(graph: AttributionGraph) -> AttributionGraph | None:
    """The collapsed subgraph, or None when the graph has neither pinned nodes nor supernodes."""
    index = {nid: i for i, nid in enumerate(graph.nodes.ids.tolist())}
    groups: list[tuple[str, list[int]]] = []
    grouped: set[int] = set()
    boxes: list[list[str]] = []  # one entry per original supernode, so the box colours match page 1
    for name, *members in graph.supernodes:
        rows = sorted({index[m] for m in members if m in index} - grouped)
        if rows:
            boxes.append(["", f"supernode:{len(groups)}"])
            groups.append((name, rows))
            grouped.update(rows)
        else:
            boxes.append([name])
    pinned = [index[p] for p in dict.fromkeys(graph.pinned_ids) if p in index]
    singles = [i for i in pinned if i not in grouped]
    if not groups and not singles:
        return None

    nodes = graph.nodes
    n_new = len(singles) + len(groups)
    group_of = np.full(len(nodes), -1, dtype=np.int64)
    group_of[singles] = np.arange(len(singles))
    table = nodes.take(np.asarray(singles, dtype=np.int64)) if singles else NodeTable.empty(0)
    extra = NodeTable.empty(len(groups))
    for g, (name, rows) in enumerate(groups):
        k = len(singles) + g
        group_of[rows] = k
        kinds = set(nodes.kind[rows].tolist())
        kind = (
            kinds.pop()
            if len(kinds) == 1 and kinds <= {NodeKind.LOGIT, NodeKind.EMBEDDING}
            else NodeKind.FEATURE
        )
        extra.ids[g] = f"supernode:{g}"
        extra.kind[g] = kind
        inner = nodes.layer[rows]
        extra.layer[g] = int(np.median(inner))
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
    # a supernode's label is its name, not a logit token
    merged.logit_token[len(singles) :] = ""

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
    # each supernode node sits in a box of its group's colour (unnamed: the node's label names it)
    qparams = {"pinnedIds": [], "supernodes": boxes}
    return AttributionGraph(nodes=merged, edges=edges, metadata=dict(graph.metadata), qparams=qparams)
