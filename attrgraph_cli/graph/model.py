"""The one in-memory attribution graph that every stage reads and writes.

Columnar like circuit-tracer's `Graph`, but pruned and self-describing: a node table (one numpy array
per column), edges as COO arrays (source index, target index, weight), and the file's metadata.
Everything a reader did not understand is kept in `extra` / `node_extra` / `link_extra` so that
JSON -> model -> JSON loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

#: no model has more layers; a larger layer or `n_layers` is damage (it would size the layout)
MAX_LAYERS = 4096


class NodeKind(IntEnum):
    """What a node is. Values are stable: they are stored in int8 columns and shipped to the viewer."""

    EMBEDDING = 0
    FEATURE = 1
    ERROR = 2
    LOGIT = 3


#: circuit-tracer's `feature_type` string for each kind (what the writer emits by default).
DEFAULT_FEATURE_TYPE = {
    NodeKind.EMBEDDING: "embedding",
    NodeKind.FEATURE: "cross layer transcoder",
    NodeKind.ERROR: "mlp reconstruction error",
    NodeKind.LOGIT: "logit",
}

#: layer value used for embedding nodes (written as "E" in JSON).
EMBEDDING_LAYER = -1


@dataclass
class NodeTable:
    """Columns of the node table; every array has one entry per node, in file order.

    - `ids`: node id strings as written in the file (`{layer}_{feature}_{pos}`, `E_{vocab}_{pos}`, ...).
    - `kind`: `NodeKind` codes (int8).
    - `layer`: int; `EMBEDDING_LAYER` (-1) for embeddings; logits keep the file's layer
      (circuit-tracer writes n_layers + 1).
    - `position`: token position (`ctx_idx`).
    - `feature`: the feature's index inside its layer; for embeddings and logits the vocabulary id
      when known; -1 when not applicable or unknown.
    - `activation`, `influence`, `logit_probability`: float64, NaN when absent.
    - `label`: the clerp (may be "").
    - `logit_token`: the output token's text for logit nodes, "" otherwise.
    - `feature_type`: the file's `feature_type` string (kept for round trips).
    """

    ids: np.ndarray
    kind: np.ndarray
    layer: np.ndarray
    position: np.ndarray
    feature: np.ndarray
    activation: np.ndarray
    influence: np.ndarray
    label: np.ndarray
    logit_token: np.ndarray
    logit_probability: np.ndarray
    feature_type: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def empty(cls, n: int) -> NodeTable:
        """A table of `n` nodes with every column at its "absent" value."""
        return cls(
            ids=np.empty(n, dtype=object),
            kind=np.zeros(n, dtype=np.int8),
            layer=np.zeros(n, dtype=np.int32),
            position=np.zeros(n, dtype=np.int32),
            feature=np.full(n, -1, dtype=np.int64),
            activation=np.full(n, np.nan),
            influence=np.full(n, np.nan),
            label=np.full(n, "", dtype=object),
            logit_token=np.full(n, "", dtype=object),
            logit_probability=np.full(n, np.nan),
            feature_type=np.full(n, "", dtype=object),
        )

    def take(self, index: np.ndarray) -> NodeTable:
        """A new table with the rows `index` (an int array or a boolean mask)."""
        return NodeTable(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})


@dataclass
class EdgeList:
    """Edges in COO form: `source[i] -> target[i]` with `weight[i]`; indices into the node table."""

    source: np.ndarray
    target: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.source)

    @classmethod
    def from_arrays(cls, source: Any, target: Any, weight: Any) -> EdgeList:
        return cls(
            source=np.asarray(source, dtype=np.int32),
            target=np.asarray(target, dtype=np.int32),
            weight=np.asarray(weight, dtype=np.float64),
        )

    def take(self, index: np.ndarray) -> EdgeList:
        return EdgeList(self.source[index], self.target[index], self.weight[index])


@dataclass
class AttributionGraph:
    """A pruned attribution graph: nodes, edges, metadata.

    `metadata` and `qparams` are the file's `metadata` / `qParams` objects as dicts (all keys kept);
    `extra` holds every other top-level key (the `attrgraph` extension among them);
    `node_extra[i]` / `link_extra[i]` hold keys of node / link `i` that have no column.
    """

    nodes: NodeTable
    edges: EdgeList
    metadata: dict[str, Any] = field(default_factory=dict)
    qparams: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    node_extra: dict[int, dict[str, Any]] = field(default_factory=dict)
    link_extra: dict[int, dict[str, Any]] = field(default_factory=dict)
    _index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    # ---- convenience views over metadata -------------------------------------------------
    @property
    def prompt(self) -> str:
        return str(self.metadata.get("prompt", ""))

    @property
    def prompt_tokens(self) -> list[str]:
        tokens = self.metadata.get("prompt_tokens")
        return [str(t) for t in tokens] if isinstance(tokens, list) else []

    @property
    def scan(self) -> str:
        return str(self.metadata.get("scan", ""))

    @property
    def slug(self) -> str:
        return str(self.metadata.get("slug", ""))

    @property
    def info(self) -> dict[str, Any]:
        """`metadata.info` when it is an object, else {} (a hand-edited file may hold anything there)."""
        info = self.metadata.get("info")
        return info if isinstance(info, dict) else {}

    @property
    def n_layers(self) -> int:
        """Number of model layers: from metadata when recorded, else inferred from the nodes."""
        recorded = self.metadata.get("n_layers") or self.info.get("n_layers")
        inner = np.isin(self.nodes.kind, (NodeKind.FEATURE, NodeKind.ERROR))
        inferred = int(self.nodes.layer[inner].max()) + 1 if inner.any() else 0
        if isinstance(recorded, int) and not isinstance(recorded, bool) and 0 < recorded <= MAX_LAYERS:
            return max(recorded, inferred)  # a hand-edited file may record too few (or absurdly many)
        return inferred

    @property
    def n_positions(self) -> int:
        """Number of token positions (prompt length, or one past the largest ctx_idx)."""
        n = len(self.prompt_tokens)
        if len(self.nodes):
            n = max(n, int(self.nodes.position.max()) + 1)
        return n

    @property
    def supernodes(self) -> list[list[str]]:
        """`qParams.supernodes`: each entry `[name, node_id, node_id, ...]` (entries that are not non-empty
        lists are skipped, and a value that is not a list reads as none: a hand-edited file may hold
        anything; `validate` reports it)."""
        raw = self.qparams.get("supernodes")
        if not isinstance(raw, list):
            return []
        return [list(map(str, s)) for s in raw if isinstance(s, list) and s]

    @property
    def pinned_ids(self) -> list[str]:
        """`qParams.pinnedIds` (the string entries; a value that is not a list reads as none)."""
        raw = self.qparams.get("pinnedIds")
        return [p for p in raw if isinstance(p, str)] if isinstance(raw, list) else []

    # ---- lookups -------------------------------------------------------------------------
    def index_of(self, node_id: str) -> int:
        """Row of `node_id` in the node table (KeyError if absent)."""
        if self._index is None or len(self._index) != len(self.nodes):
            self._index = {nid: i for i, nid in enumerate(self.nodes.ids.tolist())}
        return self._index[node_id]

    def mask(self, kind: NodeKind) -> np.ndarray:
        return self.nodes.kind == kind

    def subgraph(self, node_mask: np.ndarray) -> AttributionGraph:
        """Keep the nodes where `node_mask` is true and the edges between them (indices remapped)."""
        node_mask = np.asarray(node_mask, dtype=bool)
        remap = np.full(len(self.nodes), -1, dtype=np.int64)
        kept = np.flatnonzero(node_mask)
        remap[kept] = np.arange(len(kept))
        edge_keep = node_mask[self.edges.source] & node_mask[self.edges.target]
        edges = self.edges.take(edge_keep)
        edges.source = remap[edges.source].astype(np.int32)
        edges.target = remap[edges.target].astype(np.int32)
        old_links = np.flatnonzero(edge_keep)
        link_pos = {int(old): new for new, old in enumerate(old_links)} if self.link_extra else {}
        return AttributionGraph(
            nodes=self.nodes.take(kept),
            edges=edges,
            metadata=dict(self.metadata),
            qparams=dict(self.qparams),
            extra=dict(self.extra),
            node_extra={int(remap[i]): v for i, v in self.node_extra.items() if node_mask[i]},
            link_extra={link_pos[i]: v for i, v in self.link_extra.items() if i in link_pos},
        )

    def adjacency(self):
        """Edges as a `scipy.sparse.csr_matrix` of shape (N, N), rows = target, columns = source."""
        from scipy.sparse import csr_matrix

        n = len(self.nodes)
        return csr_matrix((self.edges.weight, (self.edges.target, self.edges.source)), shape=(n, n))
