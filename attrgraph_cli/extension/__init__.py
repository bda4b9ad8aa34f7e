"""The `attrgraph` extension contract: what the pipeline adds to a Neuronpedia graph JSON.

Labels go to `nodes[].clerp` and supernode membership to `qParams.supernodes`, where Neuronpedia and
circuit-tracer's viewer look. Everything else lives under one top-level key, `attrgraph`, one part per
concern, each with a JSON Schema in `schemas/extension/<part>.schema.json` that `validate` checks:

- `history`: list of stage records (`stages.provenance`), oldest first;
- `features`: `"{layer}_{index}"` -> label, label provenance, score, density and feature details;
- `supernodes`: how `qParams.supernodes` were made (method, settings, seed) and their scores;
- `interventions`: list of intervention records, appended, never replaced.

Readers of these parts (the PDF sections, the viewer payload) use the accessors (`parts.py`) and nothing else;
files written before the contract existed are brought to it once, by `migrate`.
"""

from attrgraph_cli.extension.migrate import migrate
from attrgraph_cli.extension.parts import (
    CONTRACT_VERSION,
    EXTENSION_KEY,
    PARTS,
    ExtensionShapeError,
    append_history,
    append_intervention,
    check_extension_shape,
    extension,
    feature_key,
    features,
    history,
    interventions,
    set_feature,
    set_supernode_set,
    supernode_set,
    writable_part,
)

__all__ = [
    "CONTRACT_VERSION",
    "EXTENSION_KEY",
    "ExtensionShapeError",
    "PARTS",
    "append_history",
    "append_intervention",
    "check_extension_shape",
    "extension",
    "feature_key",
    "features",
    "history",
    "interventions",
    "migrate",
    "set_feature",
    "set_supernode_set",
    "supernode_set",
    "writable_part",
]
