"""Rich tables of intervention records for the terminal (escaped: tokens come from a model)."""

from __future__ import annotations

from typing import Any


def _num(x: Any, fmt: str = "{:+.4f}") -> str:
    return "-" if x is None else fmt.format(x)


def print_records(records: list[dict[str, Any]], console: Any = None) -> None:
    """One table per record: targets before/after, measured vs predicted; then the top tokens after."""
    from rich.console import Console
    from rich.table import Table

    from attrgraph_cli.safetext import markup as escape  # controls, bidi and rich markup

    console = console or Console()
    for rec in records:
        spec = (
            "; ".join(s.get("text", s.get("op", "")) for s in rec.get("spec", []))
            or "(none: plain forward pass)"
        )
        title = f"[bold]{escape(rec['name'])}[/] [dim]({escape(rec['kind'])})[/]  {escape(spec)}"
        if rec.get("sweep"):
            sw = rec["sweep"]
            table = Table(title=title, title_justify="left")
            table.add_column(sw.get("parameter", "value"), justify="right")
            for s in sw["series"]:
                table.add_column(f"p({escape(repr(s['token']))})", justify="right")
            for i, x in enumerate(sw["values"]):
                table.add_row(f"{x:g}", *[_num(s["p"][i], "{:.4f}") for s in sw["series"]])
            console.print(table)
            continue
        table = Table(title=title, title_justify="left")
        for col in (
            "target",
            "logit before → after",
            "measured Δ",
            "predicted Δ",
            "p before → after",
            "rank",
        ):
            table.add_column(col, justify="left" if col == "target" else "right")
        for t in rec.get("targets", []):
            table.add_row(
                escape(repr(t["token"])),
                f"{_num(t.get('logit_before'), '{:.3f}')} → {_num(t.get('logit_after'), '{:.3f}')}",
                _num(t.get("measured_delta")),
                _num(t.get("predicted_delta")),
                f"{_num(t.get('p_before'), '{:.4f}')} → {_num(t.get('p_after'), '{:.4f}')}",
                f"{t.get('rank_before', '-')} → {t.get('rank_after', '-')}",
            )
        console.print(table)
        if rec.get("top_after"):
            top = ", ".join(f"{escape(repr(tok))} {p:.3f}" for tok, p in rec["top_after"][:5])
            console.print(f"  top after: {top}")
        check = rec.get("check")
        if check:
            ctrl = check.get("control") or {}
            console.print(
                f"  effect {_num(check.get('effect'))} (rank {check.get('effect_rank')}), predicted "
                f"{_num(check.get('predicted_effect'))}, influence rank {check.get('influence_rank')}; "
                f"random same-size control |effect| mean {_num(ctrl.get('mean_abs_effect'), '{:.4f}')}"
            )
        if rec.get("generated_after") is not None:
            console.print(f"  generated before: {escape(repr(rec.get('generated_before')))}")
            console.print(f"  generated after:  {escape(repr(rec['generated_after']))}")
