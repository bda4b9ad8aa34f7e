"""Outputs written atomically (attrgraph_cli/io/atomic.py): the old file stays until the new one is whole,
usual permissions, and no temp file left by a failure, SIGINT or SIGTERM (also mid-write in `convert`)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from attrgraph_cli.io import save_graph
from attrgraph_cli.io.atomic import atomic_path, atomic_write_text
from attrgraph_testing.synthetic import random_graph


def test_atomic_write_keeps_usual_permissions(tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    atomic_write_text(out, "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    out.chmod(0o640)
    atomic_write_text(out, "{ }")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.read_text() == "{ }"
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]


def test_atomic_path_replaces_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "raw.pt"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer died")
    assert out.read_bytes() == b"old"
    with atomic_path(out) as tmp:
        tmp.write_bytes(b"new")
    assert out.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["raw.pt"]


# The writer turns Ctrl-C back on: a job started in the background by a non-interactive shell (`cmd &`,
# as CI wrappers do) inherits SIGINT ignored, and so would the child, which then sleeps through it.
_INTERRUPTED_WRITER = textwrap.dedent(
    """
    import signal, sys, time
    from attrgraph_cli.io.atomic import atomic_path
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with atomic_path(sys.argv[1]) as tmp:
        tmp.write_bytes(b"half")
        print("ready", flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_between_create_and_rename_leaves_nothing(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_WRITER, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().strip() == b"ready"
    proc.send_signal(sig)
    proc.wait(30)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


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
