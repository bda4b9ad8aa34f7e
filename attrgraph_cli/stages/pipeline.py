"""The one path every graph-writing command takes: load -> run -> finish (provenance, check, atomic write).

`run_stage` is the three halves in a row; a command whose graph does not come from a file (`trace`)
calls `finish_stage` alone, so every written graph gets the same history record, the same check (exit 2,
the rule named) and the same atomic write.
"""

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
    stage-specific facts for its history record, a one-line summary for the terminal, and `result`, what
    the stage computed that its command prints (a clustering, intervention records, a labelling report).
    `seconds` is filled in by `run_stage`: load, run and finish together."""

    graph: AttributionGraph
    details: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    result: Any = None
    seconds: float = 0.0


@dataclass
class StageInput:
    """A loaded input graph and what the history record says about where and when it was read."""

    graph: AttributionGraph
    source: str | os.PathLike[str]
    fmt: str
    started_at: str
    started: float


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


def load_stage_input(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None,
    *,
    load_options: dict[str, Any] | None = None,
    read_files: list[tuple[str, str | os.PathLike[str] | None]] | None = None,
    graph: AttributionGraph | None = None,
) -> StageInput:
    """Load half: refuse an `output` that is one of the inputs, read `source` (any format, legacy keys
    migrated) unless `graph` already holds it, and check that a stage can add to its extension."""
    from attrgraph_cli.extension import check_extension_shape
    from attrgraph_cli.io import detect_format, load_graph
    from attrgraph_cli.io.overwrite import refuse_overwrite
    from attrgraph_cli.io.sniff import NEURONPEDIA_JSON

    started_at, started = utc_now(), time.perf_counter()
    fmt = detect_format(source)
    refuse_overwrite(
        output,
        [(f"{fmt} graph" if fmt != NEURONPEDIA_JSON else "graph", source), *(read_files or [])],
        in_place=source if fmt == NEURONPEDIA_JSON else None,
    )
    if graph is None:
        graph = load_graph(source, **(load_options or {}))
    check_extension_shape(graph)  # before the stage's work, which can be a long model run
    return StageInput(graph, source, fmt, started_at, started)


def finish_stage(
    name: str,
    outcome: StageOutcome,
    settings: dict[str, Any],
    inputs: list[InputRecord],
    output: str | os.PathLike[str] | None,
    *,
    started_at: str,
    duration_s: float,
    indent: bool = False,
    source: str | os.PathLike[str] | None = None,
) -> None:
    """Finish half: append the stage's history record, check the graph with validate's rules (exit 2,
    the first error's rule named; nothing written), then write it atomically. With `output=None` the
    graph is checked and nothing is written. `source` (the input graph file, if any) lets a failed check
    say when the problem was already in the input."""
    from attrgraph_cli.extension import append_history

    record = stage_record(name, settings, inputs, started_at, duration_s, outcome.details)
    append_history(outcome.graph, record)
    if output is None:
        _check(outcome.graph, name, None, source)
        return
    from attrgraph_cli.io.atomic import atomic_write_bytes
    from attrgraph_cli.io.neuronpedia_json import dumps

    data = dumps(outcome.graph, indent=indent)
    _check(outcome.graph, name, data, source)
    if str(output) == "-":  # a terminal or a CI log: C1 controls and bidi overrides as \u escapes
        from attrgraph_cli.safetext import json_bytes

        data = json_bytes(data)
    atomic_write_bytes(Path(output), data)


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
    """Run one graph-to-graph stage end to end (load, run, finish) and return its outcome.

    `graph`: already read with `load_graph` (a command that needed it to check options). `extra_inputs`
    describes other files the stage read (labels, corpus, plan) for the record; `read_files` names them as
    (role, path) so that `output` cannot be one of them. `output` may be the graph input itself (in place)
    only when that is graph JSON. With `output=None` nothing is written (a dry run).
    """
    loaded = load_stage_input(source, output, load_options=load_options, read_files=read_files, graph=graph)
    outcome = stage(loaded.graph)
    finish_stage(
        name,
        outcome,
        settings,
        [input_record(source, "graph", loaded.fmt), *(extra_inputs or [])],
        output,
        started_at=loaded.started_at,
        duration_s=time.perf_counter() - loaded.started,
        indent=indent,
        source=source,
    )
    outcome.seconds = time.perf_counter() - loaded.started
    return outcome


def _check(
    graph: AttributionGraph, stage: str, data: bytes | None, source: str | os.PathLike[str] | None
) -> None:
    """`check_before_write`, and when it fails on a problem the input already had (a hand-edited file),
    an error that says so rather than blaming the stage."""
    try:
        check_before_write(graph, stage, data)
    except StageCheckFailed as failed:
        inherited = _input_problem(source, failed) if source is not None else None
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
    from attrgraph_cli.validate.files import Options, validate_file

    try:
        report = validate_file(Path(source), Options(max_per_rule=50))
    except Exception:  # noqa: BLE001 - only a better message is at stake; the original error stands
        return None
    for p in report.sink.problems:
        if p.severity == "error" and (p.rule, p.path) == (failed.rule, failed.path):
            return f"[{p.rule}] {p.path}: {p.message}"
    return None
