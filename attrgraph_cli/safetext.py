"""One sanitiser for every string that came from a file, a model or a server and is printed.

A graph's supernode name, a PDF's attachment name or a file name can hold a newline (which would start a
forged `::error …::` GitHub workflow command on its own line), a carriage return (which overwrites what a
terminal shows), ESC / OSC / CSI sequences (which drive the terminal), C1 controls, or bidirectional
overrides (which reorder what a reader sees). `printable` escapes all of them into visible `\\xNN` /
`\\uNNNN` text; `markup` also escapes rich markup (`[bold]`); `json_bytes` does the same for JSON bound for
a terminal without changing what the JSON means.
"""

from __future__ import annotations

import re

#: bidirectional formatting characters (the "Trojan Source" set) and other invisible line breakers
_FORMAT = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: C0 and C1 controls and DEL (Unicode category Cc), lone surrogates, and `_FORMAT`
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(_FORMAT)) + "]")
_LEADING_COMMAND = re.compile(r"^(\s*):(?=:)")


def printable(text: object) -> str:
    """`text` (any object: str() is taken) with every control, bidi override and line break escaped, and a
    leading `::` (a workflow command once at the start of a line) broken as `\\x3a:`. Lone surrogates (a file
    name that is not UTF-8) become `\\udcNN` text. Plain text comes back unchanged."""
    s = text if isinstance(text, str) else str(text)
    if _UNSAFE_RE.search(s):
        s = _UNSAFE_RE.sub(lambda m: _escape_char(m.group()), s)
    return _LEADING_COMMAND.sub(r"\1\\x3a", s)


def markup(text: object) -> str:
    """`printable(text)` with rich markup escaped, for an f-string that rich prints with markup on."""
    from rich.markup import escape

    return escape(printable(text))


#: UTF-8 of C1 controls, U+2028/9 and the bidi overrides: these appear raw in JSON written with
#: ensure_ascii off (orjson, json.dumps(ensure_ascii=False)); C0 controls are always escaped by JSON
_JSON_UNSAFE = re.compile(
    b"|".join(re.escape(ch.encode()) for ch in [*map(chr, range(0x7F, 0xA0)), *sorted(_FORMAT)])
)


def json_bytes(data: bytes) -> bytes:
    """JSON text with C1 controls, line separators and bidi overrides written as `\\uNNNN` escapes: the
    same JSON value, safe to show on a terminal or in a CI log. (Outside strings JSON holds only ASCII.)"""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group().decode()):04x}".encode(), data)


def json_text(text: str) -> str:
    """`json_bytes` for a `str`."""
    return json_bytes(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")


def no_surrogates(data: object) -> object:
    """`data` (JSON-like: dicts, lists, strings) with each lone surrogate in a string or key replaced by
    U+FFFD, so a report naming a file whose name is not UTF-8 (Python hands it over as lone surrogates) can be
    written as JSON. Strings without one come back as they are."""
    if isinstance(data, str):
        return _SURROGATE.sub("\ufffd", data) if _SURROGATE.search(data) else data
    if isinstance(data, dict):
        return {no_surrogates(k): no_surrogates(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [no_surrogates(v) for v in data]
    return data


_SURROGATE = re.compile("[\ud800-\udfff]")
