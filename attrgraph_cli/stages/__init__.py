"""The stage seam: every graph-to-graph command is a `Stage` run by `run_stage`.

A stage is a function `(graph, options) -> StageOutcome` (it may change the graph in place or return a new
one) plus the settings it records. `run_stage` does the rest, the same way for every command:
load (any format `load_graph` reads) -> migrate to the extension contract -> run -> append the stage's
provenance record to `attrgraph.history` -> check the result with `validate`'s rules (an error aborts
before anything is written, naming the rule) -> atomic write.
"""

from attrgraph_cli.stages.provenance import InputRecord, input_record, stage_record
from attrgraph_cli.stages.runner import StageOutcome, check_before_write, run_stage

__all__ = ["InputRecord", "StageOutcome", "check_before_write", "input_record", "run_stage", "stage_record"]
