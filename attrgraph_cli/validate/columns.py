"""A graph document as columns, built from msgspec Structs (fast path) or from plain dicts (precise path).

The semantic checks read only these columns. Values of the wrong type were already reported by the
schema pass; here they become `None` (strings, objects) or NaN with a `*_ok` mask false (numbers), so
that the checks neither crash on them nor report them twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import msgspec
import numpy as np

_UNSET = msgspec.UNSET


class AttributeView(Sequence):
    """`[getattr(x, name) for x in items]` without building the list (for 1M links)."""

    def __init__(self, items: list, name: str) -> None:
        self._items, self._get = items, attrgetter(name)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: Any) -> Any:
        return self._get(self._items[i])

    def __iter__(self) -> Iterator[Any]:
        return map(self._get, self._items)


def _endpoint_rows(node_ids: list[str], links: list) -> tuple[np.ndarray, np.ndarray]:
    """Node row of every link endpoint, where every endpoint is known to be a node id.

    The endpoints were decoded as a `Literal` of the node ids, so each is one of the `node_ids` string
    objects themselves: their hashes are cached, and a dict lookup costs little more than a pointer
    comparison.
    """
    index: dict[str, int] = {}
    for i, node_id in enumerate(node_ids):
        index.setdefault(node_id, i)
    source = np.array([index[link.source] for link in links], dtype=np.int64)
    target = np.array([index[link.target] for link in links], dtype=np.int64)
    return source, target


def _struct_value(obj: Any, name: str, default: Any = None) -> Any:
    value = getattr(obj, name, default)
    return default if value is _UNSET else value


@dataclass
class GraphColumns:
    """Per-node and per-link columns plus the small objects (metadata, qParams, qk_only_nodes) as dicts."""

    node_id: list[Any]
    layer: list[Any]
    ctx_idx: list[Any]
    feature_type: list[Any]
    clerp: list[Any]
    influence: list[Any]  # float, None (null), or _UNSET (absent)
    activation: list[Any]
    qk_results: list[tuple[int, Any]]  # (node index, qk_tracing_results dict) for nodes that have them
    link_source: list[Any]
    link_target: list[Any]
    weight: np.ndarray | None  # None: known finite (msgspec decoded them), not materialised
    weight_ok: np.ndarray | None  # False where the weight is missing or not a number (already reported)
    metadata: dict = field(default_factory=dict)
    qparams: dict = field(default_factory=dict)
    qk_only_nodes: dict = field(default_factory=dict)
    #: the top-level `attrgraph` extension object as decoded (any type), `_UNSET` when absent
    extension: Any = _UNSET
    #: (source rows, target rows) when already known, else None (the checks look the ids up)
    link_rows: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def n_nodes(self) -> int:
        return len(self.node_id)

    @property
    def n_links(self) -> int:
        return len(self.link_source)

    @classmethod
    def from_struct(
        cls, doc: Any, links: list, members: dict[str, Any], endpoints_checked: bool = False
    ) -> GraphColumns:
        """From a document decoded by the schema's msgspec types (every type already checked).

        `links` is the decoded links list; `members` holds the object members (metadata, qParams, ...)
        as plain dicts. With `endpoints_checked`, every endpoint string is one of the nodes' own id
        objects (see `FastDecoder.links_with_endpoints`), which makes finding their rows cheap.
        """
        nodes = doc.nodes
        qk = [
            (i, msgspec.to_builtins(n.qk_tracing_results))
            for i, n in enumerate(nodes)
            if _struct_value(n, "qk_tracing_results") is not None
        ]
        node_ids = [n.node_id for n in nodes]
        cols = cls(
            node_id=node_ids,
            layer=[n.layer for n in nodes],
            ctx_idx=[n.ctx_idx for n in nodes],
            feature_type=[n.feature_type for n in nodes],
            clerp=[n.clerp for n in nodes],
            influence=[_struct_value(n, "influence", _UNSET) for n in nodes],
            activation=[_struct_value(n, "activation", _UNSET) for n in nodes],
            qk_results=qk,
            link_source=AttributeView(links, "source"),
            link_target=AttributeView(links, "target"),
            # msgspec refuses NaN/Infinity tokens and numbers beyond float range: every weight is finite
            weight=None,
            weight_ok=None,
            metadata=members.get("metadata", {}),
            qparams=members.get("qParams", {}),
            qk_only_nodes=members.get("qk_only_nodes", {}),
            extension=members.get("attrgraph", _UNSET),
        )
        if endpoints_checked:
            cols.link_rows = _endpoint_rows(node_ids, links)
        return cols

    @classmethod
    def from_dict(cls, doc: dict) -> GraphColumns:
        """From a plain decoded document that may break the schema anywhere."""
        nodes = doc.get("nodes")
        nodes = [n if isinstance(n, dict) else {} for n in nodes] if isinstance(nodes, list) else []
        links = doc.get("links")
        links = [x if isinstance(x, dict) else {} for x in links] if isinstance(links, list) else []

        def text(v: Any) -> str | None:
            return v if isinstance(v, str) else None

        def number(v: Any) -> Any:
            if v is None or v is _UNSET:
                return v
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

        weights = [x.get("weight") for x in links]
        ok = np.array([isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights], dtype=bool)
        weight = np.array(
            [float(w) if good else np.nan for w, good in zip(weights, ok.tolist(), strict=True)], dtype=float
        )
        qk = [
            (i, n["qk_tracing_results"])
            for i, n in enumerate(nodes)
            if isinstance(n.get("qk_tracing_results"), dict)
        ]

        def obj(name: str) -> dict:
            value = doc.get(name)
            return value if isinstance(value, dict) else {}

        return cls(
            node_id=[text(n.get("node_id")) for n in nodes],
            layer=[n.get("layer") if isinstance(n.get("layer"), (str, int)) else None for n in nodes],
            ctx_idx=[n.get("ctx_idx") for n in nodes],
            feature_type=[text(n.get("feature_type")) for n in nodes],
            clerp=[text(n.get("clerp")) for n in nodes],
            influence=[number(n.get("influence", _UNSET)) for n in nodes],
            activation=[number(n.get("activation", _UNSET)) for n in nodes],
            qk_results=qk,
            link_source=[text(x.get("source")) for x in links],
            link_target=[text(x.get("target")) for x in links],
            weight=weight,
            weight_ok=ok,
            metadata=obj("metadata"),
            qparams=obj("qParams"),
            qk_only_nodes=obj("qk_only_nodes"),
            extension=doc.get("attrgraph", _UNSET),
        )
