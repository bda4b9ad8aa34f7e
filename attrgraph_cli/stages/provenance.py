"""One provenance record per stage run, in one shape for every stage (schema: history.schema.json)."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import os
from pathlib import Path
from typing import Any, TypedDict

from attrgraph_cli import __version__
from attrgraph_cli.safetext import no_surrogates

#: inputs larger than this are not hashed (the record says so with a null digest)
HASH_LIMIT_BYTES = 4 << 30


class InputRecord(TypedDict, total=False):
    name: str
    role: str
    format: str
    bytes: int
    sha256: str | None


def file_digest(path: Path) -> str | None:
    """SHA-256 of a regular file (None for devices, FIFOs, folders and files over `HASH_LIMIT_BYTES`)."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not path.is_file() or st.st_size > HASH_LIMIT_BYTES:
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_record(path: str | os.PathLike[str], role: str, fmt: str | None = None) -> InputRecord:
    """Describe one input of a stage: its file name (not the full path: files travel), size and digest."""
    p = Path(path)
    record: InputRecord = {"name": _name(p), "role": role}
    if fmt:
        record["format"] = fmt
    if p.is_dir():
        record["sha256"] = None
        return record
    try:
        record["bytes"] = p.stat().st_size
    except OSError:
        pass
    record["sha256"] = file_digest(p)
    return record


def _name(path: Path) -> str:
    """The file name as JSON can hold it: bytes that are not UTF-8 (lone surrogates here) become U+FFFD."""
    return str(no_surrogates(path.name))


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def stage_record(
    stage: str,
    settings: dict[str, Any],
    inputs: list[InputRecord],
    started: str,
    duration_s: float,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The history record of one stage run."""
    record: dict[str, Any] = {
        "stage": stage,
        "attrgraph_version": __version__,
        "settings": settings,
        "inputs": list(inputs),
        "started": started,
        "duration_s": round(max(float(duration_s), 0.0), 4),
    }
    if details:
        record["details"] = details
    return record


#: a dataclass field with this metadata is not recorded (a progress switch, a cache folder, a secret's name)
NOT_RECORDED = {"record": False}


def record_settings(options: Any) -> dict[str, Any]:
    """The settings a history record keeps, read off the stage's options dataclass, where they are
    declared once: field -> value, a path as its file name (files travel), a tuple as a list, a nested
    options dataclass as a dict. A field's `metadata["record"]` may be False (`NOT_RECORDED`: left out)
    or a function giving what is recorded instead of the value (a model name, not its endpoint)."""
    settings: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        how = f.metadata.get("record", True)
        if how is False:
            continue
        value = getattr(options, f.name)
        settings[f.name] = how(value) if callable(how) else _record_value(value)
    return settings


def _record_value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return record_settings(value)
    if isinstance(value, os.PathLike):
        return _name(Path(value))
    if isinstance(value, (list, tuple)):
        return [_record_value(v) for v in value]
    return value
