"""What an importer yields for one feature, and the errors every importer shares."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import MAX_LAYERS

#: the largest feature index read from a source (JavaScript's safe integers: the viewer's limit)
MAX_INDEX = 2**53
#: characters of a bad value quoted in an error message
SHOWN_CHARS = 40


class SourceError(AttrgraphError):
    """A label source that cannot be read (corrupt, truncated, of no known shape); one line, exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=1)


@dataclass
class Imported:
    """One feature's entry from a source: a label and/or feature details, with provenance."""

    layer: int
    index: int
    label: str | None
    source: str  # the features schema's enum: neuronpedia, feature-details, clt-forge, table
    explainer: str | None = None
    details: dict[str, Any] | None = None
    density: float | None = None
    source_file: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.layer, self.index)


def clean_label(text: Any) -> str | None:
    """A label as stored: a string with collapsed whitespace, or None when empty."""
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())
    return text or None


def parse_int(value: Any, limit: int, *, signed: bool = False) -> int | None:
    """A layer or index read from a source: a JSON integer, or a string of ASCII digits (`"²"`, `"٣"` and
    5,000-digit strings are not numbers here), within ±`limit`; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if signed and text.startswith("-") else text
        if not (digits.isascii() and digits.isdigit() and len(digits) <= len(str(limit))):
            return None
        value = int(text)
    if not isinstance(value, int):
        return None
    return value if (-limit if signed else 0) <= value <= limit else None


def parse_layer(value: Any, signed: bool = False) -> int | None:
    return parse_int(value, MAX_LAYERS, signed=signed)


def parse_index(value: Any) -> int | None:
    return parse_int(value, MAX_INDEX)


def shown(value: Any) -> str:
    """A value from a source, quoted for a one-line message and clipped (a value nested too deeply for
    `repr` is named by its type)."""
    if nesting_depth(value, SHOWN_CHARS) > SHOWN_CHARS:
        from attrgraph_cli.jsontypes import json_type_phrase

        return f"{json_type_phrase(value)} nested over {SHOWN_CHARS} deep"
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def text_or(value: Any, default: str = "") -> str:
    """`value` when it is a string, else `default` (a source's free-text fields are never `str()`-ed: a
    1,000-deep list would overflow the recursion limit)."""
    return value if isinstance(value, str) else default


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply lists and dicts nest in `value` (0 for a scalar), counted without recursion and only up
    to `limit` + 1."""
    depth = 0
    level = [value]
    while level and depth <= limit:
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item)
        if not nxt and not any(isinstance(item, (dict, list)) for item in level):
            break
        depth += 1
        level = nxt
    return depth


def lines(text: str) -> Iterator[str]:
    """The lines of `text` (each with its line break), one at a time and without copying the whole text
    (`io.StringIO` holds 4 bytes a character; `splitlines()` one object per line at once)."""
    start = 0
    end_of_text = len(text)
    while start < end_of_text:
        end = text.find("\n", start)
        end = end_of_text if end < 0 else end + 1
        yield text[start:end]
        start = end
