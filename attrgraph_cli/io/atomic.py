"""Write output files safely: atomically for regular files, straight through for devices, FIFOs and `-`.

`-o PATH` is resolved first (`resolve_output`):
- `-` is standard output;
- a symlink is followed, and the file it points to is what gets replaced (the link stays a link);
- a character / block device, FIFO or socket is written into directly (there is nothing to replace);
- a directory is refused;
- anything else (a regular file, or nothing yet) gets a temp file in the same folder, fsync, then a
  rename over the target, so a reader sees the old file or the whole new one.

The temp file is created and renamed with SIGINT / SIGTERM / SIGHUP held back (in every thread: see
`_signals_held`), and removed on any error or interrupt in between, so no `.name.xxxx.tmp` file is ever
left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from attrgraph_cli.errors import AttrgraphError

_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class OutputError(AttrgraphError):
    """The output path cannot be written (a directory, an unwritable folder, a symlink loop)."""


@dataclass(frozen=True)
class OutputTarget:
    """Where `-o` really writes: `kind` is "stdout", "special" (device / FIFO / socket) or "file"."""

    kind: Literal["stdout", "special", "file"]
    path: Path  # the resolved path (the symlink's target); "-" for stdout


def resolve_output(path: str | os.PathLike[str]) -> OutputTarget:
    """Resolve `-o PATH` (see the module docstring); `OutputError` with one clear line when it cannot be."""
    if str(path) == "-":
        return OutputTarget("stdout", Path("-"))
    given = Path(path)
    try:
        mode: int | None = os.stat(given).st_mode  # follows symlinks
    except FileNotFoundError:
        mode = None  # a new file, or a dangling symlink: written where it points
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"{given}: cannot write: a symlink loop") from None
        if exc.errno == errno.ENOTDIR:
            raise _folder_error(given, given.parent, exc) from None
        raise OutputError(f"{given}: cannot write ({exc.strerror or exc})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{given}: is a directory; give a file name for the output")
    if mode is not None and not stat.S_ISREG(mode):
        return OutputTarget("special", given)  # opened by its own name: /dev/stdout works too
    if given.is_absolute() and given.parts[1:2] in (("dev",), ("proc",)):
        return OutputTarget("special", given)  # /dev/stdout redirected to a file: write through it
    return OutputTarget("file", Path(os.path.realpath(given)))


def check_writable(path: str | os.PathLike[str]) -> OutputTarget:
    """Fail now (before any long computation) if `-o PATH` cannot be written. Creates nothing: a folder
    that does not exist yet is judged by its nearest existing ancestor (it is created when writing)."""
    target = resolve_output(path)
    if target.kind == "file":
        folder = target.path.parent
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise _folder_error(path, existing, OSError(errno.ENOTDIR, "not a folder"))
        if existing == folder:
            try:
                fd, probe = tempfile.mkstemp(prefix=f".{target.path.name}.", suffix=".probe", dir=folder)
            except OSError as exc:
                raise _folder_error(path, folder, exc) from None
            os.close(fd)
            os.unlink(probe)
        elif not os.access(existing, os.W_OK | os.X_OK):
            raise _folder_error(path, existing, OSError(errno.EACCES, "permission denied"))
    elif target.kind == "special" and not os.access(target.path, os.W_OK):
        raise OutputError(f"{path}: cannot write (permission denied)")
    return target


def is_regular_output(path: str | os.PathLike[str]) -> bool:
    """Whether `-o PATH` names (or will name) a regular file, whose size can be reported afterwards."""
    try:
        return resolve_output(path).kind == "file"
    except OutputError:
        return False


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT / SIGTERM / SIGHUP back for the block (delivered right after it); main thread only.

    Blocking the signals in this thread is not enough: a process-directed signal goes to any thread that
    does not block it (numpy's BLAS threads, torch's pools), and SIGTERM's default action then ends the
    whole process with the temp file still there (7 of 8 runs in issue 23). So for the block each held
    signal also gets a Python handler that only notes it (CPython runs handlers in the main thread,
    whichever thread the kernel picked); the noted signals are raised again once the old handlers are
    back, and do then what they would have done.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    saved: dict[int, object] = {}
    for sig in _HELD_SIGNALS:
        previous = signal.getsignal(sig)
        if previous is not None:  # None: a handler set outside Python, which cannot be put back
            saved[sig] = signal.signal(sig, lambda signum, frame: noted.append(signum))
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)  # pending ones reach the noting handler here
        for sig, handler in saved.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        for sig in dict.fromkeys(noted):
            signal.raise_signal(sig)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While a temp file exists, let SIGTERM / SIGHUP unwind like Ctrl-C so the cleanup below runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    saved = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            saved[sig] = signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _make_folder(real: Path, given: str | os.PathLike[str]) -> Path:
    folder = real.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _folder_error(given, folder, exc) from None
    return folder


def _folder_error(given: str | os.PathLike[str], folder: Path, exc: OSError) -> OutputError:
    reasons = {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "not a folder",
    }
    reason = reasons.get(exc.errno or 0) or exc.strerror or str(exc)
    return OutputError(f"{given}: cannot write into the folder {str(folder)!r} ({reason})")


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path for a writer that wants a file name (e.g. `torch.save`).

    A regular target: when the block ends without error the temp file replaces it (keeping its mode);
    otherwise the temp file is removed and the target is left as it was. A device, FIFO or `-`: the temp
    file (in the system temp folder) is copied into it afterwards.
    """
    target = resolve_output(path)
    folder = _make_folder(target.path, path) if target.kind == "file" else Path(tempfile.gettempdir())
    with _terminate_as_interrupt():
        with _signals_held():
            try:
                fd, name = tempfile.mkstemp(prefix=f".{target.path.name}.", suffix=".tmp", dir=folder)
            except OSError as exc:
                raise _folder_error(path, folder, exc) from None
            os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            if target.kind == "file":
                mode = _final_mode(target.path)
                with _signals_held():
                    os.chmod(tmp, mode)
                    os.replace(tmp, target.path)
            else:
                with open(tmp, "rb") as src, _open_stream(target) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        finally:
            with _signals_held(), contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


