"""Write MODEL_CARD.md from the measured metrics (numbers are never typed by hand).

The text is `templates/model_card.md.j2`; the functions here compute each section's data from `metrics.json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrgraph_cli.demo_model.facts import HELD_OUT_CITIES, REGIONS
from attrgraph_cli.resources import resource_dir

TEMPLATE = "model_card.md.j2"

BARS = {"one_hop": 0.95, "city_state": 0.95, "two_hop": 0.80}
FVE_BAR, L0_BAR = 0.8, 32.0

SET_DESCRIPTIONS = {
    "one_hop": "one-hop facts (state/country → capital, country → language), trained",
    "city_state": "city → state/country, the region right after the city (`The city of Dallas Texas`)",
    "two_hop": "two-hop questions that appear in training",
    "two_hop_held_out": "two-hop questions never trained (their city → region facts were): composition",
    "antonym": "antonyms, both directions, trained",
    "addition": "single-digit sums, trained",
    "addition_held_out": "single-digit sums never trained (their commuted form was)",
    "induction": "copying a random list of names (fresh random lists)",
}


def _ok(passed: bool) -> str:
    return "✅ meets the bar" if passed else "❌ below the bar"


def _share(value: float | None) -> str:
    return "n/a (the answer is not among the graph's logits)" if value is None else f"{value:.1%}"


def _code(text: Any) -> str:
    return f"`{text}`"


def verdict(inter: dict) -> str:
    """ "Yes." when the ablation and the swap both survive their controls, "Partly." when one does, else
    "No, ..." (also when the features do not exist)."""
    ablation = inter.get("ablation_removes_half_the_margin", False) and inter.get(
        "ablation_survives_controls", False
    )
    votes = ablation + inter.get("swap_survives_controls", False)
    if not inter.get("n_intermediate_features") or votes == 0:
        return "No, not convincingly."
    return "Yes." if votes == 2 else "Partly."


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def lookup_reading(rates: dict) -> str:
    """What the two swaps say, by rule: which part of the city's position carries the answer."""
    embedding, computation = rates["embedding_swap_gives_partner"], rates["computation_swap_gives_partner"]
    if rates["full_swap_gives_partner"] is None or rates["full_swap_gives_partner"] < 0.8:
        return "The full swap does not move the answer reliably, so the split tells nothing."
    if embedding >= 0.8 and computation <= 0.2:
        return (
            "The last position reads the city token itself and looks the answer up there; what attention "
            "and the MLPs compute at the city's position does not carry it. So the graph's state features "
            "sit at the last position, not at the city."
        )
    if computation >= 0.8 and embedding <= 0.2:
        return (
            "The last position reads what was computed at the city's position (the two-hop route through "
            "a state representation at the city), not the city token itself."
        )
    return "Both parts carry the answer in part: neither swap alone moves it reliably."


def _model(metrics: dict) -> dict[str, Any]:
    """The model and training settings, with the defaults of older metrics filled in."""
    train = metrics["training"]
    lm, tc = train["lm"], train["transcoders"]
    return {
        "lm": {
            **lm,
            "embedding_norm": lm.get("embedding_norm", "default"),
            "city_substitution": lm.get("city_substitution", 0),
            "two_hop_from_step": lm.get("two_hop_from_step", 0),
        },
        "tc": {
            **tc,
            "city_share": tc.get("city_share", 0),
            "activation_tokens_per_layer": train["activation_tokens_per_layer"],
        },
        "total_mb": sum(metrics["files"].values()) / 1e6,
        "n_regions": len(REGIONS),
        "n_held_out_cities": len(HELD_OUT_CITIES),
    }


def _accuracy(metrics: dict) -> dict[str, Any]:
    """One row per evaluation set (with its bar, if any) and the held-out two-hop finding."""
    replaced = metrics.get("replacement_accuracy", {})
    rows = []
    for name, row in metrics["accuracy"].items():
        bar = f"≥ {BARS[name]:.0%}: {_ok(row['accuracy'] >= BARS[name])}" if name in BARS else "finding"
        rep = f"{replaced[name]:.1%}" if name in replaced else "–"
        what = SET_DESCRIPTIONS.get(name, "")
        rows.append(
            {
                "name": name,
                "what": what,
                "n": row["n"],
                "accuracy": row["accuracy"],
                "bar": bar,
                "replaced": rep,
            }
        )
    held = metrics["accuracy"].get("two_hop_held_out")
    held_out = None
    if held:
        wrong = "; ".join(f"`{p}` → `{got}` (expected `{exp}`)" for p, exp, got in held["errors"][:3])
        held_out = {"accuracy": held["accuracy"], "wrong": wrong}
    weak = [f"`{k}` ({v:.0%})" for k, v in replaced.items() if v < 0.8]
    return {"accuracy": rows, "held_out": held_out, "weak_replacement": weak}


