"""No output over an input: `-o` must not name a file the same run reads (issue 23).

`validate --format json -o G` where G is the validated graph used to replace the graph with the report;
`render g.json -o g.json` replaced it with a page. The check compares files, not spellings: symlinks are
followed and hard links count (`os.path.samefile`). One case is allowed: a graph-writing stage (autointerp,
cluster, intervene, convert) writing its graph input in place when that input is graph JSON, as the README
shows (`attrgraph cluster g.json -o g.json`); the write is atomic, so the old file stays whole until the new
one replaces it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from attrgraph_cli.io.atomic import OutputError, resolve_output


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether `a` and `b` are one existing file (symlinks followed, hard links included)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def refuse_overwrite(
    output: str | os.PathLike[str] | None,
    inputs: Iterable[tuple[str, str | os.PathLike[str] | None]],
    *,
    in_place: str | os.PathLike[str] | None = None,
    flag: str = "-o",
) -> None:
    """Raise `OutputError` when `output` is one of `inputs` ((role, path) pairs; None paths skipped).

    `in_place` is the one input that may be written over (a stage's graph JSON input)."""
    if output is None or str(output) == "-":
        return
    target = resolve_output(output)
    if target.kind != "file" or not target.path.exists():
        return
    for role, path in inputs:
        if path is None or str(path) == "-":
            continue
        if in_place is not None and same_file(path, in_place) and same_file(target.path, in_place):
            continue
        if same_file(target.path, path):
            raise OutputError(
                f"{flag} {output} is the {role} this run reads ({Path(path)}): refusing to write over an "
                "input; give another file"
            )
