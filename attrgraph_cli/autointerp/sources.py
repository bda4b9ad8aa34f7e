"""Label sources, sniffed by content: which importer reads a path, and what it matched in the graph.

- a folder with `layer{L}/` subfolders: CLT-Forge autointerp output;
- a folder of `*.json` (or `{layer}/*.json`): feature-details files;
- a file (gzipped or not) holding a JSON array or JSON Lines of objects with layer/index/description:
  a Neuronpedia explanation export; one JSON object with `examples_quantiles`: a single feature-details file;
- any other text: a CSV / TSV table `layer,feature,label`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
    split_source,
)
from attrgraph_cli.autointerp.import_table import read_table
from attrgraph_cli.autointerp.imported import Imported, SourceError, lines, parse_index, shown
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
        del text
        scan = _scan_records(stripped, name, numbers)
        if scan.total == 1 and scan.details is not None:
            return _single_details(path, scan.details, numbers)
        chosen = choose_source_set(scan.sets, source_set, graph_hint, name)
        entries = read_explanations(scan.kept, name, chosen)
        result = _result(path, "neuronpedia-explanations", scan.total, entries, numbers)
        result.source_set = chosen
        result.sets = scan.sets
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


@dataclass
class _Scan:
    """One pass over an explanation export: every record checked, only the graph's features kept."""

    total: int = 0
    sets: dict[str, int] = field(default_factory=dict)
    kept: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] | None = None  # the first record, when it is a feature-details object


def _scan_records(text: str, name: str, numbers: dict[tuple[int, int], int]) -> _Scan:
    """Check every record of a JSON array, single object or JSON Lines text, count the source sets, and
    keep only the records of the graph's features (JSON Lines are parsed one line at a time, so memory
    follows the records kept, not the file)."""
    scan = _Scan()
    for n, record in enumerate(_records(text, name)):
        scan.total += 1
        if not isinstance(record, dict):
            raise SourceError(f"{name}: record {n} is not a JSON object")
        if n == 0 and is_details(record):
            scan.details = record
            continue
        if not looks_like_explanation(record):
            if n == 0:
                raise SourceError(
                    f"{name}: JSON of no known label shape (explanation objects need layer, index, "
                    "description; feature details need examples_quantiles)"
                )
            raise SourceError(f"{name}: record {n} is not an explanation (needs layer, index, description)")
        parsed = split_source(record.get("layer"))
        index = parse_index(record.get("index"))
        if parsed is None or index is None:
            raise SourceError(
                f"{name}: record {n} has layer {shown(record.get('layer'))}, "
                f"index {shown(record.get('index'))} (expected a layer such as 20 or '20-clt-hp' "
                "and an index 0 to 2**53)"
            )
        scan.sets[parsed[1]] = scan.sets.get(parsed[1], 0) + 1
        if (parsed[0], index) in numbers:
            scan.kept.append(record)
    if scan.details is not None and scan.total > 1:
        raise SourceError(f"{name}: record 0 is not an explanation (needs layer, index, description)")
    return scan


def _records(text: str, name: str) -> Iterator[Any]:
    """The records of a JSON array or a single object, else of JSON Lines (one object a line, read lazily).

    JSON Lines are told apart by their first line (a whole object, with more text after it) before any
    whole-text parse: orjson reserves ~12x its input up front, even for a text it refuses at byte 54.
    """
    if text.startswith("{") and _first_line_is_a_record(text):
        yield from _json_lines(text, name)
        return
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as whole_error:
        if text.startswith("["):
            raise SourceError(f"{name}: corrupt or truncated JSON ({whole_error})") from None
        doc = None
    if isinstance(doc, list):
        yield from doc
        return
    if isinstance(doc, dict):
        yield doc
        return
    yield from _json_lines(text, name)


_NON_SPACE = re.compile(r"\S")


def _first_line_is_a_record(text: str) -> bool:
    end = text.find("\n")
    if end < 0 or _NON_SPACE.search(text, end) is None:  # (a search, not a copy of the rest)
        return False
    try:
        return isinstance(orjson.loads(text[:end]), dict)
    except orjson.JSONDecodeError:
        return False


def _json_lines(text: str, name: str) -> Iterator[Any]:
    for lineno, line in enumerate(lines(text), 1):
        if not line.strip():
            continue
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise SourceError(
                f"{name}, line {lineno}: corrupt or truncated JSON Lines record ({exc})"
            ) from None


def _count_rows(text: str) -> int:
    """Data rows of a table (comments, blank lines and a header row not counted), read lazily."""
    count = 0
    header = False
    for line in lines(text):
        if line.strip() and not line.lstrip().startswith("#"):
            if count == 0 and not header:
                header = not line.replace("\t", ",").split(",")[0].strip().lstrip("-").isdigit()
                if header:
                    continue
            count += 1
    return count
