"""Interventions, sweeps and the supernode check, each measured on a started `Session` into records.

`check_supernodes`: every supernode is ablated and scaled to -1x; its effect is the change of the graph's
target logits weighted by their probabilities in the graph (the weights circuit-tracer's influence uses):
`effect = sum_l p_l * measured_delta_l` (and the same sum of the predictions). The control next to each:
the same number of feature nodes of the graph drawn at random (outside the supernode, seeded), ablated the
same way, `control_draws` times: the mean and largest |effect| of those draws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.intervene.agreement import annotate
from attrgraph_cli.intervene.records import base_record, target_delta, target_rows, top_tokens
from attrgraph_cli.intervene.session import Session
from attrgraph_cli.intervene.spec import Intervention, Spec, SweepSpec
from attrgraph_cli.stages.provenance import utc_now


@dataclass
class Ran:
    """One intervention's forward pass, done; its record is built later (`record_of`)."""

    intervention: Intervention
    resolved: list[Any]
    values: list[Any]
    after: Any
    started: str
    seconds: float


def run_one(session: Session, intervention: Intervention) -> Ran:
    """Resolve the intervention's specs and run its forward pass (no record yet)."""
    started, t0 = utc_now(), time.perf_counter()
    resolved = session.resolve(intervention.specs)
    values = session.values(resolved)
    after = session.run(values) if values else session.base
    return Ran(intervention, resolved, values, after, started, time.perf_counter() - t0)


def record_of(session: Session, ran: Ran, kind: str = "intervention") -> dict[str, Any]:
    """The record of a run intervention: predictions, targets, top tokens, agreement."""
    t0 = time.perf_counter()
    values, after, base = ran.values, ran.after, session.base
    predicted = session.predicted(values)
    assert base is not None and after is not None
    k = session.settings.top_k
    tok = session.loaded.tokenizer
    record = base_record(session, ran.intervention.name, kind, [r.record() for r in ran.resolved])
    record["targets"] = target_rows(session, base.logits, after.logits, predicted)
    record["top_before"] = base.top(tok, k)
    record["top_after"] = top_tokens(tok, after.logits, k)
    record["generated_before"] = base.generated
    record["generated_after"] = after.generated
    record["n_sites"] = len(values)
    annotate(record, len(values), sum(site.node is not None for site, _ in values))
    record["time"] = ran.started
    record["duration_s"] = round(ran.seconds + time.perf_counter() - t0, 4)
    return record


def measure(session: Session, intervention: Intervention, kind: str = "intervention") -> dict[str, Any]:
    """One intervention (several specs applied together) -> its record."""
    return record_of(session, run_one(session, intervention), kind)


def sweep(session: Session, sweep_spec: SweepSpec, name: str | None = None) -> dict[str, Any]:
    """One intervention per value of the sweep -> one `sweep` record with a probability series per target."""
    from attrgraph_cli.intervene.records import softmax

    started, t0 = utc_now(), time.perf_counter()
    base = session.base
    assert base is not None
    series = [{"token": t.token, "p": [], "delta": [], "predicted_delta": []} for t in session.targets]
    first = None
    for x in sweep_spec.values:
        resolved = session.resolve([sweep_spec.at(x)])
        first = first or resolved[0]
        values = session.values(resolved)
        after = session.run(values, generate=False)
        predicted = session.predicted(values)
        probs = softmax(after.logits)
        for t, s in zip(session.targets, series, strict=True):
            s["p"].append(float(probs[t.vocab_id]))
            s["delta"].append(target_delta(t, base.logits, after.logits))
            s["predicted_delta"].append(predicted.get(t.row) if t.row is not None else None)
    assert first is not None
    spec = first.record() | {"value": None, "multiple": None, "text": sweep_spec.text}
    spec["op"] = "scale" if sweep_spec.parameter == "multiple" else "set"
    record = base_record(session, name or sweep_spec.text.removeprefix("--sweep "), "sweep", [spec])
    record["targets"] = target_rows(session, base.logits, None, None)
    record["top_before"] = base.top(session.loaded.tokenizer, session.settings.top_k)
    record["sweep"] = {
        "parameter": sweep_spec.parameter,
        "values": list(sweep_spec.values),
        "series": series,
    }
    record["time"] = started
    record["duration_s"] = round(time.perf_counter() - t0, 4)
    return record


