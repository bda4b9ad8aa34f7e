"""How far the graph's prediction of an intervention can be trusted: mode, coverage, flags and a summary.

- *Mode*: `direct` (every layer constrained: the prediction is exact up to float error), `frozen attention`
  (layers free: the prediction is the graph's linearisation, which can miss by a factor), `full` (attention
  recomputed too), or `constrained layers A:B`.
- *Coverage*: a prediction covers only the changed features that are graph nodes; a swap writes in features
  of another prompt that are not, so its prediction is `partial` and says how many sites it leaves out.
- *Flag* per target: `sign` when measured and predicted have opposite signs (both at least `FLOOR`),
  `magnitude` when one is more than `RATIO` times the other; nothing when both are below `FLOOR` logits.
- *Summary* over several targets (or several records): Pearson and Spearman correlation, sign agreement.
Deltas are demeaned logit changes (the logit minus the mean logit over the vocabulary), the graph's units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: measured and predicted disagree when one is more than RATIO times the other ...
RATIO = 2.0
#: ... or their signs differ; changes below FLOOR (logits) on both sides are not flagged
FLOOR = 0.05
TOLERANCE_TEXT = f"signs differ, or one is over {RATIO:g}x the other (either |Δ| ≥ {FLOOR:g})"


def mode(settings: dict[str, Any]) -> str:
    """`direct`, `frozen attention`, `full` or `constrained layers A:B` (+ attention) from record settings."""
    if settings.get("direct"):
        return "direct"
    layers = settings.get("constrained_layers")
    frozen = bool(settings.get("freeze_attention", True))
    if isinstance(layers, list) and layers:
        return f"constrained layers {layers[0]}:{layers[-1] + 1}" + (", frozen attention" if frozen else "")
    return "frozen attention" if frozen else "full"


def flag(measured: float | None, predicted: float | None) -> str | None:
    """`sign`, `magnitude` or None (agree, or nothing to compare)."""
    if measured is None or predicted is None:
        return None
    m, p = float(measured), float(predicted)
    if max(abs(m), abs(p)) < FLOOR:
        return None
    small, big = sorted((abs(m), abs(p)))
    if np.sign(m) != np.sign(p) and small >= FLOOR:
        return "sign"
    return "magnitude" if big > RATIO * small else None


def _corr(a: np.ndarray, b: np.ndarray, kind: str) -> float | None:
    """scipy's Pearson or Spearman correlation; None for fewer than 3 points or a constant side."""
    from scipy import stats

    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return None
    result = stats.pearsonr(a, b) if kind == "pearson" else stats.spearmanr(a, b)
    return float(result[0])


def summary(pairs: Sequence[tuple[float | None, float | None]]) -> dict[str, Any] | None:
    """Pearson, Spearman and sign agreement over (measured, predicted) pairs; None with fewer than 3."""
    both = [(float(m), float(p)) for m, p in pairs if m is not None and p is not None]
    if len(both) < 3:
        return None
    m, p = np.array([x[0] for x in both]), np.array([x[1] for x in both])
    return {
        "n": len(both),
        "pearson": _corr(m, p, "pearson"),
        "spearman": _corr(m, p, "spearman"),
        "sign_agreement": float(np.mean(np.sign(m) == np.sign(p))),
        "flagged": sum(flag(a, b) is not None for a, b in both),
    }


def annotate(record: dict[str, Any], n_sites: int, n_predicted_sites: int) -> None:
    """Add `prediction` (mode, coverage, tolerance, summary) to a record and `flag` to each target."""
    targets = record.get("targets") or []
    for t in targets:
        t["flag"] = flag(t.get("measured_delta"), t.get("predicted_delta"))
    coverage = "none" if n_sites and not n_predicted_sites else "full"
    if n_predicted_sites < n_sites and n_predicted_sites:
        coverage = "partial"
    record["prediction"] = {
        "mode": mode(record.get("settings") or {}),
        "delta": "demeaned logit change: (logit - mean logit) after minus before",
        "coverage": coverage,
        "n_sites": n_sites,
        "n_predicted_sites": n_predicted_sites,
        "tolerance": TOLERANCE_TEXT,
        "summary": summary([(t.get("measured_delta"), t.get("predicted_delta")) for t in targets]),
    }


def run_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The summary over every (record, target) pair of a run with several records (sweeps left out)."""
    measured = [r for r in records if not r.get("sweep") and r.get("spec")]
    if len(measured) < 2:
        return None
    pairs = [(t.get("measured_delta"), t.get("predicted_delta")) for r in measured for t in r["targets"]]
    out = summary(pairs)
    if out is not None:
        out["records"] = len(measured)
        out["modes"] = sorted({mode(r.get("settings") or {}) for r in measured})
    return out


def summary_text(s: dict[str, Any] | None) -> str:
    """`n=12 Pearson 0.98 Spearman 0.61 sign 11/12 flagged 5` (or an empty string)."""
    if not s:
        return ""

    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    agree = round(s["sign_agreement"] * s["n"])
    return (
        f"n={s['n']}: Pearson {f(s['pearson'])}, Spearman {f(s['spearman'])}, sign agreement "
        f"{agree}/{s['n']}, flagged {s['flagged']}"
    )
