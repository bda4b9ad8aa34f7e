"""What every subcommand shares: turning errors into one line and an exit code, and the last summary line."""

from __future__ import annotations

import errno
import functools
import os
import sys
import warnings
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import typer

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.safetext import printable

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `attrgraph: error: message` on stderr and return the Exit to raise.

    The message is passed through `printable`: it often quotes a file name or a value read from a file,
    and a raw newline or escape sequence there could forge a CI annotation or drive the terminal."""
    sys.stderr.write(f"attrgraph: error: {printable(message)}\n")
    return typer.Exit(code)


def print_summary(
    source: object, output: object | None, summary: str, seconds: float, *, quiet: bool = False
) -> None:
    """The last line of every graph-writing command, on stderr and in one shape:
    `SOURCE -> OUTPUT: SUMMARY in S s`, or `SOURCE: SUMMARY in S s (no -o: nothing written)`.

    Escaped like every line that quotes a file name or a value read from a file (`printable`)."""
    if quiet:
        return
    text = f"{source} -> {output}: {summary}" if output is not None else f"{source}: {summary}"
    text += f" in {seconds:.2f} s" + ("" if output is not None else " (no -o: nothing written)")
    typer.echo(printable(text), err=True)


def check_text_arguments(arguments: dict[str, Any]) -> None:
    """Text options must be text: bytes that are not UTF-8 (they arrive as lone surrogates) are refused.

    File paths (`Path` values) are left alone: a file name may be any bytes.
    """
    for name, value in arguments.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for text in values:
            if isinstance(text, str) and not isinstance(text, Enum) and _has_surrogates(text):
                label = "the prompt" if name == "prompt" else f"--{name.replace('_', '-')}"
                raise AttrgraphError(f"{label} holds bytes that are not UTF-8 text")


#: the integers a graph JSON can hold (stages record their options in the file they write)
INT64 = (-(2**63), 2**63 - 1)


def check_integer_arguments(arguments: dict[str, Any]) -> None:
    """Integer options must fit in 64 bits: larger ones mean nothing as counts or seeds, and the settings
    recorded in the output could not be written as JSON."""
    low, high = INT64
    for name, value in arguments.items():
        if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
            raise AttrgraphError(
                f"--{name.replace('_', '-')} {value} does not fit in 64 bits (-2**63 .. 2**63-1)"
            )


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


#: what a write to a full disk or a full device (/dev/full) fails with
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def user_errors(func: F) -> F:
    """Run a command body; an `AttrgraphError` (or any unexpected error) becomes one line on stderr.

    Set ATTRGRAPH_DEBUG=1 to see the traceback of an unexpected error.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            check_text_arguments(kwargs)
            check_integer_arguments(kwargs)
            kwargs = _graph_links(kwargs)
            if os.environ.get("ATTRGRAPH_DEBUG"):
                return func(*args, **kwargs)
            with warnings.catch_warnings():  # library warnings would come before the one error line
                warnings.simplefilter("ignore")
                return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except AttrgraphError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except MemoryError:
            raise fail("out of memory", 2) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence against tracebacks
            if os.environ.get("ATTRGRAPH_DEBUG"):
                raise
            if isinstance(exc, OSError) and exc.errno in _DISK_FULL:  # only a write fails so (stdout too)
                raise fail(f"cannot write the output ({exc.strerror or exc})", 2) from None
            kind = type(exc).__name__
            raise fail(f"unexpected {kind}: {exc} (set ATTRGRAPH_DEBUG=1 for the traceback)", 3) from None

    return wrapper  # type: ignore[return-value]


def _graph_links(arguments: dict[str, Any]) -> dict[str, Any]:
    """A Neuronpedia graph link (or `np:MODEL/SLUG`) given as an input graph becomes the path of the
    downloaded graph with the link's view applied (`io.neuronpedia_link`); file arguments are untouched."""
    from attrgraph_cli.io.neuronpedia_link import GRAPH_ARGUMENTS, looks_like_link, resolve_links

    def linked(value: Any) -> bool:
        values = value if isinstance(value, (list, tuple)) else [value]
        return any(looks_like_link(v) for v in values)

    if not any(linked(arguments.get(name)) for name in GRAPH_ARGUMENTS):
        return arguments
    return resolve_links(arguments)
