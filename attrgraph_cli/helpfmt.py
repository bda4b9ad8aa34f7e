"""Help and usage errors that read well in an 80-column terminal.

Typer shows every option's Python type as its metavar (`<bool>`, `<list[Path]>`) and, in rich mode, cuts
long option names (`--check-superno…`) and turns `:B:` in help text into an emoji. The app is built
with plain click help instead, and each option shows a short metavar: its declared one (`OLD=NEW`), the
choices of an enum (`text|json`), or one by type (`PATH`, `N`, `NUM`, `TEXT`); arguments show their
name only. A usage error is one line, `attrgraph: error: ...`, exit 2, like every other error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def _click() -> Any:
    """The click typer runs on: its own vendored copy (typer >= 0.26) or the click package."""
    import typer.core

    vendored = getattr(typer.core, "_click", None)
    if vendored is not None:
        return vendored
    import click

    return click


def plain_metavar(param: Any) -> str:
    """A short metavar for a value option (types in Python notation are not for users)."""
    if param.metavar:
        return param.metavar
    desc = getattr(param, "type_descriptor", None)
    choices = getattr(desc, "choices", None) if getattr(desc, "is_choice", False) else None
    if choices:
        return "|".join(str(getattr(c, "value", c)) for c in choices)
    annotation = getattr(desc, "annotation", None)
    kind = getattr(desc, "ranged_type_name", None) if getattr(desc, "is_ranged", False) else None
    if getattr(desc, "is_path", False) or annotation is Path:
        return "PATH"
    names = {"int": "N", "float": "NUM", "str": "TEXT"}
    if kind in names:
        return names[kind]
    bare = param.bare_type() if hasattr(param, "bare_type") else ""
    bare = bare.removeprefix("list[").removesuffix("]").lower()
    return {"int": "N", "float": "NUM", "path": "PATH", "str": "TEXT"}.get(bare, "VALUE")


def simplify(command: Any) -> Any:
    """Give every parameter of `command` (and its subcommands) a plain metavar for its help."""
    for param in command.params:
        if param.param_type_name == "argument":
            name = (param.metavar or param.name or "ARG").upper() + ("..." if param.nargs == -1 else "")
            usage = name if param.required else f"[{name}]"
            param.display_type_rich = lambda ctx: ""
            param.get_usage_pieces = lambda ctx, usage=usage: [usage]
        elif param.param_type_name == "option" and not (param.is_flag or param.count):
            shown = plain_metavar(param)
            param.display_type_rich = lambda ctx, shown=shown: shown
    for sub in getattr(command, "commands", {}).values():
        simplify(sub)
    return command


def _abort() -> type[BaseException]:
    """click's `Abort`: in `exceptions` of the click package, in `typer.exceptions` with typer's own click."""
    import typer

    return getattr(_click().exceptions, "Abort", typer.Abort)


def run(command: Any, args: list[str] | None = None) -> Any:
    """Run the click command; a usage error becomes one `attrgraph: error:` line and exit 2."""
    exceptions = _click().exceptions
    try:
        code = command.main(args=args, prog_name="attrgraph", standalone_mode=False)
    except exceptions.UsageError as exc:
        from attrgraph_cli.safetext import printable

        if type(exc).__name__ == "NoArgsIsHelpError":  # `attrgraph` alone: the help, as --help gives it
            sys.stdout.write(exc.format_message() + "\n")
            sys.exit(0)
        path = exc.ctx.command_path if exc.ctx is not None else "attrgraph"
        sub = path.partition(" ")[2]
        where = f"{sub}: " if sub else ""
        hint = f" (see {path} --help)"
        sys.stderr.write(f"attrgraph: error: {printable(where + exc.format_message())}{hint}\n")
        sys.exit(exc.exit_code)
    except exceptions.ClickException as exc:  # e.g. a file option that cannot be opened
        from attrgraph_cli.safetext import printable

        sys.stderr.write(f"attrgraph: error: {printable(exc.format_message())}\n")
        sys.exit(exc.exit_code)
    except _abort():  # Ctrl-C while click itself parses (`exceptions.Abort` is missing in typer's click)
        sys.stderr.write("attrgraph: error: interrupted\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
