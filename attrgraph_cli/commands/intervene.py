"""`attrgraph intervene GRAPH [SPEC...] -o OUT`: set, ablate, swap, sweep features; predicted vs measured."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attrgraph_cli.commands._common import print_summary, user_errors

HELP = (
    "Intervene on a graph's features with circuit-tracer and record, for every target logit, the measured "
    "change next to the change the graph's edges predict.\n\n"
    "TARGET is a node id (20_15589_10) or a supernode name, optionally @POS, @A:B or @all. "
    "Examples: --set 20_15589_10=0, --set 16_25_9=*-2 (a multiple of the activation), --ablate Texas, "
    "--scale Texas=*-1, --swap-from 'The capital of the state containing Seattle is' [--swap-scope Texas], "
    "--sweep 20_15589_10=-2:2:0.25. Results are appended to attrgraph.interventions in OUT."
)

Opt = typer.Option


def register(app: typer.Typer) -> None:
    """Add `intervene` to the app."""
    app.command("intervene", help=HELP)(intervene)


@user_errors
def intervene(
    source: Annotated[Path, typer.Argument(metavar="GRAPH", help="Graph JSON (or any readable format).")],
    output: Annotated[
        Path | None, Opt("-o", "--output", help="Graph JSON to write with the records (omit: print only).")
    ] = None,
    set_: Annotated[
        list[str] | None, Opt("--set", help="TARGET=VALUE (absolute) or TARGET=*M (multiple); repeatable.")
    ] = None,
    scale: Annotated[list[str] | None, Opt("--scale", help="TARGET=*M: M times the activation.")] = None,
    ablate: Annotated[list[str] | None, Opt("--ablate", help="TARGET: set to 0.")] = None,
    swap_from: Annotated[
        str | None, Opt("--swap-from", help="Write in this prompt's activations (same token count).")
    ] = None,
    swap_scope: Annotated[
        str | None, Opt("--swap-scope", help="Limit --swap-from to a supernode or node's places.")
    ] = None,
    name: Annotated[str | None, Opt("--name", help="Label of the command line's intervention.")] = None,
    plan: Annotated[
        Path | None, Opt("--plan", help="JSONL (or YAML) file: one intervention per line/item.")
    ] = None,
    sweep: Annotated[
        list[str] | None, Opt("--sweep", help="TARGET=START:STOP:STEP (or *START:STOP:STEP multiples).")
    ] = None,
    check_supernodes: Annotated[
        bool, Opt("--check-supernodes", help="Ablate and negate every supernode; rank by measured effect.")
    ] = False,
    target: Annotated[
        list[str] | None, Opt("--target", help="Also report this token (not a logit node of the graph).")
    ] = None,
    freeze_attention: Annotated[
        bool, Opt("--freeze-attention/--no-freeze-attention", help="Freeze attention patterns.")
    ] = True,
    direct: Annotated[
        bool, Opt("--direct", help="Constrain every layer: direct effects only (matches the edges).")
    ] = False,
    constrained_layers: Annotated[
        str | None, Opt("--constrained-layers", help="A:B: freeze MLPs/transcoders of layers A..B-1.")
    ] = None,
    generate: Annotated[
        int, Opt("--generate", min=0, help="Continue the text N tokens with the intervention in force.")
    ] = 0,
    temperature: Annotated[float, Opt("--temperature", min=0.0, help="0: greedy.")] = 0.0,
    seed: Annotated[int | None, Opt("--seed", min=0, help="Seed for sampled generation.")] = None,
    top_k: Annotated[int, Opt("--top-k", min=1, max=1000, help="Next tokens listed before/after.")] = 10,
    model: Annotated[
        str | None, Opt("--model", "-m", help="Model (default: the graph's recorded one).")
    ] = None,
    transcoders: Annotated[str | None, Opt("--transcoders", "-t", help="Transcoder set.")] = None,
    device: Annotated[str, Opt(help="auto (a GPU when there is one), cpu or cuda:N.")] = "auto",
    dtype: Annotated[str | None, Opt(help="float32, bfloat16 or float16 (default: recorded).")] = None,
    tolerance: Annotated[
        float | None,
        Opt(
            "--tolerance",
            min=0.0,
            help="Allowed relative activation difference vs the graph (default 0.01; 0.1 for 16-bit dtypes).",
        ),
    ] = None,
    fmt: Annotated[str, Opt("--format", help="table or json (one object on stdout).")] = "table",
    indent: Annotated[bool, Opt("--indent", help="Pretty-print the output JSON.")] = False,
) -> None:
    """Intervene on features of a graph's prompt; append the records to the graph."""
    from functools import partial

    from attrgraph_cli.extension import check_extension_shape
    from attrgraph_cli.intervene.job import build_items, check_items, parse_layers
    from attrgraph_cli.intervene.model import model_request
    from attrgraph_cli.intervene.session import Settings
    from attrgraph_cli.io import load_graph
    from attrgraph_cli.stages import input_record, record_settings, run_stage

    _check_options(fmt, output, plan, direct, constrained_layers, generate, temperature, tolerance)
    items = build_items(
        sets=set_ or [],
        scales=scale or [],
        ablates=ablate or [],
        swap_from=swap_from,
        swap_scope=swap_scope,
        name=name,
        plan=plan,
        sweeps=sweep or [],
        check_supernodes=check_supernodes,
    )
    settings = Settings(
        freeze_attention=freeze_attention,
        direct=direct,
        constrained_layers=parse_layers(constrained_layers),
        generate=generate,
        temperature=temperature,
        seed=seed,
        top_k=top_k,
        device=device,
        tolerance=tolerance,
        extra_targets=tuple(target or ()),
    )
    graph = load_graph(source)
    check_extension_shape(graph)  # a file whose records cannot be appended fails before the model loads
    check_items(graph, items, check_supernodes)
    request, origin = model_request(graph, model=model, transcoders=transcoders, device=device, dtype=dtype)
    history_settings = record_settings(settings) | {
        "model": request.model,
        "transcoders": request.transcoders,
        "dtype": request.dtype,
        "check_supernodes": check_supernodes,
    }
    outcome = run_stage(
        "intervene",
        source,
        output,
        partial(
            _intervene_stage,
            items=items,
            settings=settings,
            request=request,
            origin=origin,
            check_supernodes=check_supernodes,
        ),
        history_settings,
        extra_inputs=[input_record(plan, "plan")] if plan is not None else None,
        read_files=[("plan", plan)],
        indent=indent,
        graph=graph,
    )
    _print_records(outcome.result, fmt, output)
    print_summary(source, output, outcome.summary, outcome.seconds)


