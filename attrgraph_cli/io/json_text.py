"""Read a file's bytes with a size limit, and parse JSON precisely when the fast decoder refused it.

Shared by `validate` (which reports every problem) and the graph reader (which explains in the same
words why a file is not JSON).

Non-standard tokens (`NaN`, `Infinity`, `-Infinity`, written by Python's `json` and many other writers)
are not JSON: browsers' `JSON.parse` and Neuronpedia reject them. They are parsed here as
`NonStandardNumber` floats so that validation can point at every one of them by path instead of
giving up on the whole file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.io import json_paths

#: files above this size are refused (override with --max-size); a graph JSON is ~90 bytes per link
DEFAULT_MAX_BYTES = 1 << 30


class UnreadableInput(AttrgraphError):
    """A file that cannot be validated at all: missing, too big, empty, not UTF-8, not JSON."""

    exit_code = 2


class NonStandardNumber(float):
    """A float parsed from a `NaN` / `Infinity` / `-Infinity` token; `token` keeps its spelling."""

    token: str

    def __new__(cls, token: str) -> NonStandardNumber:
        obj = super().__new__(cls, float(token.replace("Infinity", "inf")))
        obj.token = token
        return obj


def human_size(n: int) -> str:
    """Bytes in the units `--max-size` takes (powers of 1024: 1 GB = 2**30 bytes)."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The whole file, or `UnreadableInput` with one clear sentence.

    Only regular files are read (see `regular_file_size`), and never more than `max_bytes` + 1 bytes,
    so a file that grows while it is read cannot take more memory than the limit.
    """
    from attrgraph_cli.io.sniff import regular_file_size

    size = regular_file_size(path, UnreadableInput)
    if size > max_bytes:
        raise _too_large(path, size, max_bytes)
    try:
        with open(path, "rb") as handle:
            data = handle.read(min(size, max_bytes) + 1)  # read(n) reserves n bytes up front
    except IsADirectoryError:
        raise UnreadableInput(f"{path}: is a directory") from None
    except OSError as exc:
        raise UnreadableInput(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise _too_large(path, len(data), max_bytes)
    if not data.strip():
        raise UnreadableInput(f"{path}: file is empty" if not data else f"{path}: file holds only whitespace")
    return data


def _too_large(path: Path, size: int, max_bytes: int) -> UnreadableInput:
    return UnreadableInput(
        f"{path}: file is {human_size(size)}, above the {human_size(max_bytes)} limit "
        "(raise it with --max-size if you have the memory)"
    )


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text of `data` (a leading BOM is dropped), or `UnreadableInput` naming the bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnreadableInput(
            f"{name}: not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}) "
            "is not valid UTF-8; JSON files must be UTF-8"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _is_truncated(data: bytes) -> bool:
    """Whether the JSON text stops before its document is complete (msgspec tells truncation apart)."""
    import msgspec

    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        return "truncated" in str(exc)
    return False


def parse_precise(data: bytes, name: str) -> tuple[Any, int]:
    """Parse JSON with Python's parser; returns (document, number of NaN/Infinity tokens met)."""
    try:  # the usual case, fast: standard JSON
        return orjson.loads(data), 0
    except orjson.JSONDecodeError:
        pass  # NaN / Infinity / 1e999, or a real syntax error: Python's parser tells which, and where
    text = decode_text(data, name)
    seen = 0

    def constant(token: str) -> NonStandardNumber:
        nonlocal seen
        seen += 1
        return NonStandardNumber(token)

    try:
        return json.loads(text, parse_constant=constant), seen
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or _is_truncated(data):
            lines = text.rstrip().splitlines() or [""]
            raise UnreadableInput(
                f"{name}: truncated JSON: the text ends at line {len(lines)} column {len(lines[-1]) + 1} "
                "before the document is complete"
            ) from None
        raise UnreadableInput(
            f"{name}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise UnreadableInput(f"{name}: JSON nested too deeply to read") from None
    except ValueError as exc:  # Python's limit on integer digits (sys.get_int_max_str_digits)
        if "digits" in str(exc):
            raise UnreadableInput(
                f"{name}: a number in the JSON has more than {sys.get_int_max_str_digits()} digits"
            ) from None
        raise UnreadableInput(f"{name}: not valid JSON ({str(exc).splitlines()[0][:200]})") from None


def non_standard_numbers(doc: Any) -> Iterator[tuple[str, NonStandardNumber]]:
    """(path, value) of every NaN / Infinity token of a document from `parse_precise`, in document order."""
    stack: list[tuple[Any, str]] = [(doc, json_paths.ROOT)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, json_paths.key(path, k)) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, json_paths.index(path, i)) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, NonStandardNumber):
            yield path, value


def first_non_standard(doc: Any) -> tuple[str, str]:
    """(path, token) of the first NaN / Infinity token of a document from `parse_precise`."""
    for path, value in non_standard_numbers(doc):
        return path, value.token
    return json_paths.ROOT, "NaN"
