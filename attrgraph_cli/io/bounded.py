"""Read an auxiliary file (a label source, a plan, a batch, a frequency file) within a size budget.

The main graph input's guard (`io.sniff.regular_file_size`: regular files only, so `/dev/zero`, a FIFO or
a directory is one line at once) is reused here, then the file's size is checked against the budget
*before* anything is read (a sparse 3 GiB file costs nothing), at most budget + 1 bytes are read (a file
that grows while it is read), and a gzip file is inflated in chunks, its *inflated* size counted against
the same budget, so a 1 MB `.gz` that inflates to 2 GB stops as soon as the budget is passed.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path

from attrgraph_cli.errors import AttrgraphError

GZIP_MAGIC = b"\x1f\x8b"
#: bytes inflated per step while streaming a gzip file
CHUNK = 1 << 20
#: a plan (`intervene --plan`) or a batch (`trace --batch`) file is at most this large
MAX_SMALL_FILE_BYTES = 16 << 20
#: a label source (or one file of a source folder), inflated, is at most this large unless
#: `ATTRGRAPH_MAX_INPUT_MB` says otherwise (a whole model's explanation export is a few hundred MB)
MAX_SOURCE_BYTES = 1 << 30


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n < 2**30 else f"{n / 2**30:,.2f} GiB"


def source_budget() -> int:
    """The budget of a label source: `ATTRGRAPH_MAX_INPUT_MB` when set, else the smaller of
    `MAX_SOURCE_BYTES` and the JSON input limit (available memory / 9: parsing JSON takes ~9x its size)."""
    from attrgraph_cli.io.sniff import _MAX_INPUT_ENV, max_input_bytes

    if os.environ.get(_MAX_INPUT_ENV):
        return max_input_bytes("json")
    return min(MAX_SOURCE_BYTES, max_input_bytes("json"))


def small_file_budget() -> int:
    """The budget of a plan or a batch file: `MAX_SMALL_FILE_BYTES`, or less when the input limit is."""
    from attrgraph_cli.io.sniff import max_input_bytes

    return min(MAX_SMALL_FILE_BYTES, max_input_bytes("json"))


def read_bounded(
    path: str | os.PathLike[str],
    *,
    what: str,
    budget: int,
    error: type[AttrgraphError],
    gunzip: bool = False,
) -> bytes:
    """The bytes of the regular file at `path` (inflated when `gunzip` and it is gzip), never more than
    `budget`; else `error` with one line naming the file and `what` it was read as."""
    from attrgraph_cli.io.sniff import regular_file_size

    p = Path(path)
    size = regular_file_size(p, error, expected=what)
    fixed = budget == MAX_SMALL_FILE_BYTES
    hint = "a fixed limit: split the file" if fixed else "set ATTRGRAPH_MAX_INPUT_MB to allow more"
    if size > budget:
        raise error(f"{p}: {_mib(size)}, over the {_mib(budget)} limit for {what} ({hint})")
    try:
        with open(p, "rb") as handle:
            head = handle.read(2)
            if gunzip and head == GZIP_MAGIC:
                handle.seek(0)
                return _gunzip(p, handle, what, budget, hint, error)
            data = head + handle.read(max(0, min(size, budget) + 1 - len(head)))
    except OSError as exc:
        raise error(f"{p}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > budget:
        raise error(f"{p}: grew past the {_mib(budget)} limit for {what} while it was read")
    return data


def _gunzip(p: Path, handle, what: str, budget: int, hint: str, error: type[AttrgraphError]) -> bytes:
    out = io.BytesIO()  # getvalue() hands over its buffer: no second copy of up to `budget` bytes
    total = 0
    try:
        with gzip.GzipFile(fileobj=handle, mode="rb") as inflater:
            while True:
                chunk = inflater.read(CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > budget:
                    raise error(
                        f"{p}: inflates to more than the {_mib(budget)} limit for {what} "
                        f"(a compression bomb, or {hint})"
                    )
                out.write(chunk)
    except (EOFError, OSError, zlib.error) as exc:
        raise error(f"{p}: corrupt or truncated gzip ({exc})") from None
    return out.getvalue()
