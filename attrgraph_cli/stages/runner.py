"""`run_stage`: load (and migrate) -> stage -> provenance -> validate -> atomic write."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.stages.provenance import InputRecord, input_record, stage_record, utc_now


@dataclass
class StageOutcome:
    """What a stage returns: the graph to write (often the one it was given, changed in place), the
    stage-specific facts for its history record, and a one-line summary for the terminal."""

    graph: AttributionGraph
    details: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


class StageCheckFailed(AttrgraphError):
    """The stage produced a graph that `validate` calls invalid; nothing was written. `rule` and `path`
    name the first error."""

    def __init__(self, message: str, rule: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.rule, self.path = rule, path


def check_before_write(graph: AttributionGraph, stage: str, data: bytes | None = None) -> None:
    """Run validate's rules on the graph; raise with the first error's rule and path.

    With `data` (the JSON bytes about to be written) validate's fast path checks exactly those bytes,
    which is also much faster than walking the in-memory document.
    """
    from attrgraph_cli.validate.engine import validate_bytes, validate_graph

    if data is not None:
        problems = validate_bytes(data, stage, max_per_rule=3, kind="graph").sink.problems
    else:
        problems = validate_graph(graph, max_per_rule=3)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise StageCheckFailed(
            f"{stage} produced an invalid graph, nothing written: [{first.rule}] {first.path}: "
            f"{first.message}{more}",
            first.rule,
            first.path,
        )


def run_stage(
    name: str,
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None,
    stage: Callable[[AttributionGraph], StageOutcome],
    settings: dict[str, Any],
    *,
    load_options: dict[str, Any] | None = None,
    extra_inputs: list[InputRecord] | None = None,
    indent: bool = False,
    graph: AttributionGraph | None = None,
    read_files: list[tuple[str, str | os.PathLike[str] | None]] | None = None,
) -> StageOutcome:
    """Run one graph-to-graph stage end to end and return its outcome (already written to `output`).

    `source` is read with `load_graph` (any format, legacy keys migrated to the extension contract)
    unless `graph` is given (already read with `load_graph`, e.g. by a command that needed it to check
    options). `extra_inputs` describes other files the stage read (labels, corpus, plan) for the record;
    `read_files` names them as (role, path) so that `output` cannot be one of them. `output` may be the
    graph input itself (in place) only when that is graph JSON. With `output=None` nothing is written.
    """
    from attrgraph_cli.extension import append_history, check_extension_shape
    from attrgraph_cli.io import detect_format, load_graph
    from attrgraph_cli.io.overwrite import refuse_overwrite
    from attrgraph_cli.io.sniff import NEURONPEDIA_JSON

    started_at = utc_now()
    started = time.perf_counter()
    fmt = detect_format(source)
    refuse_overwrite(
        output,
        [(f"{fmt} graph" if fmt != NEURONPEDIA_JSON else "graph", source), *(read_files or [])],
        in_place=source if fmt == NEURONPEDIA_JSON else None,
    )
    if graph is None:
        graph = load_graph(source, **(load_options or {}))
    check_extension_shape(graph)  # before the stage's work, which can be a long model run
    outcome = stage(graph)
    inputs = [input_record(source, "graph", fmt), *(extra_inputs or [])]
    record = stage_record(name, settings, inputs, started_at, time.perf_counter() - started, outcome.details)
    append_history(outcome.graph, record)
    if output is None:
        _check(outcome.graph, name, None, source)
        return outcome
    from attrgraph_cli.io.atomic import atomic_write_bytes
    from attrgraph_cli.io.neuronpedia_json import dumps

    data = dumps(outcome.graph, indent=indent)
    _check(outcome.graph, name, data, source)
    atomic_write_bytes(Path(output), data)
    return outcome


def _check(graph: AttributionGraph, stage: str, data: bytes | None, source: str | os.PathLike[str]) -> None:
    """`check_before_write`, and when it fails on a problem the input already had (a hand-edited file),
    an error that says so rather than blaming the stage."""
    try:
        check_before_write(graph, stage, data)
    except StageCheckFailed as failed:
        inherited = _input_problem(source, failed)
        if inherited is None:
            raise
        raise StageCheckFailed(
            f"the input graph is invalid, nothing written by {stage}: {inherited} "
            "(`attrgraph validate` lists every problem)",
            failed.rule,
            failed.path,
        ) from None


def _input_problem(source: str | os.PathLike[str], failed: StageCheckFailed) -> str | None:
    """The input's own error at the rule and path that failed the output check, as text (None when
    the input has no such error, or cannot be checked)."""
    from attrgraph_cli.validate.runner import Options, validate_file

    try:
        report = validate_file(Path(source), Options(max_per_rule=50))
    except Exception:  # noqa: BLE001 - only a better message is at stake; the original error stands
        return None
    for p in report.sink.problems:
        if p.severity == "error" and (p.rule, p.path) == (failed.rule, failed.path):
            return f"[{p.rule}] {p.path}: {p.message}"
    return None
