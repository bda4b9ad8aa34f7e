"""Checks of the `attrgraph` extension (schemas in `schemas/extension/`, one per part).

A malformed part is an error with its path and rule (`extension.<part>`); an unknown part is a
warning (a newer attrgraph may have written it); cross-references into the graph (feature keys that
disagree with their layer/index, supernode metadata for a supernode that does not exist, intervention
specs naming nodes that are not in the graph) are checked semantically.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from attrgraph_cli.extension import PARTS
from attrgraph_cli.io import json_paths as paths
from attrgraph_cli.jsontypes import json_type_name
from attrgraph_cli.resources import resource_path
from attrgraph_cli.validate.columns import _UNSET
from attrgraph_cli.validate.context import GraphContext
from attrgraph_cli.validate.problems import Problem

ROOT = "attrgraph"
#: longest message text taken from a schema error (jsonschema quotes whole instances)
MAX_MESSAGE = 200


@cache
def part_validator(part: str) -> Any:
    """A compiled draft-07 validator for one part's schema."""
    from jsonschema import Draft7Validator

    schema = orjson.loads(resource_path("schemas", "extension", PARTS[part]).read_bytes())
    return Draft7Validator(schema)


def _path(base: str, steps: Any) -> str:
    path = base
    for step in steps:
        path = paths.index(path, step) if isinstance(step, int) else paths.key(path, str(step))
    return path


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def check_extension(ctx: GraphContext) -> None:
    ext = ctx.cols.extension
    if ext is _UNSET:
        return
    if not isinstance(ext, dict):
        ctx.sink.add(
            "extension.type",
            ROOT,
            f"the attrgraph extension is a JSON {json_type_name(ext)}",
            "a JSON object of parts (history, features, supernodes, interventions)",
        )
        return
    for name, value in ext.items():
        base = paths.key(ROOT, name)
        if name == "version":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                ctx.sink.add("extension.version", base, f"version is {value!r}", "a positive integer")
            continue
        if name not in PARTS:
            ctx.sink.add(
                "extension.unknown-part",
                base,
                f"unknown attrgraph extension part {name!r} (kept, not checked)",
                "one of " + ", ".join(PARTS),
                severity="warning",
            )
            continue
        rule = f"extension.{name}"
        errors = sorted(
            part_validator(name).iter_errors(value), key=lambda e: list(map(str, e.absolute_path))
        )
        if errors:
            kept = [
                Problem(_path(base, e.absolute_path), _short(e.message), _expected(e), "error", rule)
                for e in errors[: ctx.sink.room(rule)]
            ]
            ctx.sink.add_many(rule, len(errors), kept)
        else:
            SEMANTIC.get(name, lambda *_: None)(ctx, value, base)


def _expected(error: Any) -> str | None:
    validator = error.validator
    if validator == "required":
        return "the required fields " + ", ".join(map(str, error.validator_value))
    if validator == "type":
        kinds = error.validator_value
        return "a JSON " + (" or ".join(kinds) if isinstance(kinds, list) else str(kinds))
    if validator == "enum":
        return "one of " + ", ".join(map(str, error.validator_value))
    return None


def _check_features(ctx: GraphContext, features: dict, base: str) -> None:
    for key, entry in features.items():
        expected = f"{entry['layer']}_{entry['index']}"
        if key != expected:
            ctx.sink.add(
                "extension.features-key",
                paths.key(base, key),
                f"the entry is keyed {key!r} but describes layer {entry['layer']} feature {entry['index']}",
                f"the key {expected!r}",
            )


def _check_supernodes(ctx: GraphContext, record: dict, base: str) -> None:
    entries = ctx.cols.qparams.get("supernodes")
    entries = entries if isinstance(entries, list) else []  # its own schema error says what is wrong
    names = {s[0] for s in entries if isinstance(s, list) and s and isinstance(s[0], str)}
    for i, group in enumerate(record.get("groups", [])):
        if group["name"] not in names:
            ctx.sink.add(
                "extension.supernodes-unknown",
                paths.key(paths.index(paths.key(base, "groups"), i), "name"),
                f"metadata for supernode {group['name']!r}, which qParams.supernodes does not have",
                "a name of qParams.supernodes",
                severity="warning",
            )


def _check_interventions(ctx: GraphContext, records: list, base: str) -> None:
    known = ctx.index
    for i, record in enumerate(records):
        for j, spec in enumerate(record.get("spec", [])):
            for k, node_id in enumerate(spec.get("nodes", [])):
                if node_id not in known:
                    ctx.sink.add(
                        "extension.interventions-node",
                        paths.index(
                            paths.key(paths.index(paths.key(paths.index(base, i), "spec"), j), "nodes"), k
                        ),
                        f"intervention on {node_id!r}, which is not a node of this graph",
                        "a node_id of `nodes`",
                        severity="warning",
                    )


SEMANTIC = {
    "features": _check_features,
    "supernodes": _check_supernodes,
    "interventions": _check_interventions,
}

ALL = (check_extension,)
