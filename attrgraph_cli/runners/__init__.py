"""Runners: map one per-item task over planned items, in this process or on a Ray cluster.

A batch command (`trace --batch`, later `intervene` plan files) is split in three:
1. a plan: a list of items, each with `index` (its place in the plan), `slug` (a short name for the display)
   and `skip` (already done: its output exists; outputs are written atomically, so existing means complete);
2. a `Work`: how a worker gets ready once (`setup(device, threads)`, e.g. load the model on the device the
   runner gave it: "cpu" or "cuda", and with `threads` torch threads when not None) and the per-item task
   `task(state, item, options) -> outcome`, which writes the item's outputs itself and returns a small
   outcome with `index`, `slug`, `status` ("done" | "skipped" | "failed") and `message`. A task reports a bad
   item as a failed outcome instead of raising, so one item cannot stop the batch;
3. a runner that yields one outcome per item as they finish (`LocalRunner` in `attrgraph_cli.trace.batch`,
   `RayRunner` in `attrgraph_cli.runners.ray_runner`).

Plugging in another command (e.g. `intervene PLAN.jsonl`): make its plan items frozen dataclasses with
`index`, `slug`, `skip` and whatever the task needs (graph path, interventions, output path); write a
module-level task function `run_intervention(state, item, options) -> Outcome` and a `failed(item, message)`
that builds a failed outcome (and `skipped(item)`); then
`RayRunner(Work(setup=partial(my_setup, request), task=..., failed=..., skipped=...))`; see
`attrgraph_cli.trace.batch.trace_work` for the trace command's.
Everything in a `Work` and every item travels to the workers by pickle, so use module-level functions and
`functools.partial`, not lambdas or closures over open files or loaded models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

RUNNERS = ("local", "ray")


class PlanItem(Protocol):
    """What a runner needs to know about an item; the task sees the whole item."""

    index: int
    slug: str
    skip: bool


class Outcome(Protocol):
    index: int
    slug: str
    status: str  # "done" | "skipped" | "failed"
    message: str


@dataclass(frozen=True)
class Work:
    """A per-item task and the once-per-worker set-up it needs (all picklable)."""

    #: `setup(device, threads)` runs once per worker; its return value (a loaded model) is the task's `state`
    setup: Callable[[str, int | None], Any]
    #: `task(state, item, options) -> outcome`; writes the item's outputs; a bad item -> failed outcome
    task: Callable[[Any, Any, Any], Any]
    #: `failed(item, message) -> outcome` for an item the runner gives up on (its worker died twice)
    failed: Callable[[Any, str], Any]
    #: `skipped(item) -> outcome` for an item the plan marked done
    skipped: Callable[[Any], Any]


class Runner(Protocol):
    """Maps a task over planned items and yields one outcome per item as they finish."""

    def map(self, items: list[Any], options: Any) -> Iterator[Any]: ...
