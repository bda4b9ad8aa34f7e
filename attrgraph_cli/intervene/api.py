"""The Python API of `attrgraph intervene` (stable: other stages call it).

    from attrgraph_cli.intervene.api import Intervention, ablate, scale, set_value, swap
    from attrgraph_cli.intervene.api import load_model_for, run_interventions, predicted_delta

    loaded = load_model_for(graph)                       # once; reuse it for many calls
    records = run_interventions(graph, [Intervention("no Texas", [ablate("Texas")])], loaded=loaded)
    records[0]["targets"][0]["measured_delta"], records[0]["targets"][0]["predicted_delta"]
    predicted_delta(graph, [ablate("Texas")])            # {logit node id: predicted change}, no model

Targets are node ids (`"1_65_7"`) or supernode names from `qParams.supernodes`, optionally `@POS`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.intervene.session import Settings
from attrgraph_cli.intervene.spec import Intervention, Spec, SweepSpec, parse_sweep

__all__ = [
    "Intervention",
    "Settings",
    "Spec",
    "ablate",
    "load_model_for",
    "predicted_delta",
    "run_interventions",
    "scale",
    "set_value",
    "swap",
]


#: interventions whose forward passes run before their records are built (each holds one logit vector)
RECORD_CHUNK = 16


def ablate(target: str) -> Spec:
    """Set every feature of `target` (node id or supernode name) to 0."""
    return Spec("ablate", f"--ablate {target}", target, value=0.0)


def set_value(target: str, value: float) -> Spec:
    """Set the feature(s) of `target` to the absolute `value`."""
    return Spec("set", f"--set {target}={value:g}", target, value=float(value))


def scale(target: str, multiple: float) -> Spec:
    """Set the feature(s) of `target` to `multiple` times their activation."""
    return Spec("scale", f"--scale {target}=*{multiple:g}", target, multiple=float(multiple))


def swap(prompt: str, scope: str | None = None) -> Spec:
    """Write in the activations of `prompt` at the places of `scope` (default: every feature node)."""
    from attrgraph_cli.intervene.spec import parse_swap

    return parse_swap(prompt, scope)


def load_model_for(
    graph: AttributionGraph,
    model: str | None = None,
    transcoders: str | None = None,
    device: str = "auto",
    dtype: str | None = None,
) -> Any:
    """Load the model the graph was traced with (or `model`/`transcoders`): a `models.LoadedModel`."""
    from attrgraph_cli.intervene.model import model_request
    from attrgraph_cli.models import load_model

    req, _ = model_request(graph, model=model, transcoders=transcoders, device=device, dtype=dtype)
    with contextlib.redirect_stdout(sys.stderr):  # TransformerLens's "Moving model to device": not on stdout
        return load_model(req)


def run_interventions(
    graph: AttributionGraph,
    interventions: Sequence[Intervention | Sequence[Spec] | SweepSpec | str],
    settings: Settings | None = None,
    *,
    loaded: Any = None,
    check_supernodes: bool = False,
    append: bool = False,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Measure `interventions` on the graph's prompt; return their `attrgraph.interventions` records.

    Each item is an `Intervention` (named specs applied together), a list of `Spec`s (named
    "Intervention N"), a `SweepSpec` or a sweep text (`"NODE=-2:2:0.5"`). `settings` are circuit-tracer's
    intervention settings (default: frozen attention, unconstrained, top-10). `loaded` is a model from
    `load_model_for` (loaded here when None). The model is checked against the graph first (layers,
    vocabulary, prompt tokens, activations within `settings.tolerance`): a mismatch raises
    `AttrgraphError`, as does a spec that does not fit the graph. With `append`, the records are also
    appended to the graph's `attrgraph.interventions`. With `progress`, a run of 20 items or more shows a
    progress bar on stderr (a terminal only).
    """
    import dataclasses

    from attrgraph_cli.extension import append_intervention
    from attrgraph_cli.intervene.measure import Ran, record_of, run_one, sweep
    from attrgraph_cli.intervene.measure import check_supernodes as check
    from attrgraph_cli.intervene.session import Session

    settings = settings or Settings()
    if loaded is None:
        loaded = load_model_for(graph, device=settings.device)
    session = Session(graph, loaded, dataclasses.replace(settings, device=str(loaded.device))).start()
    records: list[dict[str, Any]] = []
    # forward passes first, then their records, RECORD_CHUNK at a time: the bookkeeping runs back to back
    # with its data in the CPU caches, not each time after a forward pass has evicted it (issue 28)
    ran: list[Ran] = []

    def flush() -> None:
        records.extend(record_of(session, r) for r in ran)
        ran.clear()

    with _bar(len(interventions) if progress else 0) as advance:
        for n, item in enumerate(interventions, start=1):
            if isinstance(item, str):
                item = parse_sweep(item)
            if isinstance(item, SweepSpec):
                flush()
                records.append(sweep(session, item))
            else:
                if not isinstance(item, Intervention):
                    item = Intervention(f"Intervention {n}", list(item))
                ran.append(run_one(session, item))
                if len(ran) >= RECORD_CHUNK:
                    flush()
            advance()
        flush()
        if check_supernodes:
            records.extend(check(session))
    if append:
        for record in records:
            append_intervention(graph, record)
    return records


@contextlib.contextmanager
def _bar(total: int) -> Iterator[Callable[[], None]]:
    """A transient rich progress bar on stderr for `total` >= 20 items; yields its advance function."""
    if total < 20:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("interventions", total=total)
        yield lambda: bar.advance(task)


def predicted_delta(
    graph: AttributionGraph, specs: Sequence[Spec], *, direct: bool = False
) -> dict[str, float]:
    """The graph's predicted change of each logit node (id -> demeaned-logit change) for `specs` applied
    together, from its edges alone (no model): direct edges only with `direct`, else the full path sum
    (see `intervene.predict`). Multiples use the recorded activations; swaps need a model and raise."""
    from attrgraph_cli.intervene.predict import logit_rows, predict
    from attrgraph_cli.intervene.spec import Resolver, SpecError

    resolver = Resolver(graph)
    nodes = graph.nodes
    changes: dict[int, float] = {}
    for spec in specs:
        if spec.op == "swap":
            raise SpecError(
                f"{spec.text}: a swap's prediction needs the other prompt's activations (a model)"
            )
        for site in resolver.resolve(spec).sites:
            if site.node is None:
                continue
            row = resolver.index[site.node]
            recorded = float(nodes.activation[row])
            new = recorded * spec.multiple if spec.op == "scale" else float(spec.value or 0.0)
            if recorded == recorded and recorded != 0:
                changes[row] = new - recorded
    pred = predict(graph, changes, direct=direct)
    return {str(nodes.ids[r]): float(pred[r]) for r in logit_rows(graph)}
