"""Turn command-line paths into files and validate each: JSON directly, other formats through `load_graph`."""

from __future__ import annotations

import glob
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.io.json_text import DEFAULT_MAX_BYTES, UnreadableInput, read_bytes
from attrgraph_cli.io.sniff import PDF_BUNDLE, bundle_format
from attrgraph_cli.validate.engine import DocumentResult, validate_bytes
from attrgraph_cli.validate.positions import Position, locate
from attrgraph_cli.validate.problems import DEFAULT_MAX_PER_RULE, Problem, ProblemSink

Status = Literal["valid", "invalid", "unreadable"]
#: what a directory is searched for (recursively): graph JSON and feature-details JSON files
DIRECTORY_PATTERN = "*.json"
_GLOB_CHARS = set("*?[")


@dataclass(eq=False)
class FileReport:
    """The verdict on one input file."""

    path: str
    status: Status
    kind: str = ""
    result: DocumentResult | None = None
    error: str | None = None  # why the file is unreadable
    seconds: float = 0.0
    strict: bool = False
    #: problem path -> (line, column) of its value in the file (JSON files with problems only)
    positions: dict[str, Position] = field(default_factory=dict)

    def position(self, problem: Problem) -> Position | None:
        return self.positions.get(problem.path)

    @property
    def sink(self) -> ProblemSink:
        return self.result.sink if self.result else ProblemSink()


@dataclass
class Options:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_per_rule: int | None = DEFAULT_MAX_PER_RULE
    strict: bool = False
    trust_pickle: bool = False
    positions: bool = True  # line/column of each kept problem (JSON files only)
    seen: set = field(default_factory=set)


def expand_paths(args: list[str]) -> list[Path | FileReport]:
    """Files named by `args` (files, directories searched recursively for *.json, globs), in order, once each.

    A path that does not exist, a glob that matches nothing or a directory without any JSON file becomes
    an "unreadable" `FileReport` in its place, so that the other arguments are still validated.
    """
    items: list[Path | FileReport] = []
    for arg in args:
        try:
            items.extend(_expand_one(arg))
        except UnreadableInput as exc:
            items.append(FileReport(arg, "unreadable", error=str(exc)))
    unique: dict[Path | FileReport, None] = {}
    for item in items:
        unique.setdefault(item, None)
    return list(unique)


def _expand_one(arg: str) -> list[Path]:
    """The files one argument names; `UnreadableInput` when it names none."""
    path = Path(arg)
    if path.is_dir():
        found = sorted(p for p in path.rglob(DIRECTORY_PATTERN) if p.is_file())
        if not found:
            raise UnreadableInput(
                f"{arg}: directory holds no graph or feature-details files ({DIRECTORY_PATTERN})"
            )
        return found
    if path.exists() or path.is_symlink():  # a broken link or a loop is reported by read_bytes
        return [path]
    if _GLOB_CHARS & set(arg):
        matches = sorted(Path(m) for m in glob.glob(arg, recursive=True))
        files = [m for m in matches if m.is_file()]
        files += [p for m in matches if m.is_dir() for p in sorted(m.rglob(DIRECTORY_PATTERN)) if p.is_file()]
        if not files:
            raise UnreadableInput(f"{arg}: no file matches this pattern")
        return files
    raise UnreadableInput(f"{arg}: no such file or directory")


def _is_json(path: Path, data: bytes) -> bool:
    if path.suffix.lower() == ".json":
        return True
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[")


def _validate_other_format(path: Path, options: Options) -> DocumentResult:
    """A .pt / .npz graph: read it with `load_graph`, validate the graph JSON it becomes."""
    from attrgraph_cli.io import load_graph
    from attrgraph_cli.io.neuronpedia_json import graph_to_document
    from attrgraph_cli.validate.engine import _check_document

    graph = load_graph(path, trust_pickle=options.trust_pickle)
    sink = ProblemSink(options.max_per_rule)
    return _check_document(graph_to_document(graph), "graph", str(path), sink)


def _validate_bundle(path: Path, bundle: str, options: Options) -> DocumentResult:
    """A PDF report or SVG figure that carries its graph: validate the embedded JSON as it is."""
    if bundle == PDF_BUNDLE:
        from attrgraph_cli.io.pdf_bundle import graph_json_from_pdf

        member, inner = graph_json_from_pdf(path)
    else:
        from attrgraph_cli.io.svg_bundle import graph_json_from_svg

        member, inner = "graph.json", graph_json_from_svg(path)
    return validate_bytes(inner, f"{path}!{member}", max_per_rule=options.max_per_rule)


def validate_file(path: Path, options: Options) -> FileReport:
    """Validate one file; never raises for bad input (it becomes an "unreadable" report)."""
    start = time.perf_counter()
    name = str(path)
    positions: dict[str, Position] = {}
    try:
        data = read_bytes(path, options.max_bytes)
        bundle = bundle_format(data[:4096])
        if bundle is not None:
            result = _validate_bundle(path, bundle, options)
        elif _is_json(path, data):
            result = validate_bytes(data, name, max_per_rule=options.max_per_rule)
            if options.positions and result.sink.problems:
                positions = locate(data, [p.path for p in result.sink.problems])
        else:
            del data
            result = _validate_other_format(path, options)
    except AttrgraphError as exc:
        message = str(exc)
        if not message.startswith(name):
            message = f"{name}: {message}"
        return FileReport(name, "unreadable", error=message, seconds=time.perf_counter() - start)
    except MemoryError:
        return FileReport(
            name,
            "unreadable",
            error=f"{name}: out of memory while reading it",
            seconds=time.perf_counter() - start,
        )
    sink = result.sink
    failed = sink.n_errors > 0 or (options.strict and sink.n_warnings > 0)
    return FileReport(
        name,
        "invalid" if failed else "valid",
        kind=result.kind,
        result=result,
        seconds=time.perf_counter() - start,
        strict=options.strict,
        positions=positions,
    )


def exit_code(reports: list[FileReport]) -> int:
    """2 when any file was unreadable, else 1 when any is invalid, else 0."""
    statuses = {r.status for r in reports}
    if "unreadable" in statuses:
        return 2
    return 1 if "invalid" in statuses else 0


__all__ = ["FileReport", "Options", "UnreadableInput", "expand_paths", "exit_code", "validate_file"]
