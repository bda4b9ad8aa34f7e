"""`--help` reads well at 80 columns (every option name whole, no Python-type metavars, no emoji) and a
usage error is one line `attrgraph: error: ...` with exit 2, as the real `attrgraph` process prints them."""

from __future__ import annotations

import re
import unicodedata

import pytest
import typer

from attrgraph_cli.cli import app
from attrgraph_testing.cli import CliResult, run_cli

ENV = {"COLUMNS": "80", "TERM": "xterm-256color"}
COMMANDS = sorted(typer.main.get_command(app).commands)


def _attrgraph(*args: str) -> CliResult:
    return run_cli(*args, fresh=True, env=ENV, timeout=120)


def _option_names(command: str) -> list[str]:
    cmd = typer.main.get_command(app).commands[command]
    return [
        name for p in cmd.params if p.param_type_name == "option" for name in (*p.opts, *p.secondary_opts)
    ]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_at_80_columns(command: str) -> None:
    out = _attrgraph(*([command] if command else []), "--help")
    assert out.code == 0 and out.stderr == "", out.stderr
    text = out.stdout
    assert max(len(line) for line in text.splitlines()) <= 80
    assert not re.search(r"<(bool|str|int|float|path|list|file)", text), "a Python-type metavar"
    assert "…" not in text, "something was cut"
    symbols = [c for c in text if unicodedata.category(c) == "So"]
    assert not symbols, f"emoji or symbols: {symbols}"
    assert "╭" not in text  # plain help, no boxes
    if command:
        words = set(re.findall(r"(?<![\w-])-{1,2}[\w-]+", text))
        missing = [name for name in _option_names(command) if name not in words]
        assert not missing, f"not shown whole: {missing}"


def test_intervene_help_keeps_the_layer_range_text() -> None:
    """Control for the emoji check: `A:B:` is printed as text (rich made `:B:` an emoji)."""
    assert "A:B: freeze" in _attrgraph("intervene", "--help").stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["cluster", "g.json", "--bogus"], "attrgraph: error: cluster: No such option: --bogus"),
        (["intervene"], "attrgraph: error: intervene: Missing argument 'GRAPH'."),
        (["no-such-command"], "attrgraph: error: No such command 'no-such-command'."),
        (["trace", "--max-n-logits", "many", "-o", "g.json"], "attrgraph: error: trace: Invalid value"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], expected: str) -> None:
    out = _attrgraph(*args)
    assert out.code == 2 and out.stdout == ""
    (line,) = out.stderr.splitlines()
    assert line.startswith(expected) and line.endswith("--help)")


def test_no_arguments_prints_the_help() -> None:
    out = _attrgraph()
    assert out.code == 0 and out.stdout.startswith("Usage: attrgraph")
