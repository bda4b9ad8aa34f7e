"""Plan files: many interventions in one run (one model load).

JSONL: one object a line (blank lines and lines starting with `#` skipped). YAML (when PyYAML is
installed): a list of the same objects, or `{interventions: [...]}`. Each object is one intervention:

    {"name": "no Texas", "ablate": "Texas", "set": ["1_65_7=0"], "scale": "Dallas=*-1"}
    {"name": "Seattle", "swap_from": "The capital of the state containing Seattle is", "swap_scope": "Texas"}
    {"sweep": "Texas=*-2:2:0.5"}

`set`, `scale`, `ablate` take a string or a list of strings in the command line's syntax; an object with
`sweep` is a sweep and takes only `name` besides.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from attrgraph_cli.intervene.spec import (
    Intervention,
    SpecError,
    SweepSpec,
    parse_ablate,
    parse_scale,
    parse_set,
    parse_swap,
    parse_sweep,
)
from attrgraph_cli.jsontypes import json_type_phrase

KEYS = {"name", "set", "scale", "ablate", "swap_from", "swap_scope", "sweep"}
MAX_PLAN_BYTES = 16 << 20
#: most interventions one run may hold (plan lines, command line, sweep values together): each is a forward
#: pass or two, and a 16 MB plan of one-line ablations would otherwise be ~760k of them
MAX_INTERVENTIONS = 10_000
#: most specs (set/scale/ablate targets) one run may hold, all interventions together
MAX_SPECS = 100_000


def read_plan(path: Path) -> list[Intervention | SweepSpec]:
    """Interventions and sweeps of a plan file, in order; a bad line is one error naming it."""
    from attrgraph_cli.io.bounded import read_bounded, small_file_budget

    try:  # a regular file of at most 16 MiB (io/bounded.py: FIFOs, devices, sparse giants refused unread)
        data = read_bounded(path, what="a plan file", budget=small_file_budget(), error=SpecError)
        text = data.decode("utf-8")
    except SpecError as exc:
        raise SpecError(f"--plan {exc}") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"--plan {path}: cannot read it as UTF-8 text ({exc})") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        entries = _yaml_entries(path, text)
    else:
        entries = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if len(entries) >= MAX_INTERVENTIONS:
                raise SpecError(
                    f"--plan {path}, line {n}: more than {MAX_INTERVENTIONS:,} interventions in one run "
                    "(split the plan)"
                )
            try:
                entries.append((f"line {n}", json.loads(line)))
            except ValueError as exc:
                raise SpecError(f"--plan {path}, line {n}: not a JSON object ({exc})") from None
            except RecursionError:
                raise SpecError(f"--plan {path}, line {n}: JSON nested too deeply") from None
    if not entries:
        raise SpecError(f"--plan {path}: no interventions in it")
    return [_entry(path, where, obj, i) for i, (where, obj) in enumerate(entries, start=1)]


def _yaml_entries(path: Path, text: str) -> list[tuple[str, Any]]:
    try:
        import yaml
    except ImportError:
        raise SpecError(
            f"--plan {path}: YAML plans need PyYAML (pip install pyyaml), or write JSONL"
        ) from None

    class NoAliases(yaml.SafeLoader):
        """safe_load without aliases: `*a` repeats a whole value, so a 76 kB plan named 18 million targets
        (4 GB before the target cap could count them); a plan writes each value out."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(f"line {mark.line + 1}: an alias (*name) is not read in a plan")
            return super().compose_node(parent, index)

    try:
        doc = yaml.load(text, Loader=NoAliases)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SpecError(f"--plan {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise SpecError(f"--plan {path}: YAML nested too deeply") from None
    if isinstance(doc, dict) and "interventions" in doc:
        doc = doc["interventions"]
    if not isinstance(doc, list):
        raise SpecError(f"--plan {path}: expected a list of interventions (or interventions: [...])")
    if len(doc) > MAX_INTERVENTIONS:
        raise SpecError(
            f"--plan {path}: {len(doc):,} interventions; at most {MAX_INTERVENTIONS:,} in one run (split it)"
        )
    return [(f"item {i}", obj) for i, obj in enumerate(doc, start=1)]


def _strings(value: Any, key: str) -> list[str]:
    """`value` as a list of spec texts (the caller names the plan line in the error)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and len(value) > MAX_SPECS:
        raise SpecError(f"{key!r} lists {len(value):,} targets; at most {MAX_SPECS:,} in one run")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise SpecError(f"{key!r} must be a string or a list of strings, not {json_type_phrase(value)}")


def _entry(path: Path, where: str, obj: Any, n: int) -> Intervention | SweepSpec:
    where = f"--plan {path}, {where}"
    if not isinstance(obj, dict):
        raise SpecError(f"{where}: expected an object, got {json_type_phrase(obj)}")
    unknown = sorted(set(obj) - KEYS)
    if unknown:
        raise SpecError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    name = obj.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError(f"{where}: 'name' must be a string")
    try:
        if "sweep" in obj:
            if set(obj) - {"sweep", "name"}:
                raise SpecError("a sweep line takes only 'sweep' and 'name'")
            if not isinstance(obj["sweep"], str):
                raise SpecError("'sweep' must be a string TARGET=START:STOP:STEP")
            return dataclasses.replace(parse_sweep(obj["sweep"]), source=where)
        specs = []
        if "swap_from" in obj:
            scope = obj.get("swap_scope")
            if not isinstance(obj["swap_from"], str) or (scope is not None and not isinstance(scope, str)):
                raise SpecError("'swap_from' and 'swap_scope' must be strings")
            specs.append(parse_swap(obj["swap_from"], scope))
        elif "swap_scope" in obj:
            raise SpecError("'swap_scope' needs 'swap_from'")
        specs += [parse_ablate(t) for t in _strings(obj.get("ablate", []), "ablate")]
        specs += [parse_scale(t) for t in _strings(obj.get("scale", []), "scale")]
        specs += [parse_set(t) for t in _strings(obj.get("set", []), "set")]
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None
    if not specs:
        raise SpecError(f"{where}: nothing to do (give set, scale, ablate, swap_from or sweep)")
    return Intervention(name or f"Plan {n}", specs, source=where)
