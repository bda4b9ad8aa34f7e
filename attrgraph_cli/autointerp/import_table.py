"""A plain CSV / TSV of `layer,feature,label` (a header row is optional)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from attrgraph_cli.autointerp.imported import (
    Imported,
    SourceError,
    clean_label,
    lines,
    parse_index,
    parse_layer,
    shown,
)
from attrgraph_cli.graph.model import MAX_LAYERS


def read_table(text: str, name: str) -> Iterator[Imported]:
    """Rows `layer, feature, label`; the delimiter is a tab when the first line has one, else a comma."""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else ","
    reader = csv.reader(lines(text), delimiter=delimiter)
    lineno = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over csv's limit (131,072 characters), a NUL byte, ...
            raise SourceError(f"{name}, line {reader.line_num}: not a readable CSV row ({exc})") from None
        lineno = reader.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 3:
            raise SourceError(f"{name}, line {lineno}: expected layer{delimiter}feature{delimiter}label")
        layer, feature = parse_layer(row[0], signed=True), parse_index(row[1])
        if layer is None and lineno == 1 and not _looks_numeric(row[0]):
            continue  # header
        if layer is None or feature is None:
            raise SourceError(
                f"{name}, line {lineno}: layer and feature must be integers (layer at most {MAX_LAYERS}, "
                f"feature 0 to 2**53), got {shown(row[0].strip())}, {shown(row[1].strip())}"
            )
        label = clean_label(delimiter.join(row[2:]))
        if label:
            yield Imported(layer, feature, label, "table", "table")


def _looks_numeric(text: str) -> bool:
    """Whether a first cell is meant as a number (any digits, any script), not a header word."""
    stripped = text.strip().lstrip("-")
    return bool(stripped) and any(c.isdigit() or c.isnumeric() for c in stripped)
