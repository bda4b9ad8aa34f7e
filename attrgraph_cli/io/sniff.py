"""Tell which attribution-graph format a file holds, by its content (the suffix is only a tie-breaker).

Formats: `neuronpedia-json`, `circuit-tracer-pt`, `clt-forge-pt`, `matrix-npz`, `matrix-pt`.
Sniffing a `.pt` file never unpickles it: the pickle's opcodes are scanned for the dictionary keys
that each layout uses, so a hostile file cannot run code here and torch is not imported.
"""

from __future__ import annotations

import errno
import os
import pickletools
import stat
import zipfile
from pathlib import Path

from attrgraph_cli.errors import GraphFormatError

NEURONPEDIA_JSON = "neuronpedia-json"
CIRCUIT_TRACER_PT = "circuit-tracer-pt"
CLT_FORGE_PT = "clt-forge-pt"
MATRIX_NPZ = "matrix-npz"
MATRIX_PT = "matrix-pt"
PDF_BUNDLE = "pdf-bundle"
SVG_BUNDLE = "svg-bundle"
FORMATS = (NEURONPEDIA_JSON, CIRCUIT_TRACER_PT, CLT_FORGE_PT, MATRIX_NPZ, MATRIX_PT, PDF_BUNDLE, SVG_BUNDLE)

#: How many bytes of memory loading one byte of file takes, per kind of file. JSON: measured peak RSS
#: rise of `load_graph` on a 300k-link graph JSON (22 MiB) is 8.5x the file (the parsed document's
#: dicts and strings dominate), so 9 keeps the estimate true.
_MEMORY_FACTOR = {"json": 9, "binary": 3}
_MAX_INPUT_ENV = "ATTRGRAPH_MAX_INPUT_MB"

_ZIP_MAGIC = b"PK\x03\x04"
#: how much of a torch file's data.pkl is scanned for its keys (the keys come first; tensors are apart)
_PICKLE_SNIFF_BYTES = 16 << 20
#: the largest `data.pkl` accepted at all (a graph's pickle is kilobytes: its tensors are stored apart)
_MAX_PICKLE_BYTES = 256 << 20
_PICKLE_PROTO = 0x80

_CLT_FORGE_KEYS = {"feature_indices", "sparse_pruned_adj"}
_CIRCUIT_TRACER_KEYS = {"active_features", "selected_features", "input_tokens", "adjacency_matrix"}
_MATRIX_KEYS = {"adjacency_matrix", "features"}


