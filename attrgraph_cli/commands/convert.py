"""`attrgraph convert IN -o OUT`: any readable graph format to Neuronpedia graph JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attrgraph_cli.commands._common import print_summary, user_errors
from attrgraph_cli.defaults import DEFAULT_EDGE_THRESHOLD, DEFAULT_NODE_THRESHOLD


def register(app: typer.Typer) -> None:
    """Add `convert` to the app."""
    app.command("convert")(convert)


@user_errors
def convert(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="IN", help="Graph JSON, circuit-tracer .pt, CLT-Forge .pt, or matrix .npz/.pt."
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the Neuronpedia graph JSON.")
    ],
    node_threshold: Annotated[
        float,
        typer.Option(
            "--node-threshold", min=0.0, max=1.0, help="Cumulative influence kept when pruning nodes."
        ),
    ] = DEFAULT_NODE_THRESHOLD,
    edge_threshold: Annotated[
        float,
        typer.Option(
            "--edge-threshold", min=0.0, max=1.0, help="Cumulative influence kept when pruning edges."
        ),
    ] = DEFAULT_EDGE_THRESHOLD,
    slug: Annotated[
        str | None,
        typer.Option("--slug", help="metadata.slug (default: the input's, else its file name)."),
    ] = None,
    scan: Annotated[
        str | None,
        typer.Option("--scan", help="metadata.scan (model / transcoder id) when the input lacks it."),
    ] = None,
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle", help="Allow full unpickling of .pt files (can run code: trusted files only)."
        ),
    ] = False,
    indent: Annotated[bool, typer.Option("--indent", help="Pretty-print the JSON (larger file).")] = False,
) -> None:
    """Convert any readable graph file to a Neuronpedia-compatible graph JSON (pruning unpruned inputs).

    Thresholds apply to unpruned inputs (circuit-tracer .pt, matrices); a JSON input is already pruned
    and is passed through unchanged apart from the filled-in metadata and provenance.
    """
    from attrgraph_cli.io import detect_format
    from attrgraph_cli.io.atomic import check_writable
    from attrgraph_cli.stages import StageOutcome, run_stage

    check_writable(output)
    fmt = detect_format(source)
    pruned_here = fmt not in ("neuronpedia-json", "clt-forge-pt")

    def stage(graph):
        if slug is not None or not graph.metadata.get("slug"):
            graph.metadata["slug"] = slug if slug is not None else _default_slug(source)
        if scan is not None or not isinstance(graph.metadata.get("scan"), str):
            graph.metadata["scan"] = scan or ""
        summary = f"{len(graph.nodes):,} nodes, {len(graph.edges):,} links"
        return StageOutcome(graph, {"source_format": fmt}, summary)

    settings = {
        "node_threshold": node_threshold if pruned_here else None,
        "edge_threshold": edge_threshold if pruned_here else None,
        "trust_pickle": trust_pickle,
        "slug": slug,
        "scan": scan,
    }
    outcome = run_stage(
        "convert",
        source,
        output,
        stage,
        settings,
        load_options={
            "node_threshold": node_threshold,
            "edge_threshold": edge_threshold,
            "trust_pickle": trust_pickle,
        },
        indent=indent,
    )
    print_summary(f"{source} ({fmt})", output, outcome.summary, outcome.seconds)


def _default_slug(source: Path) -> str:
    name = source.name
    for suffix in (".attribution_graph.pt", ".json", ".pt", ".npz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return source.stem