def _check_options(fmt, output, plan, direct, constrained_layers, generate, temperature, tolerance) -> None:
    """Option errors, said before any file is read."""
    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.intervene.job import check_settings
    from attrgraph_cli.io.overwrite import refuse_overwrite

    if fmt not in ("table", "json"):
        raise AttrgraphError(f"--format must be table or json, not {fmt!r}")
    if fmt == "json" and output is not None and str(output) == "-":
        raise AttrgraphError("-o - and --format json both write to standard output: give -o a file")
    if direct and constrained_layers is not None:
        raise AttrgraphError("--direct already constrains every layer: drop --constrained-layers")
    check_settings(generate=generate, temperature=temperature, tolerance=tolerance)
    refuse_overwrite(output, [("plan", plan)])  # said at once (run_stage checks the graph input too)


def _intervene_stage(graph, *, items, settings, request, origin: str, check_supernodes: bool):
    """The stage: every item measured on one model load; the records are its result."""
    from attrgraph_cli.intervene.job import run_items
    from attrgraph_cli.stages import StageOutcome

    records = run_items(graph, items, settings, request, check_supernodes)
    model_name = records[0]["model"] if records else None
    details = {"model": model_name, "model_origin": origin, "records": len(records)}
    return StageOutcome(graph, details, f"{len(records)} intervention record(s)", records)


def _print_records(records: list[dict], fmt: str, output) -> None:
    """The records as one JSON object on stdout, or as tables (on stderr when stdout is the graph)."""
    if fmt == "json":
        import json

        from attrgraph_cli.intervene.records import json_output
        from attrgraph_cli.safetext import json_text

        typer.echo(json_text(json.dumps(json_output(records), ensure_ascii=False)))
        return
    from rich.console import Console

    from attrgraph_cli.intervene.table import print_records

    # -o -: standard output is the graph JSON, and only that; the tables go to stderr
    print_records(records, Console(stderr=True) if str(output) == "-" else None)
