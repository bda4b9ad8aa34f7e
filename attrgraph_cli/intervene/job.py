"""The work of one `attrgraph intervene` run, assembled from flags and a plan, checked before any model load.

Order: the command line's specs form one intervention (swap first, then --ablate, --scale, --set: where
two write the same feature the later wins), then the plan's lines, then each --sweep, then
--check-supernodes. With no spec at all and no plan, sweep or check, the run records the empty
intervention (the plain forward pass).
"""

from __future__ import annotations

from pathlib import Path

from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.intervene.plan import read_plan
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
    """Resolve every spec on the graph (unknown nodes, non-features, positions) before loading a model."""
    resolver = Resolver(graph)
    for item in items:
        if isinstance(item, SweepSpec):
            resolver.resolve_sweep(item)
        else:
            for spec in item.specs:
                resolver.resolve(spec)
    if check_supernodes and not resolver.supernodes:
        raise SpecError("--check-supernodes: the graph has no supernodes (qParams.supernodes is empty)")


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
    if not sep or lo < 0 or hi <= lo:
        raise SpecError(f"--constrained-layers {text!r}: expected A:B with 0 <= A < B")
    return lo, hi