def regular_file_size(
    path: str | os.PathLike[str], error: type[Exception] = GraphFormatError, expected: str = "a graph file"
) -> int:
    """The size of the regular file at `path`, or `error` with one line saying what else it is.

    Devices, FIFOs and sockets are refused: their size says nothing (0 for `/dev/zero`) and a FIFO
    would block the read forever. `expected` names what the file was to be (in the message).
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        if os.path.islink(p):
            raise error(f"{p}: a broken symlink (what it points to does not exist)") from None
        raise error(f"{p}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{p}: a symlink loop (the link points back to itself)") from None
        raise error(f"{p}: cannot be read ({exc.strerror or exc})") from None
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise error(f"{p}: is a directory, expected {expected}")
    if not stat.S_ISREG(mode):
        what = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a character device"
            if stat.S_ISCHR(mode)
            else "a block device"
            if stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        if expected == "a graph file":
            raise error(f"{p}: is {what}, not a regular file; save the graph to a file first")
        raise error(f"{p}: is {what}, not a regular file ({expected} is read only from a regular file)")
    return st.st_size


def check_readable(path: str | os.PathLike[str], kind: str = "json") -> Path:
    """The path as a `Path` if it is a non-empty regular file small enough to load, else GraphFormatError."""
    p = Path(path)
    size = regular_file_size(p)
    try:
        with p.open("rb"):
            pass
    except OSError as exc:
        raise GraphFormatError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise GraphFormatError(f"{p}: the file is empty")
    limit = max_input_bytes(kind)
    if size > limit:
        raise GraphFormatError(
            f"{p}: the file is too large to load ({size / 2**20:,.0f} MiB; loading it needs about "
            f"{_MEMORY_FACTOR.get(kind, 3)}x that in memory and the limit here is {limit / 2**20:,.0f} MiB; "
            f"set {_MAX_INPUT_ENV} to change it)"
        )
    return p


def max_input_bytes(kind: str = "json") -> int:
    """Largest file we try to load: `ATTRGRAPH_MAX_INPUT_MB`, else available memory / memory factor."""
    configured = os.environ.get(_MAX_INPUT_ENV)
    if configured:
        try:
            limit = int(float(configured) * 2**20)
        except (ValueError, OverflowError):  # "abc", "nan"; "inf" and "1e400" overflow int()
            limit = -1
        if limit < 0:
            raise GraphFormatError(f"{_MAX_INPUT_ENV}={configured[:40]!r} is not a number of MiB (0 or more)")
        return limit
    return _available_memory() // _MEMORY_FACTOR.get(kind, 3)


def _available_memory() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def bundle_format(head: bytes) -> str | None:
    """`PDF_BUNDLE` or `SVG_BUNDLE` when a file's first bytes (4 kB is enough) say it is a PDF report or an
    SVG figure (which may carry an embedded graph), else None."""
    if head.startswith(b"%PDF-"):
        return PDF_BUNDLE
    stripped = head[:4096].lstrip(b" \t\r\n")
    if stripped.startswith(b"\xef\xbb\xbf"):
        stripped = stripped[3:].lstrip(b" \t\r\n")
    if stripped.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in head[:4096]:
        return SVG_BUNDLE
    return None


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of the graph file at `path` (one of `FORMATS`), or a GraphFormatError saying why not."""
    p = check_readable(path, kind="binary")
    with p.open("rb") as handle:
        head = handle.read(4096)
    stripped = head.lstrip(b" \t\r\n")
    if stripped.startswith(b"\xef\xbb\xbf"):
        stripped = stripped[3:].lstrip(b" \t\r\n")
    if head.startswith(_ZIP_MAGIC):
        return _zip_format(p)
    bundle = bundle_format(head)
    if bundle is not None:
        return bundle
    if head[0] == _PICKLE_PROTO:
        return _pt_format(p, _legacy_pickle_strings(p))
    if not stripped:
        raise GraphFormatError(f"{p}: the file holds only whitespace")
    first = stripped[:1]
    if first == b"{":
        return NEURONPEDIA_JSON
    if first == b"[":
        raise GraphFormatError(f"{p}: the JSON document is an array; a graph file is a JSON object")
    if first in b'"-0123456789tfn':
        raise GraphFormatError(f"{p}: the JSON document is not an object; a graph file is a JSON object")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            raise GraphFormatError(
                f"{p}: not a graph file (not UTF-8 text at byte {exc.start}, and not a .pt/.npz archive)"
            ) from None
    raise GraphFormatError(
        f"{p}: not a recognised graph file (expected Neuronpedia JSON, a circuit-tracer or CLT-Forge .pt, "
        "or a matrix .npz/.pt)"
    )


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_unpacked_size(path, infos)
            names = [info.filename for info in infos]
            pickles = [n for n in names if n.endswith("data.pkl")]
            for info in infos:
                if info.filename in pickles and info.file_size > _MAX_PICKLE_BYTES:
                    raise GraphFormatError(
                        f"{path}: {info.filename!r} unpacks to {info.file_size / 2**20:,.0f} MiB; a torch "
                        f"file's pickle holds no tensor data (those are stored apart) and is refused above "
                        f"{_MAX_PICKLE_BYTES >> 20} MiB"
                    )
            if pickles:
                with archive.open(pickles[0]) as handle:
                    strings = _pickle_strings(handle.read(_PICKLE_SNIFF_BYTES))
                return _pt_format(path, strings)
            if names and all(n.endswith(".npy") for n in names):
                keys = {n[: -len(".npy")] for n in names}
                missing = sorted(_MATRIX_KEYS - keys)
                if missing:
                    raise GraphFormatError(
                        f"{path}: a .npz archive without {', '.join(missing)}; a matrix graph needs "
                        "'adjacency_matrix' (N x N) and 'features' (F x 3)"
                    )
                _check_npy_shapes(path, archive, infos)
                return MATRIX_NPZ
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise GraphFormatError(f"{path}: a damaged or truncated archive ({exc})") from None
    raise GraphFormatError(f"{path}: a zip archive that is neither a torch .pt nor a numpy .npz file")


