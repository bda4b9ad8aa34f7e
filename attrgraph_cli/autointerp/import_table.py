"""A plain CSV / TSV of `layer,feature,label` (a header row is optional)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from attrgraph_cli.autointerp.imported import Imported, SourceError, clean_label


def read_table(text: str, name: str) -> Iterator[Imported]:
    """Rows `layer, feature, label`; the delimiter is a tab when the first line has one, else a comma."""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for lineno, row in enumerate(reader, 1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 3:
            raise SourceError(f"{name}, line {lineno}: expected layer{delimiter}feature{delimiter}label")
        layer, feature = row[0].strip(), row[1].strip()
        if lineno == 1 and not _is_int(layer):
            continue  # header
        if not (_is_int(layer) and _is_int(feature)) or int(feature) < 0:
            raise SourceError(f"{name}, line {lineno}: layer and feature must be integers, got {row[:2]}")
        label = clean_label(delimiter.join(row[2:]))
        if label:
            yield Imported(int(layer), int(feature), label, "table", "table")


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()
