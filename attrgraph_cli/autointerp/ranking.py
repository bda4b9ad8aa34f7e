"""Which label wins when a feature already has one: the ranking of label sources that `autointerp` states
and respects.

A person's label outranks an imported one (a Neuronpedia export, feature-details files, CLT-Forge output, a
CSV table, or a clerp that came with the graph), which outranks an LLM's, which outranks the heuristic's.
A later run replaces a label only with one of the same or a higher rank (an import given on this run
replaces an older import), unless `--overwrite` is given: then this run's labels replace any earlier one.
"""

from __future__ import annotations

from typing import Any

#: rank of each `attrgraph.features[...].source`; higher wins
RANKS: dict[str, int] = {
    "human": 3,
    "neuronpedia": 2,
    "feature-details": 2,
    "clt-forge": 2,
    "table": 2,
    "graph": 2,
    "llm": 1,
    "heuristic": 0,
}


def rank(source: Any) -> int:
    """The rank of a label source (an unknown source ranks lowest)."""
    return RANKS.get(source, -1) if isinstance(source, str) else -1


def keep_earlier(
    entry: dict[str, Any] | None, old: dict[str, Any], current: str, *, overwrite: bool
) -> dict[str, Any] | None:
    """The earlier label's entry when it outranks `entry` (this run's choice), else None.

    `old` is the feature's recorded entry and `current` its node label now: a label edited since it was
    recorded is a person's, which the caller already keeps.
    """
    if entry is None or overwrite or not old.get("label") or current.strip() != old.get("label"):
        return None
    if rank(old.get("source")) <= rank(entry.get("source")):
        return None
    return {k: v for k, v in old.items() if k not in ("layer", "index")}
