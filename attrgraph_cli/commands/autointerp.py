"""`attrgraph autointerp IN -o OUT`: labels, feature dashboards and a label-quality score per feature."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from attrgraph_cli.commands._common import print_summary, user_errors


def register(app: typer.Typer) -> None:
    """Add `autointerp` to the app."""
    app.command("autointerp")(autointerp)


@user_errors
def autointerp(
    source: Annotated[Path, typer.Argument(metavar="IN", help="Graph (any format `convert` reads).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the labelled graph JSON.")],
    labels: Annotated[
        list[Path] | None,
        typer.Option(
            "--labels",
            "-l",
            help="A label source (repeatable): `neuronpedia` (its API: explanations and feature details, "
            "cached), a Neuronpedia explanation export (.json/.jsonl[.gz]), "
            "feature-details folder or file, CLT-Forge autointerp folder, or CSV/TSV layer,feature,label.",
        ),
    ] = None,
    source_set: Annotated[
        str | None,
        typer.Option(
            "--source-set", help="Neuronpedia source set to import (e.g. clt-hp) when several match."
        ),
    ] = None,
    explainer: Annotated[
        str, typer.Option("--explainer", help="heuristic (offline, default), llm, or none.")
    ] = "heuristic",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace labels a person wrote (kept by default).")
    ] = False,
    max_density: Annotated[
        float | None,
        typer.Option("--max-density", min=0.0, max=1.0, help="Mark features firing on more tokens as dense."),
    ] = 0.25,
    dashboards: Annotated[
        bool | None,
        typer.Option(
            "--dashboards/--no-dashboards",
            help="Compute dashboards from a model and a corpus (default: when the graph was traced on the "
            "demo model or --model/--transcoders/--corpus is given, and features lack details).",
            show_default=False,
        ),
    ] = None,
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Corpus .txt (one document a line) or .jsonl.")
    ] = None,
    corpus_tokens: Annotated[
        int | None,
        typer.Option("--corpus-tokens", min=1, help="Tokens to read (demo corpus: 32,768; a file: 1M)."),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model, resolved as `trace` does.")] = None,
    transcoders: Annotated[str | None, typer.Option("--transcoders", help="Transcoder set.")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    dtype: Annotated[str, typer.Option("--dtype", help="float32, bfloat16 or float16.")] = "float32",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Contexts per batch.")] = 64,
    ctx_len: Annotated[int, typer.Option("--ctx-len", min=4, help="Tokens per context (with BOS).")] = 64,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="OpenAI-compatible base URL (for --explainer llm).")
    ] = None,
    llm_model: Annotated[
        str, typer.Option("--llm-model", help="Model name sent to the endpoint.")
    ] = "gpt-4o-mini",
    api_key_env: Annotated[
        str, typer.Option("--api-key-env", help="Environment variable holding the API key.")
    ] = "OPENAI_API_KEY",
    llm_concurrency: Annotated[int, typer.Option("--llm-concurrency", min=1, help="Parallel requests.")] = 4,
    llm_retries: Annotated[int, typer.Option("--llm-retries", min=1, help="Tries per request.")] = 3,
    llm_timeout: Annotated[float, typer.Option("--llm-timeout", min=0.1, help="Seconds per request.")] = 30.0,
    llm_cache: Annotated[
        Path | None,
        typer.Option("--llm-cache", help="Cache folder (default ~/.cache/attrgraph/llm-labels)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the example sampling.")] = 0,
    neuronpedia_details: Annotated[
        bool,
        typer.Option(
            "--neuronpedia-details/--no-neuronpedia-details",
            help="With -l neuronpedia: also import activation examples, top logits and density.",
        ),
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    indent: Annotated[bool, typer.Option("--indent", help="Pretty-print the JSON (larger file).")] = False,
) -> None:
    """Label every feature of a graph: import labels, compute dashboards, explain, and score the labels.

    Offline by default: the heuristic explainer reads the dashboards; with --explainer llm an
    OpenAI-compatible endpoint writes the labels (the heuristic's stay where it fails).
    """
    from attrgraph_cli.autointerp.stage import DashboardOptions, Options
    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.stages import input_record, record_settings, run_stage

    if explainer not in ("heuristic", "llm", "none"):
        raise AttrgraphError(f"unknown --explainer {explainer!r}: use heuristic, llm or none", exit_code=2)
    llm = None
    if explainer == "llm":
        if not endpoint:
            raise AttrgraphError(
                "--explainer llm needs --endpoint URL (an OpenAI-compatible API)", exit_code=2
            )
        from attrgraph_cli.autointerp.explain_llm import LLMSettings
        from attrgraph_cli.net.cache import cache_root

        cache = llm_cache or cache_root() / "llm-labels"
        llm = LLMSettings(
            endpoint, llm_model, api_key_env, llm_concurrency, llm_retries, llm_timeout, cache_dir=cache
        )
    from attrgraph_cli.autointerp.import_neuronpedia_api import is_neuronpedia_source

    for path in labels or []:
        if not path.exists() and not is_neuronpedia_source(path):
            raise AttrgraphError(f"label source {path} does not exist", exit_code=2)
    if corpus is not None and not corpus.is_file():
        raise AttrgraphError(f"corpus {corpus} is not a readable file", exit_code=2)
    mode = "auto" if dashboards is None else ("on" if dashboards else "off")
    opts = Options(
        sources=list(labels or []),
        source_set=source_set,
        explainer=explainer,
        overwrite=overwrite,
        max_density=max_density,
        dashboards=DashboardOptions(
            mode, corpus, corpus_tokens, model, transcoders, device, dtype, batch_size, ctx_len, not quiet
        ),
        llm=llm,
        seed=seed,
        neuronpedia_details=neuronpedia_details,
    )
    files = [p for p in opts.sources if not is_neuronpedia_source(p)]
    extra = [input_record(p, "labels") for p in files]
    if corpus is not None:
        extra.append(input_record(corpus, "corpus"))
    reads = [("label source", p) for p in files] + [("corpus", corpus)]
    outcome = run_stage(
        "autointerp",
        source,
        output,
        partial(_autointerp_stage, opts=opts),
        record_settings(opts),
        extra_inputs=extra,
        indent=indent,
        read_files=reads,
    )
    _print_report(outcome.result)
    print_summary(source, output, outcome.summary, outcome.seconds)


def _autointerp_stage(graph, *, opts):
    """The stage: label the graph in place; what to print is the outcome's result, its last line the
    summary."""
    from attrgraph_cli.autointerp.stage import run_autointerp
    from attrgraph_cli.stages import StageOutcome

    report = run_autointerp(graph, opts)
    return StageOutcome(graph, report.facts, report.lines[-1] if report.lines else "", report)


def _print_report(report) -> None:
    """The stage's lines (its summary line is the command's last) and warnings, on stderr."""
    import sys

    from attrgraph_cli.safetext import printable

    for line in report.lines[:-1]:
        typer.echo(printable(line), err=True)
    for warning in report.warnings:
        sys.stderr.write(f"attrgraph: warning: {printable(warning)}\n")
