"""Run a callable or an `attrgraph` command in a forked child with an address-space limit and a deadline, so
a test of a hang or a memory blow-up fails (timeout / MemoryError) instead of taking the machine with it."""

from __future__ import annotations

import io
import os
import resource
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChildResult:
    code: int  # exit code; -1 when the deadline killed it
    stderr: str
    timed_out: bool

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 4 << 30


def in_child(fn: Callable[[], Any], *, timeout_s: float = 20.0, extra_bytes: int = 768 << 20) -> ChildResult:
    """Run `fn()` in a forked child allowed `extra_bytes` of address space beyond the parent's; its stderr
    and exit code (0: returned; `SystemExit`'s code; 70: any other exception, with its traceback)."""
    limit = _address_space() + extra_bytes
    with tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
                os.dup2(err.fileno(), 2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
                sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
                try:
                    fn()
                    code = 0
                except SystemExit as exc:
                    if isinstance(exc.code, str):
                        sys.stderr.write(exc.code + "\n")
                    code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - reported to the parent as exit 70
                try:
                    sys.stderr.write("CHILD CRASH " + traceback.format_exc())
                finally:
                    code = 70
            finally:
                try:
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        timed_out = False

        def on_alarm(signum: int, frame: Any) -> None:
            nonlocal timed_out
            timed_out = True
            os.kill(pid, signal.SIGKILL)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            _, status = os.waitpid(pid, 0)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return ChildResult(-1 if timed_out else os.waitstatus_to_exitcode(status), text, timed_out)


def cli_in_child(args: list[str], **kwargs: Any) -> ChildResult:
    """`attrgraph ARGS` in a bounded child (see `in_child`)."""
    from attrgraph_cli.cli import app

    return in_child(lambda: app(args=[str(a) for a in args], prog_name="attrgraph"), **kwargs)


def assert_one_error_line(result: ChildResult, *needles: str, codes: tuple[int, ...] = (1, 2)) -> str:
    """The run ended in time with exit 1 or 2 and exactly one `attrgraph: error:` line holding `needles`."""
    assert not result.timed_out, f"timed out; stderr: {result.stderr[-2000:]}"
    assert result.code in codes, result.stderr[-3000:]
    lines = result.error_lines()
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error: "), lines[:5]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