@contextmanager
def _open_stream(target: OutputTarget) -> Iterator[IO[bytes]]:
    if target.kind == "stdout":
        stream = sys.stdout.buffer
        yield stream
        stream.flush()
        return
    try:
        handle = open(target.path, "wb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise OutputError(f"{target.path}: cannot write ({exc.strerror or exc})") from None
    try:  # a device can refuse the bytes themselves (/dev/full: ENOSPC on write or on close)
        with handle:
            yield handle
    except OSError as exc:
        raise OutputError(f"{target.path}: cannot write ({exc.strerror or exc})") from None


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Open a temp file next to `path`; on success it replaces `path`, on error it is removed.

    A reader of `path` sees either the old file or the whole new one, never half of it; this also makes
    `-o` equal to the input file safe.
    """
    with atomic_path(path) as tmp:
        encoding = None if "b" in mode else "utf-8"
        with open(tmp, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> int:
    """Write `data` to `path` (see the module docstring); returns the number of bytes written.

    For a regular file the temp file is created, filled and renamed with interrupts held back, so an
    interrupt lands before or after, never in between.
    """
    target = resolve_output(path)
    if target.kind != "file":
        with _open_stream(target) as stream:
            stream.write(data)
        return len(data)
    folder = _make_folder(target.path, path)
    mode = _final_mode(target.path)
    with _signals_held():
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.path.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise _folder_error(path, folder, exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(name, mode)
            os.replace(name, target.path)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            if isinstance(exc, OSError):
                raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
            raise
    return len(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> int:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _final_mode(target: Path) -> int:
    """Mode the output should get: the replaced file's, else what a plain `open()` would create."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
