"""Text widths in the shipped DejaVu Sans, so figure labels can be placed without overlaps.

Reads the advance widths straight from the TrueType tables (`head`, `hhea`, `hmtx`, `cmap` format 4)
of `templates/fonts/DejaVuSans*.ttf` -- no font library needed in the light core. Kerning is ignored
(it only ever makes DejaVu text narrower). Characters the font lacks get the width of "M", or 1 em
when East Asian wide (over-estimating is the safe side for overlap checks).
"""

from __future__ import annotations

import struct
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np

from attrgraph_cli.resources import resource_path

REGULAR_FONT = "DejaVuSans.ttf"
BOLD_FONT = "DejaVuSans-Bold.ttf"
#: the font files' own metrics (units per em = 2048): ascender and descender as a share of the em size
ASCENT = 0.928
DESCENT = 0.236


def font_path(bold: bool = False) -> Path:
    """Path of the shipped regular or bold DejaVu Sans."""
    return resource_path("templates", "fonts", BOLD_FONT if bold else REGULAR_FONT)


def _tables(data: bytes) -> dict[bytes, tuple[int, int]]:
    (num_tables,) = struct.unpack_from(">H", data, 4)
    tables = {}
    for i in range(num_tables):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        tables[tag] = (offset, length)
    return tables


def _cmap_format4(data: bytes, cmap_offset: int) -> dict[int, int]:
    """Code point -> glyph id from the Unicode BMP subtable (platform 3 encoding 1, or platform 0)."""
    (n_sub,) = struct.unpack_from(">H", data, cmap_offset + 2)
    chosen = None
    for i in range(n_sub):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        sub = cmap_offset + offset
        (fmt,) = struct.unpack_from(">H", data, sub)
        if fmt == 4 and (platform, encoding) in ((3, 1), (0, 3), (0, 4), (0, 1)):
            chosen = sub
            if platform == 3:
                break
    if chosen is None:
        return {}
    (seg_x2,) = struct.unpack_from(">H", data, chosen + 6)
    n = seg_x2 // 2
    base = chosen + 14
    ends = struct.unpack_from(f">{n}H", data, base)
    starts = struct.unpack_from(f">{n}H", data, base + seg_x2 + 2)
    deltas = struct.unpack_from(f">{n}h", data, base + 2 * seg_x2 + 2)
    range_base = base + 3 * seg_x2 + 2
    offsets = struct.unpack_from(f">{n}H", data, range_base)
    mapping: dict[int, int] = {}
    for i in range(n):
        for code in range(starts[i], ends[i] + 1):
            if code == 0xFFFF:
                continue
            if offsets[i] == 0:
                glyph = (code + deltas[i]) & 0xFFFF
            else:
                at = range_base + 2 * i + offsets[i] + 2 * (code - starts[i])
                (glyph,) = struct.unpack_from(">H", data, at)
                if glyph:
                    glyph = (glyph + deltas[i]) & 0xFFFF
            if glyph:
                mapping[code] = glyph
    return mapping


@cache
def _advances(bold: bool) -> tuple[dict[int, float], float]:
    """Advance width of every mapped code point in em units, and the fallback width (that of "M")."""
    data = font_path(bold).read_bytes()
    tables = _tables(data)
    (units_per_em,) = struct.unpack_from(">H", data, tables[b"head"][0] + 18)
    (n_metrics,) = struct.unpack_from(">H", data, tables[b"hhea"][0] + 34)
    hmtx = np.frombuffer(data, dtype=">u2", count=2 * n_metrics, offset=tables[b"hmtx"][0])[0::2]
    widths = hmtx.astype(np.float64) / units_per_em
    cmap = _cmap_format4(data, tables[b"cmap"][0])
    advance = {code: float(widths[min(glyph, n_metrics - 1)]) for code, glyph in cmap.items()}
    return advance, advance.get(ord("M"), 0.9)


def _missing_width(ch: str, fallback: float) -> float:
    """Width assumed for a character DejaVu lacks (drawn in a fallback font): 1 em if East Asian wide."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else fallback


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of `text` set in DejaVu Sans at `size` (same unit as `size`)."""
    advance, fallback = _advances(bold)
    total = 0.0
    for ch in text:
        width = advance.get(ord(ch))
        total += width if width is not None else _missing_width(ch, fallback)
    return size * total


def truncate(text: str, max_width: float, size: float, bold: bool = False) -> str:
    """`text` cut (with an ellipsis) so that it is at most `max_width` wide."""
    if text_width(text, size, bold) <= max_width:
        return text
    advance, fallback = _advances(bold)
    budget = max_width / size - advance.get(ord("\u2026"), fallback)
    used = 0.0
    for i, ch in enumerate(text):
        width = advance.get(ord(ch))
        used += width if width is not None else _missing_width(ch, fallback)
        if used > budget:
            return text[:i].rstrip() + "\u2026"
    return text
