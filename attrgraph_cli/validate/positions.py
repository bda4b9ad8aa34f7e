"""Line and column of the value a problem path names (`links[4012].target` -> line 80231, column 17).

Computed only for the few problems a report keeps, never for a valid file. The walk follows the path
with msgspec, decoding each container on the way as `dict[str, Raw]` / `list[Raw]`: `Raw` values are
zero-copy views into the file's bytes, so a value's byte offset is its address minus the buffer's, and
skipping a million links happens in C. Containers are decoded once per report (20 problems in `links`
cost one pass over it). A path whose last step does not exist (a missing required field) points at the
deepest value that does (the object that lacks the field).

Lines count `\\n`; columns are 1-based Unicode code points (SARIF `columnKind: unicodeCodePoints`); a
leading byte-order mark is not a column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import NamedTuple

import msgspec
import numpy as np

_BOM = b"\xef\xbb\xbf"
_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
# NaN / Infinity tokens, replaced by JSON numbers of the same length so that offsets stay put
_NON_STANDARD = re.compile(rb'(?<![A-Za-z0-9_"])(-Infinity|Infinity|NaN)(?![A-Za-z0-9_"])')
_SAME_LENGTH = {b"NaN": b"0.0", b"Infinity": b"1.000000", b"-Infinity": b"-1.000000"}
# \uD800-\uDFFF escapes: Python's json reads lone ones, msgspec does not; a space keeps the length
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_WHITESPACE = b" \t\r\n"
_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])

Step = str | int


class Position(NamedTuple):
    line: int
    column: int


def parse_path(path: str) -> list[Step] | None:
    """`links[3].target` -> ["links", 3, "target"]; `$` -> []; None when it is not a path we write."""
    text = path[1:] if path.startswith("$") else path
    steps: list[Step] = []
    at = 0
    while at < len(text):
        match = _STEP.match(text, at)
        if match is None or (match.group(1) and at > 0 and text[at] != "."):
            return None
        name, number, quoted = match.groups()
        if name is not None:
            steps.append(name)
        elif number is not None:
            steps.append(int(number))
        else:
            try:
                steps.append(json.loads(quoted))
            except ValueError:
                return None
        at = match.end()
    return steps


class Locator:
    """Byte offsets of the values at problem paths in one JSON text."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._buffer = data
        self._base = np.frombuffer(data, dtype=np.uint8).ctypes.data if data else 0
        self._containers: dict[int, dict | list | None] = {}
        self._sanitized = False

    def _sanitize(self) -> bool:
        """Swap NaN / Infinity tokens, surrogate escapes and a BOM for same-length JSON, once; False when
        nothing changed."""
        if self._sanitized:
            return False
        self._sanitized = True
        text = self.data
        if text.startswith(_BOM):
            text = b"   " + text[3:]
        text = _NON_STANDARD.sub(lambda m: _SAME_LENGTH[m.group(1)], text)
        text = _SURROGATE.sub(rb"\\u0020", text)
        if text == self.data:
            return False
        self._buffer = text
        self._base = np.frombuffer(text, dtype=np.uint8).ctypes.data
        self._containers.clear()
        return True

    def _start(self, at: int, end: int) -> int:
        while at < end and self._buffer[at] in _WHITESPACE:
            at += 1
        return at

    def _span(self, raw: msgspec.Raw) -> tuple[int, int]:
        view = memoryview(raw)
        start = np.frombuffer(view, dtype=np.uint8).ctypes.data - self._base
        return start, start + len(view)

    def _children(self, start: int, end: int) -> dict | list | None:
        """The members of the container at `start` as Raw views, or None for a scalar / bad JSON."""
        if start in self._containers:
            return self._containers[start]
        first = self._buffer[start : start + 1]
        decoder = _OBJECT if first == b"{" else _ARRAY if first == b"[" else None
        children = None
        if decoder is not None:
            try:
                children = decoder.decode(memoryview(self._buffer)[start:end])
            except (msgspec.DecodeError, UnicodeDecodeError):
                children = None
        self._containers[start] = children
        return children

    def offset(self, path: str) -> int | None:
        """Byte offset of the value at `path` (or of its deepest existing ancestor); None if unknown."""
        steps = parse_path(path)
        if steps is None or not self.data:
            return None
        while True:
            found = self._walk(steps)
            if found is not None or not self._sanitize():
                return found

    def _walk(self, steps: list[Step]) -> int | None:
        start, end = self._start(0, len(self._buffer)), len(self._buffer)
        if steps and self._children(start, end) is None:
            return None  # the document itself does not decode
        for step in steps:
            children = self._children(start, end)
            if isinstance(children, dict) and isinstance(step, str) and step in children:
                start, end = self._span(children[step])
            elif isinstance(children, list) and isinstance(step, int) and step < len(children):
                start, end = self._span(children[step])
            else:
                break
        return start


def line_columns(data: bytes, offsets: Iterable[int]) -> dict[int, Position]:
    """Line and column of each byte offset, in one pass over the text up to the last offset."""
    wanted = sorted(set(offsets))
    if not wanted:
        return {}
    array = None if data.isascii() else np.frombuffer(data, dtype=np.uint8)
    bom = 1 if data.startswith(_BOM) else 0
    result: dict[int, Position] = {}
    line, line_start, previous, continuation = 1, 0, 0, 0
    for offset in wanted:
        newlines = data.count(b"\n", previous, offset)
        if newlines:
            line += newlines
            line_start = data.rfind(b"\n", previous, offset) + 1
            previous, continuation = line_start, 0
        # UTF-8 continuation bytes (10xxxxxx) are not characters of their own
        if array is not None and offset > previous:
            continuation += int(np.count_nonzero((array[previous:offset] & 0xC0) == 0x80))
        column = offset - line_start - continuation + 1 - (bom if line == 1 else 0)
        result[offset] = Position(line, column)
        previous = offset
    return result


def locate(data: bytes, paths: Iterable[str]) -> dict[str, Position]:
    """Positions of the values at `paths` in the JSON text `data` (paths that cannot be placed: left out)."""
    locator = Locator(data)
    offsets = {path: locator.offset(path) for path in dict.fromkeys(paths)}
    found = line_columns(data, (o for o in offsets.values() if o is not None))
    return {path: found[o] for path, o in offsets.items() if o is not None}
