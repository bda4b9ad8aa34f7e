"""Rich tables of intervention records for the terminal (escaped: tokens come from a model)."""

from __future__ import annotations

from typing import Any


def _num(x: Any, fmt: str = "{:+.4f}") -> str:
    return "-" if x is None else fmt.format(x)


def _flag(value: Any) -> str:
    return {"sign": "[red]sign ✗[/]", "magnitude": "[yellow]>2x[/]"}.get(str(value), "") if value else ""


def prediction_lines(pred: dict[str, Any]) -> list[str]:
    """What the measured/predicted columns compare: mode, units, coverage, tolerance, agreement summary."""
    from attrgraph_cli.intervene.agreement import summary_text

    if not pred:
        return []
    lines = [
        f"mode: {pred.get('mode')}; Δ = demeaned logit change (logit − mean logit over the vocabulary, "
        "after − before); the raw logit columns are not demeaned"
    ]
    n, k = pred.get("n_sites", 0), pred.get("n_predicted_sites", 0)
    if pred.get("coverage") in ("partial", "none"):
        lines.append(
            f"prediction is partial: it covers {k} of the {n} changed features (graph nodes only; features "
            "written in from another prompt or at positions outside the graph have none)"
        )
    text = summary_text(pred.get("summary"))
    flagged = f"flag: {pred.get('tolerance')}"
    lines.append(f"measured vs predicted over the targets, {text}; {flagged}" if text else flagged)
    return lines


def print_records(records: list[dict[str, Any]], console: Any = None) -> None:
    """One table per record: targets before/after, measured vs predicted, flags; a summary line under each
    and, for several records, one over the run."""
    from rich.console import Console
    from rich.table import Table

    from attrgraph_cli.intervene.agreement import run_summary, summary_text
    from attrgraph_cli.safetext import markup as escape  # controls, bidi and rich markup

    console = console or Console()
    for rec in records:
        spec = (
            "; ".join(s.get("text", s.get("op", "")) for s in rec.get("spec", []))
            or "(none: plain forward pass)"
        )
        mode_text = (rec.get("prediction") or {}).get("mode")
        title = f"[bold]{escape(rec['name'])}[/] [dim]({escape(rec['kind'])})[/]  {escape(spec)}"
        if mode_text:
            title += f"  [dim]mode: {escape(mode_text)}[/]"
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
        pred = rec.get("prediction") or {}
        partial = pred.get("coverage") in ("partial", "none")
        for col in (
            "target",
            "raw logit before → after",
            "measured Δ",
            "predicted Δ" + (" (partial)" if partial else ""),
            "flag",
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
                _flag(t.get("flag")),
                f"{_num(t.get('p_before'), '{:.4f}')} → {_num(t.get('p_after'), '{:.4f}')}",
                f"{t.get('rank_before', '-')} → {t.get('rank_after', '-')}",
            )
        console.print(table)
        for line in prediction_lines(pred):
            console.print(f"  [dim]{escape(line)}[/]")
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
    overall = run_summary(records)
    if overall:
        console.print(
            f"run: measured vs predicted over {overall['records']} interventions × targets "
            f"({escape(', '.join(overall['modes']))}), {escape(summary_text(overall))}"
        )
