"""The stage seam: every graph-writing command goes through the same load -> run -> finish path.

A stage is a function `graph -> StageOutcome` (it may change the graph in place or return a new one; the
outcome carries what its command prints in `result`) plus the settings it records, read off its options
dataclass by `record_settings`. `run_stage` does the rest, the same way for every command: load (any
format `load_graph` reads, migrated to the extension contract) -> run -> `finish_stage`: append the
stage's provenance record to `attrgraph.history` -> check the result with `validate`'s rules (an error
aborts before anything is written, exit 2, naming the rule) -> atomic write. `trace`, whose graph comes
from a model rather than a file, calls `finish_stage` itself.
"""

from attrgraph_cli.stages.pipeline import (
    StageCheckFailed,
    StageInput,
    StageOutcome,
    check_before_write,
    finish_stage,
    load_stage_input,
    run_stage,
)
from attrgraph_cli.stages.provenance import (
    NOT_RECORDED,
    InputRecord,
    input_record,
    record_settings,
    stage_record,
)

__all__ = [
    "NOT_RECORDED",
    "InputRecord",
    "StageCheckFailed",
    "StageInput",
    "StageOutcome",
    "check_before_write",
    "finish_stage",
    "input_record",
    "load_stage_input",
    "record_settings",
    "run_stage",
    "stage_record",
]
