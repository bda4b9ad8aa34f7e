"""Where a two-hop prompt's city is read: from the city token itself, or from what was computed at it.

For "The capital of the state containing Dallas is", the residual stream at the city's position is the
sum of the city's token embedding (plus its position embedding) and everything attention and the MLPs
wrote there. Two complementary patches take one part from another city's prompt of the same template
(partner: the next region of the same kind, e.g. Dallas -> Sacramento's city Fresno):

- *embedding swap*: the partner's token embedding, with every attention and MLP output at the city's
  position frozen to this prompt's values;
- *computation swap*: this prompt's token embedding, with every attention and MLP output at the city's
  position taken from the partner's prompt.

If the last position answers from the state computed at the city's position (the two-hop route through
a "Texas" representation there), the computation swap turns the answer into the partner's capital and
the embedding swap does not. If it looks the city up itself, the reverse. A third patch zeroes the MLP
outputs at the city's position only. The positive control is the *full swap* (embedding and every
attention and MLP output at the city's position from the partner): it must give the partner's capital,
or the split into the two parts tells nothing.
"""

from __future__ import annotations

from collections import defaultdict

import torch

from attrgraph_cli.demo_model.evaluate import encode_prompt
from attrgraph_cli.demo_model.facts import HELD_OUT_CITIES, REGIONS

TEMPLATE = "The capital of the {kind} containing {city} is"


def _cases() -> list[dict]:
    """Every (city, partner city) pair: the partner is the first city of the next region of the same kind."""
    cases = []
    for kind in ("state", "country"):
        regions = [r for r in REGIONS if r.kind == kind]
        for i, region in enumerate(regions):
            partner = regions[(i + 1) % len(regions)]
            for city in region.cities:
                cases.append(
                    {
                        "city": city,
                        "answer": region.capital,
                        "partner": partner.cities[0],
                        "partner_answer": partner.capital,
                        "held_out": city in HELD_OUT_CITIES,
                        "prompt": TEMPLATE.format(kind=kind, city=city),
                        "partner_prompt": TEMPLATE.format(kind=kind, city=partner.cities[0]),
                    }
                )
    return cases


def _hook_names(n_layers: int) -> list[str]:
    return [f"blocks.{i}.hook_{part}_out" for i in range(n_layers) for part in ("attn", "mlp")]


@torch.no_grad()
def _patched_top(model, tokens, pos: int, source: dict, names: list[str]) -> torch.Tensor:
    """Top token at the last position with `names` at position `pos` set from the cached `source`."""

    def put(acts, hook):
        acts = acts.clone()
        acts[:, pos] = source[hook.name][:, pos]
        return acts

    logits = model.run_with_hooks(tokens, fwd_hooks=[(name, put) for name in names])
    return logits[:, -1].argmax(-1)


@torch.no_grad()
def city_lookup(model) -> dict:
    """The patches and their control on every city's capital question; rates over the cases it gets right."""
    tok = model.tokenizer
    names = _hook_names(model.cfg.n_layers)
    cases = _cases()
    encoded = [(encode_prompt(tok, c["prompt"]), encode_prompt(tok, c["partner_prompt"])) for c in cases]
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, (ids, partner_ids) in enumerate(encoded):
        if len(ids) == len(partner_ids) and len(ids) >= 3:
            by_len[len(ids)].append(i)
    wanted = ["hook_embed", *names]
    for length, idxs in by_len.items():
        pos = length - 2  # the city: the token before "is"
        tokens = torch.tensor([encoded[i][0] for i in idxs])
        partner = torch.tensor([encoded[i][1] for i in idxs])
        base_logits, own = model.run_with_cache(tokens, names_filter=wanted)
        _, other = model.run_with_cache(partner, names_filter=wanted)
        base = base_logits[:, -1]
        probs = torch.softmax(base, -1)

        def zero_mlp(acts, hook, pos=pos):
            acts = acts.clone()
            acts[:, pos] = 0
            return acts

        mlp_names = [n for n in names if n.endswith("mlp_out")]
        zeroed = model.run_with_hooks(tokens, fwd_hooks=[(n, zero_mlp) for n in mlp_names])[:, -1].argmax(-1)
        # embedding swap: partner's embedding, this prompt's attention/MLP outputs frozen at the city
        merged = {"hook_embed": other["hook_embed"], **{n: own[n] for n in names}}
        embedding_swap = _patched_top(model, tokens, pos, merged, wanted)
        computation_swap = _patched_top(model, tokens, pos, {n: other[n] for n in names}, names)
        full_swap = _patched_top(model, tokens, pos, other, wanted)
        for row, i in enumerate(idxs):
            case = cases[i]
            answer_id = tok.convert_tokens_to_ids(case["answer"])
            partner_id = tok.convert_tokens_to_ids(case["partner_answer"])
            case.update(
                position=pos,
                correct=int(base[row].argmax()) == answer_id,
                answer_probability=float(probs[row, answer_id]),
                kept_with_city_mlps_zeroed=int(zeroed[row]) == answer_id,
                embedding_swap_gives_partner=int(embedding_swap[row]) == partner_id,
                computation_swap_gives_partner=int(computation_swap[row]) == partner_id,
                full_swap_gives_partner=int(full_swap[row]) == partner_id,
                embedding_swap_top=tok.convert_ids_to_tokens(int(embedding_swap[row])),
                computation_swap_top=tok.convert_ids_to_tokens(int(computation_swap[row])),
            )
    measured = [c for c in cases if "correct" in c]
    right = [c for c in measured if c["correct"]]

    def rate(key: str, rows: list[dict]) -> float | None:
        return sum(c[key] for c in rows) / len(rows) if rows else None

    keys = (
        "kept_with_city_mlps_zeroed",
        "embedding_swap_gives_partner",
        "computation_swap_gives_partner",
        "full_swap_gives_partner",
    )
    return {
        "template": TEMPLATE,
        "n_cases": len(measured),
        "n_correct": len(right),
        "rates": {key: rate(key, right) for key in keys},
        "rates_held_out": {key: rate(key, [c for c in right if c["held_out"]]) for key in keys},
        "n_correct_held_out": sum(c["held_out"] for c in right),
        "dallas": next((c for c in measured if c["city"] == "Dallas"), None),
    }
