"""Load the model once and run every item of an `intervene` run into the graph's records."""

from __future__ import annotations

from typing import Any

from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.intervene.runner import Settings
from attrgraph_cli.intervene.spec import Intervention, SweepSpec


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
