"""The `attrgraph` extension contract: what the pipeline adds to a Neuronpedia graph JSON.

Labels go to `nodes[].clerp` and supernode membership to `qParams.supernodes`, where Neuronpedia and
circuit-tracer's viewer look. Everything else lives under one top-level key, `attrgraph`, one part per
concern, each with a JSON Schema in `schemas/extension/<part>.schema.json` that `validate` checks:

- `history`: list of stage records (`stages.provenance`), oldest first;
- `features`: `"{layer}_{index}"` -> label, label provenance, score, density and feature details;
- `supernodes`: how `qParams.supernodes` were made (method, settings, seed) and their scores;
- `interventions`: list of intervention records, appended, never replaced.

Readers of these parts (the PDF sections, the viewer payload) use the accessors below and nothing else;
files written before the contract existed are brought to it once, by `migrate`.
"""

from __future__ import annotations

from typing import Any

from attrgraph_cli.graph.model import AttributionGraph

#: the top-level key of the extension in the graph JSON (kept in `AttributionGraph.extra`)
EXTENSION_KEY = "attrgraph"
#: the version of the contract written in `attrgraph.version`
CONTRACT_VERSION = 1
#: part name -> schema file in `schemas/extension/` (a part not listed here is a warning in validate)
PARTS = {
    "history": "history.schema.json",
    "features": "features.schema.json",
    "supernodes": "supernodes.schema.json",
    "interventions": "interventions.schema.json",
}
#: keys of the extension object that are not parts
META_KEYS = {"version"}


def extension(graph: AttributionGraph) -> dict[str, Any]:
    """The graph's `attrgraph` object, created (with its version) when missing."""
    ext = graph.extra.get(EXTENSION_KEY)
    if not isinstance(ext, dict):
        ext = graph.extra[EXTENSION_KEY] = {}
    ext.setdefault("version", CONTRACT_VERSION)
    return ext


def _part(graph: AttributionGraph, name: str, empty: Any) -> Any:
    ext = graph.extra.get(EXTENSION_KEY)
    value = ext.get(name) if isinstance(ext, dict) else None
    return value if isinstance(value, type(empty)) else empty


def history(graph: AttributionGraph) -> list[dict[str, Any]]:
    """Stage records, oldest first (read-only view; `stages.provenance.record_stage` appends)."""
    return _part(graph, "history", [])


def features(graph: AttributionGraph) -> dict[str, dict[str, Any]]:
    """Feature entries keyed by `feature_key(layer, index)` (read-only view)."""
    return _part(graph, "features", {})


def supernode_set(graph: AttributionGraph) -> dict[str, Any]:
    """The supernode-set metadata (`{}` when no stage recorded any)."""
    return _part(graph, "supernodes", {})


def interventions(graph: AttributionGraph) -> list[dict[str, Any]]:
    """Intervention records, oldest first (read-only view)."""
    return _part(graph, "interventions", [])


def feature_key(layer: int, index: int) -> str:
    """Key of a feature in `attrgraph.features`: `"{layer}_{index}"` (one entry for all its positions)."""
    return f"{int(layer)}_{int(index)}"


def set_feature(graph: AttributionGraph, layer: int, index: int, entry: dict[str, Any]) -> None:
    """Store (replace) the entry of one feature."""
    ext = extension(graph)
    ext.setdefault("features", {})[feature_key(layer, index)] = {
        "layer": int(layer),
        "index": int(index),
    } | entry


def set_supernode_set(graph: AttributionGraph, record: dict[str, Any]) -> None:
    """Replace the supernode-set metadata."""
    extension(graph)["supernodes"] = record


def append_intervention(graph: AttributionGraph, record: dict[str, Any]) -> None:
    """Append one intervention record (earlier ones are kept)."""
    extension(graph).setdefault("interventions", []).append(record)


def append_history(graph: AttributionGraph, record: dict[str, Any]) -> None:
    """Append one stage record."""
    extension(graph).setdefault("history", []).append(record)


from attrgraph_cli.extension.migrate import migrate  # noqa: E402  (uses the accessors above)

__all__ = [
    "CONTRACT_VERSION",
    "EXTENSION_KEY",
    "PARTS",
    "append_history",
    "append_intervention",
    "extension",
    "feature_key",
    "features",
    "history",
    "interventions",
    "migrate",
    "set_feature",
    "set_supernode_set",
    "supernode_set",
]
