"""Trace many prompts with one model load: read the prompt list, plan, run, summarise.

The pieces are kept apart so that the loop can be handed to a distributed engine later:
- `read_batch(path)` -> `PromptJob`s (`.txt`: one prompt a line; `.jsonl`: {prompt, slug, targets, minus});
- `plan(jobs, out_dir, ...)` -> `BatchItem`s with their output paths and `skip=True` when already done
  (a graph file exists: files are written atomically, so existing means complete);
- `run_item(loaded, item, options, progress)` -> `ItemOutcome`: the pure per-prompt task. It never raises
  for a bad prompt; it returns a failed outcome, so one prompt cannot stop the batch;
- a `Runner` maps `run_item` over the items. `LocalRunner` runs them in this process on one loaded model;
  `attrgraph_cli.runners.ray_runner.RayRunner` runs them on Ray actors (one per GPU, or CPU workers), each
  loading the model once, with the `Work` that `trace_work(request)` describes.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import msgspec

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.jsontypes import json_type_phrase
from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
from attrgraph_cli.trace.progress import TraceProgress
from attrgraph_cli.trace.writer import HtmlWriter, write_outputs

_SAFE_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_SLUG_LEN = 128
#: most prompts one batch may hold (16 MiB of one-character lines would be 8 million)
MAX_BATCH_PROMPTS = 100_000
#: the batch report's own name in the output folder: no prompt's graph may take it
REPORT_NAME = "batch-report"


@dataclass(frozen=True)
class BatchItem:
    index: int
    job: PromptJob
    slug: str
    json_path: Path
    raw_path: Path | None = None
    html_path: Path | None = None
    skip: bool = False


@dataclass
class ItemOutcome:
    index: int
    slug: str
    status: str  # "done" | "skipped" | "failed"
    seconds: float = 0.0
    nodes: int | None = None
    links: int | None = None
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)


# ---- reading ----------------------------------------------------------------------------------------------
def read_batch(path: str | Path) -> list[PromptJob]:
    """Prompts from a `.txt` (one a line; blank lines and `#` comments skipped) or `.jsonl` file."""
    from attrgraph_cli.io.bounded import read_bounded, small_file_budget

    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise AttrgraphError(f"{path}: no such batch file")
    # a regular file of at most 16 MiB (io/bounded.py: FIFOs, devices, sparse giants refused unread)
    data = read_bounded(path, what="a batch file", budget=small_file_budget(), error=AttrgraphError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AttrgraphError(f"{path}: cannot read the batch file ({exc})") from None
    jobs = _read_jsonl(path, text) if path.suffix.lower() in (".jsonl", ".ndjson") else _read_txt(path, text)
    if not jobs:
        raise AttrgraphError(f"{path}: the batch file holds no prompt")
    return jobs


def _read_txt(path: Path, text: str) -> list[PromptJob]:
    jobs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            _check_count(path, lineno, len(jobs))
            jobs.append(PromptJob(prompt=line))
    return jobs


def _check_count(path: Path, lineno: int, n_jobs: int) -> None:
    if n_jobs >= MAX_BATCH_PROMPTS:
        raise AttrgraphError(
            f"{path}:{lineno}: more than {MAX_BATCH_PROMPTS:,} prompts in one batch (split the file)"
        )


def _read_jsonl(path: Path, text: str) -> list[PromptJob]:
    jobs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        _check_count(path, lineno, len(jobs))
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise AttrgraphError(f"{path}:{lineno}: not valid JSON ({exc})") from exc
        except RecursionError:
            raise AttrgraphError(f"{path}:{lineno}: JSON nested too deeply") from None
        if isinstance(row, str):
            row = {"prompt": row}
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
            raise AttrgraphError(f'{path}:{lineno}: each line needs {{"prompt": "..."}}')
        unknown = set(row) - {"prompt", "slug", "targets", "target", "minus"}
        if unknown:
            raise AttrgraphError(f"{path}:{lineno}: unknown key(s) {sorted(unknown)}")
        key = "targets" if "targets" in row else "target"  # the error names the key the line used
        targets = _str_list(row.get(key), path, lineno, key)
        minus = _str_list(row.get("minus"), path, lineno, "minus")
        slug = row.get("slug")
        if isinstance(slug, str) and len(slug) > MAX_SLUG_LEN:
            raise AttrgraphError(
                f"{path}:{lineno}: slug is {len(slug)} characters long; at most {MAX_SLUG_LEN} are allowed"
            )
        if slug is not None and (not isinstance(slug, str) or not _SAFE_SLUG.match(slug)):
            raise AttrgraphError(f"{path}:{lineno}: slug {slug!r} must be letters, digits, '.', '_' or '-'")
        jobs.append(PromptJob(prompt=row["prompt"], slug=slug, targets=targets, minus=minus))
    return jobs


def _str_list(value: Any, path: Path, lineno: int, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise AttrgraphError(
        f"{path}:{lineno}: {key!r} must be a string or a list of strings, not {json_type_phrase(value)}"
    )


# ---- planning ---------------------------------------------------------------------------------------------
def plan(
    jobs: Iterable[PromptJob],
    out_dir: Path,
    *,
    raw_dir: Path | None = None,
    html_dir: Path | None = None,
    force: bool = False,
) -> list[BatchItem]:
    """Output paths per prompt (repeated slugs get `-2`, `-3`, ...); finished items are marked `skip`.

    The name `batch-report` is taken by the report itself, so a prompt with that slug gets `batch-report-2`.
    A graph file already there counts as this prompt's only when it holds this prompt (`metadata.prompt`):
    one that holds another prompt (two prompts that slug the same, a batch file edited between runs) is
    left alone and the prompt takes the next free name. Linear in the number of prompts: each base slug
    remembers the last number it gave out.
    """
    items: list[BatchItem] = []
    seen = {REPORT_NAME}
    next_n: dict[str, int] = {}
    present = _names_in(out_dir)  # one listing, not a stat per prompt
    slug_of: dict[tuple[str, str | None], str] = {}  # a repeated prompt is slugged once
    for index, job in enumerate(jobs):
        base = slug_of.get((job.prompt, job.slug))
        if base is None:
            base = slug_of[job.prompt, job.slug] = job.resolved_slug()
        n = next_n.get(base, 1)
        slug = base if base not in seen else f"{base}-{max(n, 2)}"  # the plain name first, if still free
        n = 1 if slug == base else max(n, 2)
        while True:
            if slug not in seen:
                name = f"{slug}.json"
                holds = _held_prompt(out_dir / name) if name in present else _ABSENT
                if holds is _ABSENT or holds == job.prompt:
                    break
            n += 1
            slug = f"{base}-{n}"
        next_n[base] = max(next_n.get(base, 1), n + 1)
        seen.add(slug)
        json_path = out_dir / name
        raw_path = raw_dir / f"{slug}.pt" if raw_dir else None
        html_path = html_dir / f"{slug}.html" if html_dir else None
        wanted = [p for p in (json_path, raw_path, html_path) if p is not None]
        done = not force and holds == job.prompt and all(p.is_file() for p in wanted)
        items.append(BatchItem(index, job, slug, json_path, raw_path, html_path, skip=done))
    return items


_ABSENT = object()


def _names_in(folder: Path) -> set[str]:
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


class _Metadata(msgspec.Struct):
    prompt: Any = None


class _Head(msgspec.Struct):
    metadata: _Metadata | None = None


def _held_prompt(path: Path) -> Any:
    """The prompt a graph file already at `path` holds; `_ABSENT` when there is no file; None when it is
    not a graph JSON this could read (then it is nobody's, and not written over): a FIFO or device is
    not opened, a file over the JSON input budget not read."""
    from attrgraph_cli.io.sniff import max_input_bytes

    if not path.exists() and not path.is_symlink():
        return _ABSENT
    try:
        if not path.is_file() or path.stat().st_size > max_input_bytes("json"):
            return None
        head = msgspec.json.decode(path.read_bytes(), type=_Head)
    except (OSError, msgspec.DecodeError, RecursionError):
        return None
    prompt = head.metadata.prompt if head.metadata is not None else None
    return prompt if isinstance(prompt, str) else None


# ---- the per-prompt task ---------------------------------------------------------------------------------
def run_item(
    loaded: Any,
    item: BatchItem,
    options: TraceOptions,
    progress: TraceProgress | None = None,
    *,
    render_html: HtmlWriter | None = None,
):
    """Trace one planned prompt and write its files (its report with `render_html`); a bad prompt gives a
    failed outcome, not an exception."""
    from attrgraph_cli.trace.engine import translate_runtime_error

    if item.skip:
        return ItemOutcome(item.index, item.slug, "skipped", message="already traced")
    start = time.perf_counter()
    job = PromptJob(item.job.prompt, item.slug, item.job.targets, item.job.minus)
    try:
        result = trace_prompt(loaded, job, options, progress)
        write_outputs(
            result,
            json_path=item.json_path,
            raw_path=item.raw_path,
            html_path=item.html_path,
            render_html=render_html,
        )
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - keep going; the summary reports it
        err = exc if isinstance(exc, AttrgraphError) else translate_runtime_error(exc)
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        if not isinstance(err, AttrgraphError):
            text = f"{type(err).__name__}: {text}"
        return ItemOutcome(item.index, item.slug, "failed", time.perf_counter() - start, message=text)
    return ItemOutcome(
        item.index,
        item.slug,
        "done",
        time.perf_counter() - start,
        nodes=len(result.graph.nodes),
        links=len(result.graph.edges),
        timings=result.timings,
    )


# ---- runners ----------------------------------------------------------------------------------------------
class Runner(Protocol):
    """Maps the per-prompt task over the planned items and yields outcomes as they finish."""

    def map(self, items: list[BatchItem], options: TraceOptions) -> Iterator[ItemOutcome]: ...


class LocalRunner:
    """Everything in this process, on one model loaded once."""

    def __init__(self, loaded: Any, progress: TraceProgress, task: Callable[..., ItemOutcome] = run_item):
        self.loaded = loaded
        self.progress = progress
        self.task = task

    def map(self, items: list[BatchItem], options: TraceOptions) -> Iterator[ItemOutcome]:
        pending = [i for i in items if not i.skip]
        with self.progress.step("Prompts", total=len(pending)) as bar:
            for item in items:
                outcome = self.task(self.loaded, item, options, self.progress)
                if outcome.status != "skipped":
                    bar.advance()
                    mark = "ok" if outcome.status == "done" else "FAILED"
                    self.progress.log(
                        f"[{item.index + 1}/{len(items)}] {item.slug}: {mark} {outcome.message}"
                    )
                yield outcome


def setup_worker(request: Any, device: str, threads: int | None) -> Any:
    """A runner worker's set-up: load the model once on the device the runner gave it."""
    from attrgraph_cli.models import load_model

    if threads:
        import torch

        torch.set_num_threads(threads)
    return load_model(replace(request, device=device))


def failed_outcome(item: BatchItem, message: str) -> ItemOutcome:
    return ItemOutcome(item.index, item.slug, "failed", message=message)


def skipped_outcome(item: BatchItem) -> ItemOutcome:
    return ItemOutcome(item.index, item.slug, "skipped", message="already traced")


def trace_work(request: Any, render_html: HtmlWriter | None = None) -> Any:
    """The trace command's `Work`: load `request`'s model once per worker, then `run_item` per prompt
    (`render_html`, a module-level function, travels to the workers by pickle)."""
    from functools import partial

    from attrgraph_cli.runners import Work

    return Work(
        setup=partial(setup_worker, request),
        task=partial(run_item, render_html=render_html),
        failed=failed_outcome,
        skipped=skipped_outcome,
    )


def write_report(
    out_dir: Path, outcomes: list[ItemOutcome], load_seconds: float, runner: dict[str, Any] | None = None
) -> Path:
    """`batch-report.json` in the output folder: one entry per prompt of this run (and the runner's notes)."""
    from attrgraph_cli.io.atomic import atomic_write_text

    path = out_dir / f"{REPORT_NAME}.json"
    doc: dict[str, Any] = {"model_load_s": round(load_seconds, 3), "items": [asdict(o) for o in outcomes]}
    if runner is not None:
        doc["runner"] = runner
    atomic_write_text(path, json.dumps(doc, indent=1))
    return path


def summary_table(outcomes: list[ItemOutcome], title: str):
    from rich.table import Table

    from attrgraph_cli.safetext import markup as escape

    table = Table(title=title)
    for col, justify in (("#", "right"), ("slug", "left"), ("status", "left"), ("nodes", "right"),
                         ("links", "right"), ("seconds", "right"), ("message", "left")):  # fmt: skip
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    style = {"done": "green", "skipped": "dim", "failed": "red"}
    for o in outcomes:
        table.add_row(
            str(o.index + 1),
            escape(o.slug),
            f"[{style[o.status]}]{o.status}[/]",
            "" if o.nodes is None else str(o.nodes),
            "" if o.links is None else str(o.links),
            f"{o.seconds:.2f}" if o.status != "skipped" else "",
            escape(o.message),
        )
    return table
