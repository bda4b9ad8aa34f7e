"""Label sources, sniffed by content: which importer reads a path, and what it matched in the graph.

- a folder with `layer{L}/` subfolders: CLT-Forge autointerp output;
- a folder of `*.json` (or `{layer}/*.json`): feature-details files;
- a file (gzipped or not) holding a JSON array or JSON Lines of objects with layer/index/description:
  a Neuronpedia explanation export; one JSON object with `examples_quantiles`: a single feature-details file;
- any other text: a CSV / TSV table `layer,feature,label`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from attrgraph_cli.autointerp.import_clt_forge import layer_dirs, read_clt_forge
from attrgraph_cli.autointerp.import_details import from_details, is_details, read_details_folder
from attrgraph_cli.autointerp.import_neuronpedia import (
    choose_source_set,
    looks_like_explanation,
    read_explanations,
    source_sets,
)
from attrgraph_cli.autointerp.import_table import read_table
from attrgraph_cli.autointerp.imported import Imported, SourceError
from attrgraph_cli.io.bounded import read_bounded, source_budget


@dataclass
class SourceResult:
    """What one source gave: its format, how many entries it has, and which graph features it matched."""

    path: Path
    fmt: str
    entries: int
    matched: dict[tuple[int, int], Imported] = field(default_factory=dict)
    source_set: str | None = None
    #: every source set the file held, with its number of entries (explanation exports only)
    sets: dict[str, int] = field(default_factory=dict)

    def unmatched(self, keys: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [k for k in keys if k not in self.matched]


def read_source(
    path: Path,
    numbers: dict[tuple[int, int], int],
    *,
    source_set: str | None = None,
    graph_hint: str = "",
) -> SourceResult:
    """Read one label source; keep the entries of the graph's features (`numbers`: key -> feature number)."""
    if path.is_dir():
        if layer_dirs(path):
            entries, n = read_clt_forge(path, set(numbers))
            return _result(path, "clt-forge", n, entries, numbers)
        entries, n = read_details_folder(path, numbers)
        if n == 0:
            raise SourceError(
                f"{path}: the folder holds no feature files (*.json or layer<N>/feature_<i>.json)"
            )
        return _result(path, "feature-details", n, entries, numbers)
    text = _read_text(path)
    stripped = text.lstrip()
    name = str(path)
    if stripped.startswith(("[", "{")):
        records = _json_records(stripped, name)
        if len(records) == 1 and is_details(records[0]):
            return _single_details(path, records[0], numbers)
        sets = source_sets(records)
        chosen = choose_source_set(sets, source_set, graph_hint, name)
        entries = read_explanations(records, name, chosen)
        result = _result(path, "neuronpedia-explanations", len(records), entries, numbers)
        result.source_set = chosen
        result.sets = sets
        return result
    return _result(path, "table", _count_rows(text), read_table(text, name), numbers)


def _result(path: Path, fmt: str, n: int, entries: Any, numbers: dict[tuple[int, int], int]) -> SourceResult:
    result = SourceResult(path, fmt, n)
    for item in entries:
        if item.key in numbers:
            item.source_file = path.name
            result.matched[item.key] = item
    return result


def _single_details(path: Path, doc: dict[str, Any], numbers: dict[tuple[int, int], int]) -> SourceResult:
    by_number = {n: k for k, n in numbers.items()}
    index = doc.get("index")
    key = by_number.get(int(index)) if isinstance(index, (int, float)) and float(index).is_integer() else None
    result = SourceResult(path, "feature-details", 1)
    if key is not None:
        result.matched[key] = from_details(doc, key[0], key[1], "feature-details", str(path))
        result.matched[key].source_file = path.name
    return result


def _read_text(path: Path) -> str:
    """The source's text: a regular file within the source budget, gzip inflated in bounded chunks, UTF-8
    with a leading BOM dropped."""
    data = read_bounded(path, what="a label source", budget=source_budget(), error=SourceError, gunzip=True)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return text[1:] if text.startswith("\ufeff") else text


def _json_records(text: str, name: str) -> list[dict[str, Any]]:
    """A JSON array or a single object, else JSON Lines (one object a line)."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as whole_error:
        if text.startswith("["):
            raise SourceError(f"{name}: corrupt or truncated JSON ({whole_error})") from None
        doc = None
    if isinstance(doc, list):
        records = doc
    elif isinstance(doc, dict):
        records = [doc]
    else:
        records = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise SourceError(
                    f"{name}, line {lineno}: corrupt or truncated JSON Lines record ({exc})"
                ) from None
    bad = next((n for n, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise SourceError(f"{name}: record {bad} is not a JSON object")
    if records and not (is_details(records[0]) or looks_like_explanation(records[0])):
        raise SourceError(
            f"{name}: JSON of no known label shape (explanation objects need layer, index, description; "
            "feature details need examples_quantiles)"
        )
    return records


def _count_rows(text: str) -> int:
    rows = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    header = bool(rows) and not rows[0].replace("\t", ",").split(",")[0].strip().lstrip("-").isdigit()
    return len(rows) - header
