"""The work of one `attrgraph intervene` run: assembled from flags and a plan, checked before any model load,
then measured on one model load (`run_items`).

Order: the command line's specs form one intervention (swap first, then --ablate, --scale, --set: where
two write the same feature the later wins), then the plan's lines, then each --sweep, then
--check-supernodes. With no spec at all and no plan, sweep or check, the run records the empty
intervention (the plain forward pass).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from attrgraph_cli.graph.model import MAX_LAYERS, AttributionGraph
from attrgraph_cli.intervene.plan import MAX_INTERVENTIONS, MAX_SPECS, read_plan
from attrgraph_cli.intervene.session import Settings
from attrgraph_cli.intervene.spec import (
    Intervention,
    Resolver,
    SpecError,
    SweepSpec,
    parse_ablate,
    parse_scale,
    parse_set,
    parse_swap,
    parse_sweep,
)


def build_items(
    *,
    sets: list[str],
    scales: list[str],
    ablates: list[str],
    swap_from: str | None,
    swap_scope: str | None,
    name: str | None,
    plan: Path | None,
    sweeps: list[str],
    check_supernodes: bool,
) -> list[Intervention | SweepSpec]:
    """Parse every flag (one line per error) into the run's interventions and sweeps, in order."""
    if swap_scope is not None and swap_from is None:
        raise SpecError("--swap-scope needs --swap-from")
    specs = [parse_swap(swap_from, swap_scope)] if swap_from is not None else []
    specs += [parse_ablate(t) for t in ablates]
    specs += [parse_scale(t) for t in scales]
    specs += [parse_set(t) for t in sets]
    items: list[Intervention | SweepSpec] = []
    if specs:
        items.append(Intervention(name or "; ".join(s.text for s in specs), specs))
    if plan is not None:
        items += read_plan(plan)
    items += [parse_sweep(t) for t in sweeps]
    if not items and not check_supernodes:
        items.append(Intervention(name or "plain forward pass", []))
    return items


def check_items(
    graph: AttributionGraph, items: list[Intervention | SweepSpec], check_supernodes: bool
) -> None:
    """Resolve every spec on the graph (unknown nodes, non-features, positions) before loading a model; an
    error names the plan line the spec came from. At most `MAX_INTERVENTIONS` runs in all."""
    n_specs = sum(1 if isinstance(item, SweepSpec) else len(item.specs) for item in items)
    if n_specs > MAX_SPECS:
        raise SpecError(f"{n_specs:,} targets in all; at most {MAX_SPECS:,} in one run: split it")
    resolver = Resolver(graph)
    for item in items:
        try:
            if isinstance(item, SweepSpec):
                resolver.resolve_sweep(item)
            else:
                for spec in item.specs:
                    resolver.resolve(spec)
        except SpecError as exc:
            raise SpecError(f"{item.source}: {exc}" if item.source else str(exc)) from None
    if check_supernodes and not resolver.supernodes:
        raise SpecError("--check-supernodes: the graph has no supernodes (qParams.supernodes is empty)")
    if check_supernodes and resolver.duplicates:
        name = sorted(resolver.duplicates)[0]
        raise SpecError(
            f"--check-supernodes: several supernodes are named {name!r}: rename them in qParams.supernodes"
        )
    total = count_runs(items) + (2 * len(resolver.supernodes) if check_supernodes else 0)
    if total > MAX_INTERVENTIONS:
        raise SpecError(
            f"{total:,} interventions (plan lines, sweep values and supernode checks together); at most "
            f"{MAX_INTERVENTIONS:,} in one run: split it"
        )


def count_runs(items: list[Intervention | SweepSpec]) -> int:
    """How many interventions `items` make: one each, a sweep one per value."""
    return sum(len(item.values) if isinstance(item, SweepSpec) else 1 for item in items)


#: `--generate` at most this many tokens (the model's context bounds it too, checked once it is loaded)
MAX_GENERATE = 1000
#: `--temperature` is 0 (greedy) or within these bounds: beyond them the logits / T under- or overflow
TEMPERATURE_RANGE = (1e-3, 1e3)


def check_settings(*, generate: int, temperature: float, tolerance: float | None) -> None:
    """Options that would overflow inside the model or run for hours: one line, before any model load."""
    if generate > MAX_GENERATE:
        raise SpecError(f"--generate {generate}: at most {MAX_GENERATE} tokens")
    low, high = TEMPERATURE_RANGE
    if not (temperature == 0 or low <= temperature <= high):
        raise SpecError(f"--temperature {temperature:g}: 0 (greedy) or between {low:g} and {high:g}")
    if tolerance is not None and not math.isfinite(tolerance):
        raise SpecError(f"--tolerance {tolerance:g}: must be a finite number")


def parse_layers(
    text: str | None,
) -> tuple[int, int] | None:
    """`--constrained-layers A:B` -> (A, B), half-open."""
    if text is None:
        return None
    a, sep, b = text.partition(":")
    try:
        lo, hi = int(a), int(b)
    except ValueError:
        raise SpecError(f"--constrained-layers {text!r}: expected A:B (layers A to B-1)") from None
    if not sep or lo < 0 or hi <= lo or hi > MAX_LAYERS:
        raise SpecError(f"--constrained-layers {text!r}: expected A:B with 0 <= A < B <= {MAX_LAYERS}")
    return lo, hi


def run_items(
    graph: AttributionGraph,
    items: list[Intervention | SweepSpec],
    settings: Settings,
    request: Any,
    check_supernodes: bool,
) -> list[dict[str, Any]]:
    """One model load (`request`: a `models.ModelRequest`), every item measured, records appended."""
    import contextlib
    import io

    from attrgraph_cli.intervene.api import run_interventions
    from attrgraph_cli.models import load_model

    with contextlib.redirect_stdout(io.StringIO()):  # TransformerLens prints "Moving model to device"
        loaded = load_model(request)
    n_ctx = getattr(getattr(loaded.model, "cfg", None), "n_ctx", None)
    if settings.generate and isinstance(n_ctx, int) and graph.n_positions + settings.generate > n_ctx:
        from attrgraph_cli.intervene.spec import SpecError

        raise SpecError(
            f"--generate {settings.generate}: the prompt's {graph.n_positions} tokens and the new ones pass "
            f"the model's context of {n_ctx} tokens"
        )
    try:
        return run_interventions(
            graph,
            items,
            settings,
            loaded=loaded,
            check_supernodes=check_supernodes,
            append=True,
            progress=True,
        )
    finally:
        del loaded
