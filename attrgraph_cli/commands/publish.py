"""`attrgraph publish GRAPH`: upload a graph to Neuronpedia and print its link."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attrgraph_cli.commands._common import user_errors


def register(app: typer.Typer) -> None:
    """Add `publish` to the app."""
    app.command("publish")(publish)


@user_errors
def publish(
    source: Annotated[Path, typer.Argument(metavar="GRAPH", help="Graph (any format `convert` reads).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the graph and show what would be sent; send nothing.")
    ] = False,
) -> None:
    """Upload a graph to Neuronpedia (ATTRGRAPH_NEURONPEDIA_URL, default neuronpedia.org) and print its link.

    The graph is validated first and checked against Neuronpedia's upload limits; nothing is sent when it
    would be refused. The API key comes from $NEURONPEDIA_API_KEY only.
    """
    import sys

    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.io import load_graph
    from attrgraph_cli.io.neuronpedia_json import dumps
    from attrgraph_cli.neuronpedia.ids import base_url
    from attrgraph_cli.neuronpedia.publish import plan, send
    from attrgraph_cli.safetext import printable

    try:
        base = base_url()
    except ValueError as exc:
        raise AttrgraphError(str(exc)) from None
    graph = load_graph(source)
    the_plan = plan(dumps(graph), printable(str(source)), base)
    say = sys.stderr.write
    for line in the_plan.describe():
        say(("would send: " if dry_run else "sending: ") + line + "\n")
    if dry_run:
        say("dry run: nothing sent\n")
        return
    page = send(the_plan, on_step=lambda msg: say(f"  {msg}\n"))
    typer.echo(printable(page))
