"""`attrgraph trace`: attribution graphs from prompts with circuit-tracer (one prompt, or a batch)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from attrgraph_cli.commands._common import print_summary, user_errors
from attrgraph_cli.defaults import DEFAULT_EDGE_THRESHOLD, DEFAULT_NODE_THRESHOLD

HELP = (
    "Compute the attribution graph of a prompt with circuit-tracer and write it as graph JSON.\n\n"
    "Without --model the embedded demo model is used. With --batch FILE (.txt: one prompt a line; .jsonl: "
    'objects with "prompt" and optional "slug", "targets", "minus") many prompts are traced with one model '
    "load into the folder -o DIR; prompts whose graph already exists there are skipped."
)


def register(app: typer.Typer) -> None:
    app.command("trace", help=HELP)(trace)


Opt = typer.Option


@user_errors
def trace(
    output: Annotated[Path, Opt("-o", "--output", help="Graph JSON to write (with --batch: a folder).")],
    prompt: Annotated[
        str | None, typer.Argument(help="The prompt to attribute (leave out with --batch).")
    ] = None,
    batch: Annotated[Path | None, Opt(help="Prompts file: .txt (one a line) or .jsonl.")] = None,
    model: Annotated[
        str | None,
        Opt("--model", "-m", help="A name (gemma-2-2b, org/repo@revision) or a folder; default: demo."),
    ] = None,
    transcoders: Annotated[
        str | None, Opt("--transcoders", "-t", help="gemma, llama, org/repo/sub@revision or a folder.")
    ] = None,
    backend: Annotated[str, Opt(help="transformerlens or nnsight.")] = "transformerlens",
    device: Annotated[str, Opt(help="auto (a GPU when there is one), cpu or cuda:N.")] = "auto",
    dtype: Annotated[str, Opt(help="float32, bfloat16 or float16.")] = "float32",
    max_n_logits: Annotated[int, Opt(help="Most logit nodes to attribute from.")] = 10,
    desired_logit_prob: Annotated[
        float, Opt(help="Keep top logits until their cumulative probability reaches this.")
    ] = 0.95,
    batch_size: Annotated[int, Opt(help="Source nodes per backward pass.")] = 256,
    max_feature_nodes: Annotated[
        int, Opt(help="Most feature nodes to attribute (0: every active feature).")
    ] = 7500,
    offload: Annotated[
        str | None, Opt(help="Offload model parameters while attributing: cpu or disk.")
    ] = None,
    node_threshold: Annotated[
        float, Opt(help="Pruning: cumulative node influence kept.")
    ] = DEFAULT_NODE_THRESHOLD,
    edge_threshold: Annotated[
        float, Opt(help="Pruning: cumulative edge influence kept.")
    ] = DEFAULT_EDGE_THRESHOLD,
    target: Annotated[
        list[str] | None,
        Opt(help='Attribute from this token\'s logit (repeatable), e.g. --target " Austin".'),
    ] = None,
    minus: Annotated[
        list[str] | None, Opt(help="With --target: attribute the logit difference target - minus.")
    ] = None,
    slug: Annotated[str | None, Opt(help="Graph slug (default: made from the prompt).")] = None,
    raw: Annotated[
        Path | None, Opt(help="Also save the unpruned circuit-tracer Graph (.pt; with --batch: a folder).")
    ] = None,
    render: Annotated[Path | None, Opt(help="Also write the HTML report (with --batch: a folder).")] = None,
    force: Annotated[bool, Opt(help="With --batch: trace again the prompts already done.")] = False,
    runner: Annotated[
        str, Opt(help="With --batch: local (this process) or ray (Ray actors: one per GPU, or --workers).")
    ] = "local",
    ray_address: Annotated[
        str | None,
        Opt(
            help="With --runner ray: a cluster's address (HOST:6379, ray://HOST:10001) or auto; default: "
            "start a local instance."
        ),
    ] = None,
    workers: Annotated[
        int | None, Opt(help="With --runner ray and no GPU: CPU workers (default: one per CPU).")
    ] = None,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No progress display.")] = False,
    mkdir: Annotated[
        bool, Opt("--mkdir", help="Create missing parent folders of -o, --raw and --render.")
    ] = False,
) -> None:
    from attrgraph_cli.errors import AttrgraphError

    if runner not in ("local", "ray"):
        raise AttrgraphError(f"unknown --runner {runner!r}: use local or ray")
    if runner != "ray" and (ray_address is not None or workers is not None):
        raise AttrgraphError("--ray-address and --workers apply to --runner ray")
    if runner == "ray" and batch is None:
        raise AttrgraphError("--runner ray applies to --batch FILE")
    if workers is not None and workers < 1:
        raise AttrgraphError("--workers must be at least 1")
    _require_trace_extra()
    if runner == "ray":
        from attrgraph_cli.runners.ray_runner import require_ray

        require_ray()
    from attrgraph_cli.models import ModelRequest
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions

    options = TraceOptions(
        max_n_logits=max_n_logits,
        desired_logit_prob=desired_logit_prob,
        batch_size=batch_size,
        max_feature_nodes=max_feature_nodes or None,
        offload=offload,
        node_threshold=node_threshold,
        edge_threshold=edge_threshold,
    )
    options.check()
    request = ModelRequest(model=model, transcoders=transcoders, backend=backend, device=device, dtype=dtype)
    if not mkdir:
        _require_parents(output, output=output, raw=raw, render=render)
    if batch is not None:
        if prompt is not None:
            raise AttrgraphError("give either a PROMPT or --batch FILE, not both")
        if target or minus or slug:
            raise AttrgraphError(
                "--target/--minus/--slug apply to one prompt; in a batch put them in the .jsonl"
            )
        if output.exists() and not output.is_dir():
            raise AttrgraphError(f"-o {output}: with --batch, -o must be a folder")
        for folder in (output, raw, render):
            if folder is not None:
                _check_folder(folder)
        ray = {"address": ray_address, "workers": workers} if runner == "ray" else None
        _run_batch(batch, output, request, options, raw, render, force, quiet, ray)
        return
    if prompt is None:
        raise AttrgraphError("no prompt: give a PROMPT or --batch FILE")
    if output.is_dir():
        raise AttrgraphError(f"-o {output} is a folder; give the graph JSON file to write")
    from attrgraph_cli.io.atomic import check_writable

    targets: dict[Path, str] = {}
    for flag, path in (("-o", output), ("--raw", raw), ("--render", render)):
        if path is None:  # before the model loads: an unwritable -o fails in a second
            continue
        where = check_writable(path)
        if where.kind == "file" and where.path in targets:  # one would replace the other
            raise AttrgraphError(
                f"{flag} {path} is the file {targets[where.path]} writes too: give another name"
            )
        targets[where.path] = flag
    job = PromptJob(prompt=prompt, slug=slug, targets=tuple(target or ()), minus=tuple(minus or ()))
    _run_one(job, output, request, options, raw, render, quiet)


def _require_parents(base: Path, **paths: Path | None) -> None:
    """The folder an output goes into must exist (a typo in -o must not create folders anywhere);
    --mkdir creates it. With --batch the outputs are folders: their parent must exist (or be -o's)."""
    from attrgraph_cli.errors import AttrgraphError

    for name, path in paths.items():
        if path is None or str(path) == "-":
            continue
        parent = path.expanduser().absolute().parent
        if not parent.exists() and parent != base.expanduser().absolute():
            flag = "-o" if name == "output" else f"--{name}"
            raise AttrgraphError(
                f"{flag} {path}: the folder {str(parent)!r} does not exist (pass --mkdir to create it)"
            )


def _check_folder(folder: Path) -> None:
    """A batch output folder must exist (it is created) and take new files, checked before tracing."""
    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.io.atomic import check_writable

    if folder.exists() and not folder.is_dir():
        raise AttrgraphError(f"{folder}: with --batch this must be a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AttrgraphError(f"{folder}: cannot create the folder ({exc.strerror or exc})") from None
    check_writable(folder / ".attrgraph-write-check")


def _require_trace_extra() -> None:
    """Tracing lives in the `trace` extra: say how to install it instead of failing on an import."""
    import importlib.util

    from attrgraph_cli.errors import AttrgraphError

    missing = []
    for name in ("torch", "circuit_tracer", "transformer_lens"):
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise AttrgraphError(
            f"tracing needs the trace extra ({', '.join(missing)} not installed): "
            "pip install 'attrgraph[trace]'"
        )


def _run_one(job, output: Path, request, options, raw: Path | None, render: Path | None, quiet: bool) -> None:
    from attrgraph_cli.models import describe_request, load_model
    from attrgraph_cli.report.html import write_html
    from attrgraph_cli.trace.engine import trace_prompt
    from attrgraph_cli.trace.progress import TraceProgress
    from attrgraph_cli.trace.writer import write_outputs

    with TraceProgress(quiet=quiet) as progress:
        with progress.library_prints():  # what libraries print goes to stderr...
            start = time.perf_counter()
            with progress.step(f"Loading {describe_request(request)}"):
                loaded = load_model(request)
            load_s = time.perf_counter() - start
            result = trace_prompt(loaded, job, options, progress)
        result.timings = {"load_model": load_s, **result.timings}
        with progress.step("Writing"):  # ...but `-o -` is stdout (it went to stderr, or crashed with -q)
            write_outputs(result, json_path=output, raw_path=raw, html_path=render, render_html=write_html)
        total = time.perf_counter() - start
    g = result.graph
    written = ", ".join(str(p) for p in (output, raw, render) if p is not None)
    unpruned = int(result.raw.adjacency_matrix.shape[0])
    summary = (
        f"{len(g.nodes)} nodes, {len(g.edges)} links (of {unpruned} unpruned nodes; "
        f"model {load_s:.1f} s, attribution {result.timings.get('attribute', 0.0):.1f} s)"
    )
    print_summary(g.slug, written, summary, total, quiet=quiet)


def _run_batch(
    batch: Path,
    out_dir: Path,
    request,
    options,
    raw: Path | None,
    render: Path | None,
    force: bool,
    quiet: bool,
    ray: dict | None = None,
) -> None:
    from functools import partial

    from attrgraph_cli.models import describe_request, load_model
    from attrgraph_cli.report.html import write_html
    from attrgraph_cli.trace import batch as batch_mod
    from attrgraph_cli.trace.progress import TraceProgress

    started = time.perf_counter()
    jobs = batch_mod.read_batch(batch)
    if ray is not None:  # workers on other machines write there: absolute paths on the shared folder
        out_dir, raw, render = (p.resolve() if p is not None else None for p in (out_dir, raw, render))
    items = batch_mod.plan(jobs, out_dir, raw_dir=raw, html_dir=render, force=force)
    _refuse_batch_overwrite(batch, items, ((out_dir, ".json"), (raw, ".pt"), (render, ".html")))
    pending = [i for i in items if not i.skip]
    out_dir.mkdir(parents=True, exist_ok=True)
    runner_notes = None
    if ray is not None and pending:
        outcomes, load_s, runner_notes, console = _run_on_ray(items, request, options, quiet, ray)
        outcomes.sort(key=lambda o: o.index)
        done = BatchDone(batch, out_dir, items, pending, outcomes, load_s, runner_notes, started)
        _finish_batch(batch_mod, done, quiet, console)
        return
    with TraceProgress(quiet=quiet) as progress, progress.library_prints():
        progress.log(f"{len(items)} prompts, {len(items) - len(pending)} already traced in {out_dir}")
        load_s = 0.0
        outcomes = []
        if pending:
            start = time.perf_counter()
            with progress.step(f"Loading {describe_request(request)}"):
                loaded = load_model(request)
            load_s = time.perf_counter() - start
            task = partial(batch_mod.run_item, render_html=write_html)
            runner = batch_mod.LocalRunner(loaded, progress, task)
            outcomes = list(runner.map(items, options))
        else:
            outcomes = [batch_mod.run_item(None, item, options) for item in items]
    done = BatchDone(batch, out_dir, items, pending, outcomes, load_s, runner_notes, started)
    _finish_batch(batch_mod, done, quiet, progress.console)


def _refuse_batch_overwrite(batch: Path, items, folders) -> None:
    """No prompt's output may be the batch file itself (a `.json` batch file in the output folder)."""
    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.io.overwrite import same_file

    for folder, ext in folders:
        if folder is None or not batch.name.endswith(ext) or not same_file(folder, batch.parent):
            continue
        slug = batch.name[: -len(ext)]
        if any(item.slug == slug for item in items):
            raise AttrgraphError(
                f"{folder / batch.name} would be written over the batch file {batch}: move the batch file "
                "out of the output folder, or give the prompt another slug"
            )


def _run_on_ray(items, request, options, quiet: bool, ray: dict):
    """The pending items on Ray workers, with one live display; -> outcomes, start-up s, report notes."""
    from dataclasses import asdict

    from attrgraph_cli.report.html import write_html
    from attrgraph_cli.runners.display import BatchDisplay
    from attrgraph_cli.runners.ray_runner import RayRunner
    from attrgraph_cli.trace import batch as batch_mod

    pending = sum(not i.skip for i in items)
    display = BatchDisplay(pending, quiet=quiet, what="prompts")
    display.log(f"{len(items)} prompts, {len(items) - pending} already traced")
    work = batch_mod.trace_work(request, render_html=write_html)
    with (
        display,
        RayRunner(
            work, address=ray["address"], workers=ray["workers"], device=request.device, display=display
        ) as runner,
    ):
        outcomes = list(runner.map(items, options))
    stats = runner.stats
    load_s = stats.all_ready_s or stats.first_ready_s or 0.0
    notes = {"name": "ray", **asdict(stats), "throughput_per_min": round((display.throughput() or 0) * 60, 2)}
    return outcomes, load_s, notes, display.console


@dataclass
class BatchDone:
    """What a finished batch run knows, for its report file, table and summary line."""

    batch: Path
    out_dir: Path
    items: list
    pending: list
    outcomes: list
    load_s: float
    runner_notes: dict | None
    started: float


def _finish_batch(batch_mod, run: BatchDone, quiet: bool, console) -> None:
    from attrgraph_cli.errors import AttrgraphError

    batch_mod.write_report(run.out_dir, run.outcomes, run.load_s, run.runner_notes)
    failed = [o for o in run.outcomes if o.status == "failed"]
    done = sum(o.status == "done" for o in run.outcomes)
    skipped = len(run.items) - len(run.pending)
    start = "Ray start and model loads" if run.runner_notes else "model load"
    title = f"{done} traced, {skipped} skipped, {len(failed)} failed ({start} {run.load_s:.1f} s)"
    if not quiet or failed:
        console.print(batch_mod.summary_table(run.outcomes, title))
    if failed:
        raise AttrgraphError(
            f"{len(failed)} of {len(run.items)} prompts failed (see {run.out_dir / 'batch-report.json'})",
            1,
        )
    print_summary(run.batch, run.out_dir, title, time.perf_counter() - run.started, quiet=quiet)