def weighted(session: Session, per_target: list[float | None]) -> float | None:
    """sum_l p_l * x_l over the graph's logits (`per_target` in `session.targets` order; None when a
    needed value is missing)."""
    total = 0.0
    for t, x in zip(session.targets, per_target, strict=True):
        if t.row is None or t.weight == 0:
            continue
        if x is None:
            return None
        total += t.weight * x
    return total


def _effect(session: Session, record: dict[str, Any], key: str) -> float | None:
    return weighted(session, [r[key] for r in record["targets"]])


def supernode_influence(session: Session) -> dict[str, float]:
    """Sum of the members' node influence (circuit-tracer's definition, on the pruned graph)."""
    from attrgraph_cli.intervene.predict import node_influence

    assert session.resolver is not None
    influence = node_influence(session.graph)
    out = {}
    for name, members in session.resolver.supernodes.items():
        rows = [session.resolver.index[m] for m in members if m in session.resolver.index]
        out[name] = float(sum(influence[r] for r in rows))
    return out


def check_supernodes(session: Session, seed: int = 0) -> list[dict[str, Any]]:
    """Ablate and scale to -1x every supernode; records of kind `supernode-check`, ranked."""
    from attrgraph_cli.errors import AttrgraphError

    assert session.resolver is not None
    names = list(session.resolver.supernodes)
    if not names:
        raise AttrgraphError("--check-supernodes: the graph has no supernodes (qParams.supernodes is empty)")
    influence = supernode_influence(session)
    feature_rows = np.flatnonzero(session.graph.nodes.kind == NodeKind.FEATURE)
    rng = np.random.default_rng(seed)
    records = []
    for name in names:
        members = [r for r in session.resolver._supernode_rows(name, Spec("ablate", name, name))]
        for op, spec in (
            ("ablate", Spec("ablate", f"--ablate {name}", f"supernode:{name}", value=0.0)),
            ("scale", Spec("scale", f"--scale {name}=*-1", f"supernode:{name}", multiple=-1.0)),
        ):
            rec = measure(session, Intervention(f"check {name}: {op}", [spec]), kind="supernode-check")
            effect, predicted = (
                _effect(session, rec, "measured_delta"),
                _effect(session, rec, "predicted_delta"),
            )
            rec["check"] = {
                "supernode": name,
                "op": op,
                "n_members": len(members),
                "influence": influence.get(name),
                "effect": effect,
                "predicted_effect": predicted,
                "agreement": (
                    None
                    if effect is None or predicted is None
                    else bool(np.sign(effect) == np.sign(predicted))
                ),
                "control": _control(session, members, feature_rows, op, rng),
            }
            records.append(rec)
    _rank(records)
    return records


def _control(
    session: Session, members: list[int], feature_rows: np.ndarray, op: str, rng: np.random.Generator
) -> dict[str, Any]:
    """Same-size random sets of the graph's other feature nodes, treated the same way."""
    pool = np.setdiff1d(feature_rows, members)
    if len(pool) < len(members) or session.settings.control_draws <= 0:
        pool = feature_rows
    effects = []
    ids = session.graph.nodes.ids
    for _ in range(session.settings.control_draws):
        rows = rng.choice(pool, size=min(len(members), len(pool)), replace=False)
        specs = [
            Spec("ablate", "control", str(ids[r]), value=0.0)
            if op == "ablate"
            else Spec("scale", "control", str(ids[r]), multiple=-1.0)
            for r in rows
        ]
        resolved = session.resolve(specs)
        values = session.values(resolved)
        after = session.run(values, generate=False)
        value = weighted(
            session, [target_delta(t, session.base.logits, after.logits) for t in session.targets]
        )
        if value is not None:
            effects.append(abs(value))
    return {
        "n_draws": len(effects),
        "mean_abs_effect": float(np.mean(effects)) if effects else None,
        "max_abs_effect": float(np.max(effects)) if effects else None,
    }


def _rank(records: list[dict[str, Any]]) -> None:
    """`effect_rank` (by |effect|) and `influence_rank` among the records of the same op."""
    for op in ("ablate", "scale"):
        group = [r for r in records if r["check"]["op"] == op]
        by_effect = sorted(group, key=lambda r: -abs(r["check"]["effect"] or 0.0))
        by_influence = sorted(group, key=lambda r: -(r["check"]["influence"] or 0.0))
        for i, r in enumerate(by_effect, start=1):
            r["check"]["effect_rank"] = i
        for i, r in enumerate(by_influence, start=1):
            r["check"]["influence_rank"] = i
