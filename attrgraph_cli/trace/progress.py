"""A rich progress display for tracing: model loading, forward pass, backward batches, writing.

circuit-tracer reports through the `attribution` logger ("Phase N: ...") and a tqdm bar over the feature
batches. `ct_progress()` routes both into one rich display for the duration of an `attribute` call: a logging
handler marks phase boundaries (also timed for the metadata) and a tqdm stand-in drives a rich task. With
`quiet=True` nothing is drawn but the phase times are still recorded.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from attrgraph_cli.safetext import markup, printable

#: circuit-tracer's phase numbers -> the names used in `metadata.info` timings
PHASES = {
    0: "precompute",
    1: "forward",
    2: "build_inputs",
    3: "logit_attribution",
    4: "feature_attribution",
}
_PHASE_RE = re.compile(r"^Phase (\d+):")


class TraceProgress:
    """One rich `Progress` shared by every step of a trace (or of a whole batch)."""

    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self._progress: Progress | None = None

    def __enter__(self) -> TraceProgress:
        if not self.quiet:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None

    @contextmanager
    def library_prints(self) -> Iterator[None]:
        """Keep stdout clean: what libraries print (TransformerLens's "Moving model to device") goes to
        stderr, or nowhere with --quiet."""
        target = io.StringIO() if self.quiet else sys.stderr
        with redirect_stdout(target):
            yield

    def log(self, message: str) -> None:
        """A line above the bars (suppressed by --quiet)."""
        if not self.quiet:
            self.console.print(printable(message), highlight=False, markup=False)

    @contextmanager
    def step(self, description: str, total: float | None = None) -> Iterator[_Task]:
        """A task shown while the block runs; `total=None` is a spinner without a bar."""
        task = _Task(self._progress, description, total)
        try:
            yield task
        finally:
            task.done()

    @contextmanager
    def ct_progress(self, timings: dict[str, float]) -> Iterator[None]:
        """Show circuit-tracer's phases and feature batches; record each phase's wall time in `timings`."""
        import circuit_tracer.attribution.attribute as ct_attribute

        logger = logging.getLogger("attribution")
        handler = _PhaseHandler(self, timings)
        saved_handlers, saved_tqdm = list(logger.handlers), ct_attribute.tqdm
        saved_level = logger.level
        # attribute() adds its own stderr handler only when the logger has none, and otherwise sets the level
        # to WARNING: ours takes that handler's place, and the level stays at INFO while it runs
        for h in saved_handlers:
            logger.removeHandler(h)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.setLevel = lambda level: None  # type: ignore[method-assign]
        ct_attribute.tqdm = _tqdm_factory(self)
        try:
            with warnings.catch_warnings():
                # torch's note that circuit-tracer's backward hooks see no input gradients: expected, not news
                warnings.filterwarnings("ignore", message="Full backward hook is firing")
                yield
        finally:
            handler.close_phase()
            del logger.setLevel
            logger.setLevel(saved_level)
            logger.removeHandler(handler)
            for h in saved_handlers:
                logger.addHandler(h)
            ct_attribute.tqdm = saved_tqdm


class _Task:
    def __init__(self, progress: Progress | None, description: str, total: float | None) -> None:
        self._progress = progress
        # the description is drawn as rich markup: a model or file name in it is escaped
        self._id = progress.add_task(markup(description), total=total) if progress is not None else None

    def advance(self, n: float = 1) -> None:
        if self._progress is not None and self._id is not None:
            self._progress.advance(self._id, n)

    def update(self, **kwargs: Any) -> None:
        if self._progress is not None and self._id is not None:
            self._progress.update(self._id, **kwargs)

    def done(self) -> None:
        if self._progress is not None and self._id is not None:
            task = self._progress.tasks[self._progress.task_ids.index(self._id)]
            if task.total is not None:
                self._progress.update(self._id, completed=task.total)
            self._progress.remove_task(self._id)
            self._id = None


class _PhaseHandler(logging.Handler):
    """Turns circuit-tracer's `Phase N:` log lines into progress steps and phase timings."""

    def __init__(self, progress: TraceProgress, timings: dict[str, float]) -> None:
        super().__init__(level=logging.INFO)
        self.progress = progress
        self.timings = timings
        self._phase: str | None = None
        self._start = 0.0
        self._task: _Task | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        match = _PHASE_RE.match(message)
        if match:
            self.close_phase()
            self._phase = PHASES.get(int(match.group(1)), f"phase_{match.group(1)}")
            self._start = time.perf_counter()
            if self._phase != "feature_attribution":  # that one has its own bar (the tqdm stand-in)
                self._task = _Task(self.progress._progress, message.split(":", 1)[1].strip(), None)
        elif record.levelno >= logging.WARNING:
            self.progress.log(f"circuit-tracer: {message}")

    def close_phase(self) -> None:
        if self._phase is not None:
            self.timings[self._phase] = self.timings.get(self._phase, 0.0) + time.perf_counter() - self._start
            self._phase = None
        if self._task is not None:
            self._task.done()
            self._task = None


def _tqdm_factory(progress: TraceProgress):
    """A class with the part of tqdm's interface circuit-tracer uses (total, desc, disable, update, close)."""

    class RichTqdm:
        def __init__(self, *args: Any, total: float | None = None, desc: str = "", **kwargs: Any) -> None:
            self._task = _Task(progress._progress, f"Backward passes: {desc.lower() or 'features'}", total)

        def update(self, n: float = 1) -> None:
            self._task.advance(n)

        def close(self) -> None:
            self._task.done()

        def __enter__(self) -> RichTqdm:
            return self

        def __exit__(self, *exc: Any) -> None:
            self.close()

    return RichTqdm
