"""The accessors of the `attrgraph` extension: read a part (a wrong type reads as empty), add to one (a
wrong type is an `ExtensionShapeError`, never silently replaced), and the part names and types."""

from __future__ import annotations

from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.jsontypes import json_type_phrase

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


class ExtensionShapeError(AttrgraphError):
    """The graph's `attrgraph` object, or one of its parts, is not the JSON type the contract says; a
    stage refuses to write into it (replacing it would lose what the file holds)."""


#: part name -> the JSON container it must be
PART_TYPES: dict[str, type] = {"history": list, "features": dict, "supernodes": dict, "interventions": list}


def _shape_error(where: str, value: Any, wanted: type) -> ExtensionShapeError:
    return ExtensionShapeError(
        f"the graph's {where} is {json_type_phrase(value)}, not {json_type_phrase(wanted())} as the "
        "attrgraph extension contract says: fix or remove it (`attrgraph validate` shows the problem); "
        "nothing was written"
    )


def extension(graph: AttributionGraph) -> dict[str, Any]:
    """The graph's `attrgraph` object, created (with its version) when missing.

    Raises `ExtensionShapeError` when the file holds an `attrgraph` value that is not an object: it is
    never silently replaced."""
    if EXTENSION_KEY not in graph.extra:
        graph.extra[EXTENSION_KEY] = {}
    ext = graph.extra[EXTENSION_KEY]
    if not isinstance(ext, dict):
        raise _shape_error(EXTENSION_KEY, ext, dict)
    ext.setdefault("version", CONTRACT_VERSION)
    return ext


def check_extension_shape(graph: AttributionGraph) -> None:
    """Raise `ExtensionShapeError` unless the stages can add to the graph's extension: `attrgraph`
    absent or an object, and each part it holds of its contract type. A stage checks this before its
    work (a model run can take minutes), not when it records the result."""
    ext = graph.extra.get(EXTENSION_KEY, {})
    if not isinstance(ext, dict):
        raise _shape_error(EXTENSION_KEY, ext, dict)
    for name, wanted in PART_TYPES.items():
        if name in ext and not isinstance(ext[name], wanted):
            raise _shape_error(f"{EXTENSION_KEY}.{name}", ext[name], wanted)


def writable_part(graph: AttributionGraph, name: str) -> Any:
    """The part `name` to add to (created empty when missing); `ExtensionShapeError` when it has the
    wrong type."""
    ext = extension(graph)
    wanted = PART_TYPES[name]
    part = ext.setdefault(name, wanted())
    if not isinstance(part, wanted):
        raise _shape_error(f"{EXTENSION_KEY}.{name}", part, wanted)
    return part


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
    writable_part(graph, "features")[feature_key(layer, index)] = {
        "layer": int(layer),
        "index": int(index),
    } | entry


def set_supernode_set(graph: AttributionGraph, record: dict[str, Any]) -> None:
    """Replace the supernode-set metadata (a stage re-running replaces its own record; a value of the
    wrong type is refused, not overwritten)."""
    writable_part(graph, "supernodes")
    extension(graph)["supernodes"] = record


def append_intervention(graph: AttributionGraph, record: dict[str, Any]) -> None:
    """Append one intervention record (earlier ones are kept)."""
    writable_part(graph, "interventions").append(record)


def append_history(graph: AttributionGraph, record: dict[str, Any]) -> None:
    """Append one stage record."""
    writable_part(graph, "history").append(record)