def _check_unpacked_size(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive whose members unpack to more than the memory budget (a compression bomb)."""
    total = sum(info.file_size for info in infos)
    budget = max_input_bytes("binary")
    if total > budget:
        largest = max(infos, key=lambda info: info.file_size)
        raise GraphFormatError(
            f"{path}: the archive unpacks to {total / 2**20:,.0f} MiB ({largest.filename!r} alone "
            f"{largest.file_size / 2**20:,.0f} MiB), more than the {budget / 2**20:,.0f} MiB that can be "
            f"loaded here; set {_MAX_INPUT_ENV} to change the limit"
        )


def _check_npy_shapes(path: Path, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Each array's declared shape and dtype (its .npy header) must fit the budget and its member size."""
    import numpy as np

    budget = max_input_bytes("binary")
    total = 0
    for info in infos:
        key = info.filename[: -len(".npy")]
        try:
            with archive.open(info) as handle:
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        except (ValueError, TypeError, SyntaxError, EOFError, OSError) as exc:
            raise GraphFormatError(f"{path}: {key}: not a valid .npy array header ({exc})") from None
        if dtype.hasobject:
            continue  # refused (never unpickled) with its own message when read
        count = 1
        for dim in shape:
            count *= int(dim)
        nbytes = count * dtype.itemsize
        total += nbytes
        if total > budget:
            raise GraphFormatError(
                f"{path}: {key} declares shape {tuple(shape)} of {dtype} ({nbytes / 2**20:,.0f} MiB), "
                f"more than the {budget / 2**20:,.0f} MiB that can be loaded here; set {_MAX_INPUT_ENV} "
                "to change the limit"
            )
        if nbytes > info.file_size:
            raise GraphFormatError(
                f"{path}: {key} declares shape {tuple(shape)} of {dtype} ({nbytes:,} bytes) but its "
                f"member holds only {info.file_size:,} bytes (a damaged .npz)"
            )


def _pt_format(path: Path, strings: set[str]) -> str:
    if _CLT_FORGE_KEYS <= strings:
        return CLT_FORGE_PT
    if _CIRCUIT_TRACER_KEYS <= strings:
        return CIRCUIT_TRACER_PT
    if _MATRIX_KEYS <= strings:
        return MATRIX_PT
    raise GraphFormatError(
        f"{path}: a torch file with an unknown layout (expected a circuit-tracer Graph, a CLT-Forge "
        "attribution graph, or a dict with 'adjacency_matrix' and 'features')"
    )


def _pickle_strings(data: bytes) -> set[str]:
    """String constants of a pickle stream, read from its opcodes without executing anything."""
    strings: set[str] = set()
    try:
        for opcode, arg, _ in pickletools.genops(data):
            if isinstance(arg, str) and opcode.name.endswith("UNICODE") and len(arg) < 64:
                strings.add(arg)
    except Exception:  # noqa: BLE001 - a truncated stream still told us what it had so far
        pass
    return strings


def _legacy_pickle_strings(path: Path) -> set[str]:
    """Strings of the first pickles of a legacy (non-zip) torch file: magic, version, sys info, object."""
    strings: set[str] = set()
    with path.open("rb") as handle:
        for _ in range(4):
            try:
                for opcode, arg, _pos in pickletools.genops(handle):
                    if isinstance(arg, str) and opcode.name.endswith("UNICODE") and len(arg) < 64:
                        strings.add(arg)
            except Exception:  # noqa: BLE001
                break
    return strings
