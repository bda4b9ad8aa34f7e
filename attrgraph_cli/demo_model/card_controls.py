"""The controls behind the card's causal claims about the Dallas graph's "Texas" features.

- Ablation: the margin of the answer after zeroing the Texas-like set, against `n_draws` control sets drawn
  from every other active feature of the prompt (the unpruned graph's), matched on layer, position and
  influence (`intervene.controls.matched_draws`), one per member; the percentile of the set's margin drop
  in that distribution; a second control, the same number of the most influential other features at or
  after the city; and the set split into its strongest feature alone and the rest without it.
- Swap: the two controls a swap needs. (a) zero the set and write in as many *random other* features of
  the source prompt (at or after its city, not its state features) instead of its state features;
  (b) write in the state features of the source prompt *without* zeroing the set.
All interventions run with attention not frozen, as the card's ablation does.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from attrgraph_cli.intervene.controls import Pool, distribution, matched_draws, percentile


def margin(logits: torch.Tensor, token_id: int) -> float:
    """Logit of `token_id` minus the largest other logit (> 0 when it is the top prediction)."""
    others = logits.clone()
    others[token_id] = -torch.inf
    return float(logits[token_id] - others.max())


@torch.no_grad()
def _run(model, ids, interventions: list[tuple]) -> torch.Tensor:
    if not interventions:
        return model(ids[None])[0, -1]
    return model.feature_intervention(ids, interventions, freeze_attention=False)[0][0, -1]


def _share(flags: list[bool]) -> float | None:
    return float(np.mean(flags)) if flags else None


def _zero(features: list[tuple]) -> list[tuple]:
    return [(layer, pos, idx, 0.0) for layer, pos, idx in features]


def ablation_controls(
    model,
    graph,
    hits: list[dict],
    every: list[tuple],
    excluded_nodes: set[int],
    answer_id: int,
    city_pos: int,
    n_draws: int = 200,
    seed: int = 0,
) -> dict:
    """The Texas set's ablation against matched random draws, the top-influence control, and its split."""
    ids = graph.input_tokens
    base = _run(model, ids, [])
    base_margin = margin(base, answer_id)
    nodes = [f[0] for f in every]
    pool = Pool(
        np.array([f[1] for f in every]),
        np.array([f[2] for f in every]),
        np.array([f[4] for f in every]),
        [(f[1], f[2], f[3]) for f in every],
    )
    at = {n: i for i, n in enumerate(nodes)}
    exclude = [at[n] for n in excluded_nodes if n in at]
    members = [(h["layer"], h["position"], h["influence"]) for h in hits]
    target = [(h["layer"], h["position"], h["feature"]) for h in hits]
    target_margin = margin(_run(model, ids, _zero(target)), answer_id)
    drawn = matched_draws(pool, members, exclude, n_draws, np.random.default_rng(seed))
    margins = []
    for draw in drawn.draws:
        margins.append(margin(_run(model, ids, _zero([pool.key[i] for i in draw])), answer_id))
    drops = [base_margin - m for m in margins]
    target_drop = base_margin - target_margin
    # the most influential other features at or after the city, as many as the set
    others = sorted(
        (f for f in every if f[0] not in excluded_nodes and f[2] >= city_pos), key=lambda f: -f[4]
    )[: len(hits)]
    top_zero = _zero([(f[1], f[2], f[3]) for f in others])
    top_logits = _run(model, ids, top_zero)
    strongest = max(hits, key=lambda h: h["influence"])
    alone = _run(model, ids, _zero([(strongest["layer"], strongest["position"], strongest["feature"])]))
    rest = _run(model, ids, _zero([t for t, h in zip(target, hits, strict=True) if h is not strongest]))
    half = 0.5 * base_margin
    return {
        "base_margin": base_margin,
        "set_margin": target_margin,
        "matched": {
            "how": "per member, one of the 4 other active features (unpruned graph) closest in influence at "
            "its layer and position",
            **drawn.summary(),
            "margin": distribution(margins),
            "share_removing_half_the_margin": _share([m <= half for m in margins]),
            "set_drop_percentile": percentile(target_drop, drops),
            "share_flipping_the_answer": _share([m < 0 for m in margins]),
        },
        "top_influence": {
            "how": f"the {len(others)} most influential other features at or after the city",
            "features": [f"{f[1]}_{f[3]}_{f[2]}" for f in others],
            "influence_sum": float(sum(f[4] for f in others)),
            "answer_probability": float(torch.softmax(top_logits, -1)[answer_id]),
            "margin": margin(top_logits, answer_id),
        },
        "strongest_alone": {
            "feature": f"{strongest['layer']}_{strongest['feature']}_{strongest['position']}",
            "answer_probability": float(torch.softmax(alone, -1)[answer_id]),
            "margin": margin(alone, answer_id),
        },
        "rest_without_strongest": {
            "n_features": len(hits) - 1,
            "answer_probability": float(torch.softmax(rest, -1)[answer_id]),
            "margin": margin(rest, answer_id),
        },
        "survives_matched": bool(
            target_margin <= half and margins and float(np.mean([m <= half for m in margins])) < 0.05
        ),
        "survives_top_influence": bool(target_margin <= half and margin(top_logits, answer_id) > half),
    }


def swap_controls(
    model,
    graph,
    hits: list[dict],
    swap_hits: list[dict],
    swap_every: list[tuple],
    swap_excluded: set[int],
    swap_city_pos: int,
    swap_answer_id: int,
    n_draws: int = 30,
    seed: int = 0,
) -> dict:
    """(a) random other source features written in with the set zeroed; (b) the source's state features
    written in without zeroing the set."""
    tok = model.tokenizer
    ids = graph.input_tokens
    zero = _zero([(h["layer"], h["position"], h["feature"]) for h in hits])
    write = [(h["layer"], h["position"], h["feature"], h["activation"]) for h in swap_hits]
    rng = np.random.default_rng(seed)
    others = [f for f in swap_every if f[0] not in swap_excluded and f[2] >= swap_city_pos]
    tops: Counter[str] = Counter()
    for _ in range(n_draws if len(others) >= len(write) else 0):
        pick = rng.choice(len(others), size=len(write), replace=False)
        random_in = [(others[i][1], others[i][2], others[i][3], others[i][5]) for i in pick]
        tops[tok.convert_ids_to_tokens(int(_run(model, ids, zero + random_in).argmax()))] += 1
    no_zero = _run(model, ids, write)
    return {
        "random_written": {
            "how": f"the set zeroed and {len(write)} random other features of the source prompt (at or after "
            "its city, not its state features) written in at their activations there",
            "n_draws": sum(tops.values()),
            "top_predictions": dict(tops.most_common()),
            "share_giving_the_swap_answer": (
                tops.get(tok.convert_ids_to_tokens(swap_answer_id), 0) / max(1, sum(tops.values()))
            ),
        },
        "without_zeroing": {
            "how": "the source's state features written in, the set left as it is",
            "top_prediction": tok.convert_ids_to_tokens(int(no_zero.argmax())),
            "answer_probability": float(torch.softmax(no_zero, -1)[swap_answer_id]),
        },
    }
