"""Issue 23, the CLI and stage half: what a file says is escaped wherever it is printed, a file does not
choose what is downloaded, intervene and trace --batch bounds, `-o -` is only the JSON, no output over an
input, SIGTERM leaves no temp file, and messages that say the true reason. Each test failed before its fix.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from attrgraph_cli.graph.synthetic import random_graph
from attrgraph_cli.io import save_graph
from attrgraph_cli.safetext import json_bytes, markup, printable

HOSTILE = "x\n::error file=a.py,line=1::forged\r\x1b]0;title\x07\x1b[31m[bold]red[/bold]\u202e\x9b2J"


def run_cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", *args],
        capture_output=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})},
        timeout=timeout,
    )


def assert_clean(*streams: bytes, commands_allowed: int = 0) -> None:
    """No terminal control, no bidi override, no line that GitHub would read as a workflow command (but
    `commands_allowed` of our own, from `--format github`)."""
    for raw in streams:
        text = raw.decode("utf-8", "replace")
        bad = [c for c in text if (ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F or c == "\u202e"]
        assert not bad, (bad[:5], text[:2000])
        commands = [line for line in text.splitlines() if line.lstrip().startswith("::")]
        assert len(commands) <= commands_allowed, commands


def one_error_line(result: subprocess.CompletedProcess, codes: tuple[int, ...] = (1, 2)) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode in codes, (result.returncode, err)
    lines = [line for line in err.splitlines() if line.startswith("attrgraph: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def small_graph(tmp_path: Path, supernodes: list[list[str]] | None = None, name: str = "g.json") -> Path:
    path = tmp_path / name
    save_graph(random_graph(n_links=1500, n_layers=4, n_tokens=4, seed=5), path)
    if supernodes is not None:
        doc = json.loads(path.read_text())
        doc["qParams"]["supernodes"] = supernodes
        path.write_text(json.dumps(doc))
    return path


def feature_ids(path: Path, n: int = 4) -> list[str]:
    doc = json.loads(path.read_text())
    return [node["node_id"] for node in doc["nodes"] if node["feature_type"] == "cross layer transcoder"][:n]


# ---- 1. escaping -------------------------------------------------------------------------------------------
def test_printable_escapes_controls_bidi_and_a_leading_command() -> None:
    out = printable(HOSTILE)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\u202e" not in out
    assert "\\n::error" in out and "\\x1b]0;title" in out and "\\u202e" in out and "\\x9b" in out
    assert printable("  ::warning::x").lstrip().startswith("\\x3a:")
    assert printable("Texas → Austin é") == "Texas → Austin é"  # plain text unchanged
    assert markup("[bold]x") == "\\[bold]x"
    assert json.loads(json_bytes(json.dumps({"a": "\x85\u2028é"}, ensure_ascii=False).encode())) == {
        "a": "\x85\u2028é"
    }
    assert b"\xc2\x85" not in json_bytes(json.dumps({"a": "\x85"}, ensure_ascii=False).encode())


def test_cluster_table_escapes_a_hostile_kept_supernode_name(tmp_path: Path) -> None:
    base = small_graph(tmp_path)
    graph = small_graph(tmp_path, [[HOSTILE, *feature_ids(base, 3)]], name="h.json")
    result = run_cli("cluster", str(graph), "-o", str(tmp_path / "out.json"), "--max-features", "50")
    assert result.returncode == 0, result.stderr.decode()
    assert b"forged" in result.stdout  # the name is shown, as text
    assert_clean(result.stdout, result.stderr)
    assert b"[bold]red" in result.stdout  # rich markup in a name is text, not style


@pytest.mark.parametrize("command", ["validate", "convert", "render", "cluster"])
def test_error_line_escapes_a_file_name_with_a_newline(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "x\n::error file=a.py::forged\x1b[2J.json"
    bad.write_text("{not json")
    extra = {"validate": [], "render": ["-o", str(tmp_path / "o.svg")]}.get(
        command, ["-o", str(tmp_path / "o.json")]
    )
    for fmt in (["--format", "github"], ["--format", "json"], []) if command == "validate" else [[]]:
        result = run_cli(command, str(bad), *extra, *fmt)
        assert result.returncode in (1, 2), result.stderr
        assert "forged" in one_error_line(result)
        assert_clean(result.stdout, commands_allowed=1 if "github" in fmt else 0)
        assert_clean(result.stderr)


# ---- 5. SIGTERM mid-write ----------------------------------------------------------------------------------
def test_sigterm_while_the_output_is_written_leaves_no_temp_file(tmp_path: Path) -> None:
    """SIGTERM sent the moment the temp file appears (numpy's threads used to take the signal and end the
    process with the temp file still there, 4 of 4 runs before the fix)."""
    big = tmp_path / "big.json"
    save_graph(random_graph(n_links=150_000, seed=3), big)
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-m", "attrgraph_cli", "convert", str(big), "-o", str(out / "o.json")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        sent = False
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if any(n.endswith(".tmp") for n in os.listdir(out)):
                proc.send_signal(signal.SIGTERM)
                sent = True
                break
        proc.wait(60)
        assert sent, "the temp file never showed up"
        assert proc.returncode == -signal.SIGTERM  # still ends the process, once the file is whole
        assert not [n for n in os.listdir(out) if n.endswith(".tmp")]
        assert orjson.loads((out / "o.json").read_bytes())["links"]
        (out / "o.json").unlink()
