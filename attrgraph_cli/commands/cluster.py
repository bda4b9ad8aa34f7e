"""`attrgraph cluster GRAPH -o OUT`: automatic supernodes, named and scored (no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer

from attrgraph_cli.commands._common import print_summary, user_errors
from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.safetext import printable


def register(app: typer.Typer) -> None:
    """Add `cluster` to the app."""
    app.command("cluster")(cluster)


@user_errors
def cluster(
    source: Annotated[
        Path, typer.Argument(metavar="GRAPH", help="Graph JSON, circuit-tracer .pt, CLT-Forge .pt or matrix.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the graph JSON.")],
    max_size: Annotated[
        int | None,
        typer.Option(
            "--max-size",
            help="Most nodes in one supernode (default: 40 with --method fitted, 10 with structural).",
        ),
    ] = None,
    layer_band: Annotated[
        int | None, typer.Option("--layer-band", help="Most layers a supernode may span (default: any).")
    ] = None,
    min_influence: Annotated[
        float,
        typer.Option(
            "--min-influence",
            help="Influence floor relative to the most influential feature; features below stay out.",
        ),
    ] = 0.01,
    max_features: Annotated[
        int,
        typer.Option("--max-features", help="Cluster at most this many features (most influential first)."),
    ] = 1000,
    max_distance: Annotated[
        float | None,
        typer.Option(
            "--max-distance",
            help="Largest average 1 - similarity inside a supernode, 0..2 (default: 1 - the fitted cut with "
            "--method fitted, 0.5 with structural).",
        ),
    ] = None,
    keep_influence: Annotated[
        float | None,
        typer.Option(
            "--keep-influence",
            help="Keep the supernodes that, most influential first, carry this share of the grouped "
            "influence; the rest are noise, left out (default 0.95 with --method fitted; 1, every "
            "supernode, with structural or --only-pinned, where a value given applies to the whole "
            "graph's supernodes before they are cut to the pins).",
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="fitted (feature units, a model fitted on real graphs), structural (edge profiles, node by "
            "node), or auto: fitted when >= 10% of the candidates repeat a feature at another position.",
        ),
    ] = "auto",
    only_pinned: Annotated[
        bool,
        typer.Option(
            "--only-pinned",
            help=(
                "Only the pinned features (qParams.pinnedIds) join supernodes; the unpinned candidates "
                "still shape the clustering as context."
            ),
        ),
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Drop the supernodes already in the file and start over.")
    ] = False,
    singletons: Annotated[
        bool,
        typer.Option(
            "--singletons/--no-singletons",
            help="An influential feature that fits no group becomes a supernode of its own (else pinned).",
        ),
    ] = True,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Decides ties; the result is the same for a seed.")
    ] = 0,
    causal: Annotated[
        bool,
        typer.Option(
            "--causal",
            help="Check each new supernode on the graph's own model (e.g. the demo model): scale x-1.",
        ),
    ] = False,
    model: Annotated[
        str | None, typer.Option("-m", "--model", help="Model for the causal check (implies --causal).")
    ] = None,
    transcoders: Annotated[
        str | None, typer.Option("-t", "--transcoders", help="Transcoders for --model.")
    ] = None,
    device: Annotated[str, typer.Option("--device", help="Device for the causal check.")] = "auto",
    trust_pickle: Annotated[
        bool, typer.Option("--trust-pickle", help="Allow full unpickling of .pt inputs (trusted files only).")
    ] = False,
    indent: Annotated[bool, typer.Option("--indent", help="Pretty-print the JSON (larger file).")] = False,
    rename: Annotated[
        list[str] | None,
        typer.Option(
            "--rename",
            metavar="OLD=NEW",
            help="Rename a supernode (repeatable); only renames, nothing is clustered.",
        ),
    ] = None,
) -> None:
    """Group the graph's features into supernodes (qParams.supernodes), name them and score the grouping.

    Supernodes already in the file are kept (use --replace to start over). The scores -- coverage
    (replacement / completeness of the supernodes' subgraph) and grouping (modularity, profile cosine
    within vs between) against a layer/position baseline, and with --causal / --model the measured effect
    of each supernode scaled to -1x against its prediction -- are printed and stored in attrgraph.supernodes.
    Only --causal loads torch and a model. On a file whose supernodes are all kept, --causal checks those.
    """
    _check_model_paths(model, transcoders)
    if rename:
        if replace or causal or model is not None or transcoders is not None:
            raise AttrgraphError("--rename only renames: run cluster again for --replace or --causal")
        _rename(source, output, rename, indent=indent, trust_pickle=trust_pickle)
        return

    from attrgraph_cli.cluster import ClusterOptions, ClusterResult, cluster_graph
    from attrgraph_cli.cluster.table import print_result
    from attrgraph_cli.stages import StageOutcome, run_stage

    opts = ClusterOptions(
        max_size=max_size,
        layer_band=layer_band,
        min_influence=min_influence,
        max_features=max_features,
        max_distance=max_distance,
        keep_influence=keep_influence,
        method=method,
        only_pinned=only_pinned,
        replace=replace,
        seed=seed,
        singletons=singletons,
        causal=causal or model is not None or transcoders is not None,
        model=model,
        transcoders=transcoders,
        device=device,
    )
    opts.check()

    def stage(graph):
        from attrgraph_cli.cluster.recheck import causal_on_kept, kept_supernodes, nothing_left

        nothing_new, recheck = False, None
        try:
            result = cluster_graph(graph, opts)
        except AttrgraphError:  # nothing left to cluster beside the kept supernodes: keep them, say so
            kept = [] if opts.replace or opts.only_pinned else kept_supernodes(graph)
            if not kept or not nothing_left(graph, kept, opts.min_influence):
                raise
            result = ClusterResult([], kept, {}, 0, 0)
            nothing_new = True
        if opts.causal and not result.new:  # nothing new to check: check the kept supernodes
            recheck = causal_on_kept(graph, result.kept, opts)
        details = {
            "new_supernodes": len(result.new),
            "kept_supernodes": len(result.kept),
            "candidates": result.n_candidates,
        }
        summary = f"{len(result.new)} new supernodes ({len(result.kept)} kept)"
        return StageOutcome(graph, details, summary, _Clustered(result, recheck, nothing_new))

    outcome = run_stage(
        "cluster",
        source,
        output,
        stage,
        opts.settings() | {"trust_pickle": trust_pickle},
        load_options={"trust_pickle": trust_pickle},
        indent=indent,
    )
    done: _Clustered = outcome.result
    if not done.nothing_new:
        print_result(outcome.graph, done.result, stderr=str(output) == "-")  # -o -: stdout is the JSON
    _explain_kept(done.result, done.recheck, asked_causal=opts.causal)
    print_summary(source, output, outcome.summary, outcome.seconds)


class _Clustered(NamedTuple):
    """The cluster stage's result: the clustering, the causal check of kept supernodes, whether it found
    nothing new."""

    result: Any
    recheck: dict | None
    nothing_new: bool


def _check_model_paths(model: str | None, transcoders: str | None) -> None:
    """A --model/--transcoders that is a path (starts with . / or ~) must exist: said before any work."""
    for flag, value in (("--model", model), ("--transcoders", transcoders)):
        if value and value.startswith((".", "/", "~")) and not Path(value).expanduser().exists():
            raise AttrgraphError(f"{flag} {value!r}: no such file or folder")


def _rename(source: Path, output: Path, values: list[str], *, indent: bool, trust_pickle: bool) -> None:
    from attrgraph_cli.cluster.rename import parse_renames, rename_supernodes
    from attrgraph_cli.stages import StageOutcome, run_stage

    pairs = parse_renames(values)

    def stage(graph):
        lines = rename_supernodes(graph, pairs)
        return StageOutcome(graph, {"renamed": [list(p) for p in pairs]}, f"{len(pairs)} renamed", lines)

    outcome = run_stage(
        "cluster",
        source,
        output,
        stage,
        {"rename": [f"{old}={new}" for old, new in pairs], "trust_pickle": trust_pickle},
        load_options={"trust_pickle": trust_pickle},
        indent=indent,
    )
    for line in outcome.result:
        typer.echo(printable(line), err=True)
    print_summary(source, output, outcome.summary, outcome.seconds)


def _explain_kept(result, recheck, *, asked_causal: bool) -> None:
    """Say what a run that made no new supernode did (it is not silent about --causal)."""
    if result.new or not result.kept:
        if asked_causal and not result.new and not result.kept:
            typer.echo("causal check: no supernode to check", err=True)
        return
    typer.echo(
        f"no new supernode: the candidates are in the {len(result.kept)} kept supernode(s) "
        "(--replace clusters from scratch)",
        err=True,
    )
    if not asked_causal:
        return
    if recheck is None:
        typer.echo("causal check: the kept supernodes have no member in the graph; nothing checked", err=True)
        return
    summary = recheck["summary"]
    typer.echo(
        f"causal check (x-1) on the {summary['checked']} kept supernode(s), model {summary['model']}:",
        err=True,
    )
    for name, c in recheck["groups"]:
        typer.echo(
            printable(
                f"  {name}: measured {_num(c.get('measured'))}, predicted {_num(c.get('predicted'))}, "
                f"percentile among matched controls: place {_num(c.get('control_percentile'))}, "
                f"influence {_num(c.get('influence_control_percentile'))}"
            ),
            err=True,
        )


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