def _transcoders(metrics: dict) -> dict[str, Any]:
    """The transcoders' rows against their bar, and the dead-fraction curve."""
    rows = [
        {
            **row,
            "dead_tokens": row.get("dead_fraction_tokens", 0),
            "passed": row["fve"] >= FVE_BAR and row["l0"] <= L0_BAR,
        }
        for row in metrics["transcoders"]
    ]
    curve = metrics.get("dead_fraction_curve") or []
    table = None
    if curve:
        n_layers = len(curve[0]["dead_fraction"])
        table = {
            "layers": [f"layer {i}" for i in range(n_layers)],
            "align": ["---:" for _ in curve[0]["dead_fraction"]],
            "rows": [
                {"tokens": pt["tokens"], "dead": [f"{x:.1%}" for x in pt["dead_fraction"]]} for pt in curve
            ],
        }
    return {"transcoders": rows, "fve_bar": FVE_BAR, "l0_bar": L0_BAR, "curve": table}


def _intermediate(metrics: dict) -> dict[str, Any]:
    """The intermediate-step test on the Dallas graph: features, ablation and its controls, swap, lens."""
    inter = metrics["intermediate_step"]
    flow = inter.get("flow_share", {})
    swap_controls = (inter.get("swap") or {}).get("controls") or {}
    if swap_controls:
        tops = swap_controls["random_written"]["top_predictions"]
        swap_controls = {**swap_controls, "tops": ", ".join(f"`{t}` {n}" for t, n in tops.items())}
    return {
        "inter": inter,
        "verdict": verdict(inter),
        "hits": inter["intermediate_features"][:5],
        "controls": inter.get("controls") or {},
        "flow": {key: flow.get(key) for key in ("intermediate_features", "control_features")},
        "swap": inter["swap"],
        "swap_controls": swap_controls,
        "lens": ", ".join(f"L{i}: {r}" for i, r in enumerate(inter["logit_lens_rank_last_position"])),
    }


def _mechanism(mech: dict | None) -> dict[str, Any] | None:
    """What carries the state at the city (mechanism.py's measurements), or None when not measured."""
    if not mech:
        return None
    watched = mech.get("watched_features_fire_on") or {}
    return {
        **mech,
        "cut": ", ".join(
            f"L{i}: {_pct(v)}" for i, v in enumerate(mech["answer_kept_with_city_attention_cut"])
        ),
        "exact": ", ".join(f"layer {k}: {v}" for k, v in mech["features_on_exactly_one_region"].items()),
        "which": mech.get("features_on_exactly_one_region_which") or [],
        "several": ", ".join(
            f"layer {k}: {v}" for k, v in mech["features_on_two_or_more_cities_of_one_region_only"].items()
        ),
        "watched": [
            (key, ", ".join(f"{c['city']} ({c['region']}, {c['activation']:.2f})" for c in on) or "no city")
            for key, on in watched.items()
        ],
    }


def _city_lookup(look: dict | None) -> dict[str, Any] | None:
    """Where the last position reads the city from (city_lookup.py's patches), or None when not measured."""
    if not look:
        return None
    rates = look["rates"]
    return {
        **look,
        "rates": rates,
        "held": look["rates_held_out"],
        "dallas": look.get("dallas") or {},
        "reading": lookup_reading(rates),
    }


def card_context(metrics: dict) -> dict[str, Any]:
    """Everything the card's template reads, section by section."""
    train = metrics["training"]
    return {
        **_model(metrics),
        **_accuracy(metrics),
        **_transcoders(metrics),
        "graph_scores": metrics["graph_scores"],
        **_intermediate(metrics),
        "mech": _mechanism(metrics.get("mechanism")),
        "look": _city_lookup(metrics.get("city_lookup")),
        "train": train,
        "lm_reused": bool(train.get("lm_reused")),
    }


def render_card(metrics: dict) -> str:
    """The model card's Markdown for `metrics` (templates/model_card.md.j2)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(fmt=format, pct=_pct, share=_share, ok=_ok, code=_code)
    return env.get_template(TEMPLATE).render(card_context(metrics))


def write_card(metrics: dict, path: Path) -> None:
    """Write MODEL_CARD.md for `metrics`."""
    path.write_text(render_card(metrics))
