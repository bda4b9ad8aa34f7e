"""The `attrgraph` command line: a thin typer app.

Each subcommand lives in `attrgraph_cli/commands/<name>.py` and imports its heavy machinery (numpy,
torch, circuit-tracer, weasyprint) inside the function body, so `attrgraph --help` starts fast.
"""

from __future__ import annotations

import typer

from attrgraph_cli import __version__
from attrgraph_cli.commands import autointerp, cluster, convert, intervene, publish, render, trace, validate

app = typer.Typer(
    name="attrgraph",
    help="Trace, validate, label, cluster, intervene on and render attribution graphs of language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: whole option names and no emoji at 80 columns (helpfmt)
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"attrgraph {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Trace, validate, label, cluster, intervene on and render attribution graphs."""


for module in (trace, validate, convert, render, autointerp, cluster, intervene, publish):
    module.register(app)


def main() -> None:
    from attrgraph_cli import helpfmt

    helpfmt.run(helpfmt.simplify(typer.main.get_command(app)))


if __name__ == "__main__":
    main()
