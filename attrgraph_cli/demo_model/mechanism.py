"""How the demo model carries a city's region to the answer, measured on every city's capital question.

- *Direction*: layer 0's MLP output at the city's position (centred over all cities): mean cosine between
  two cities of the same region against two cities of different regions.
- *Patch*: that output replaced by the mean of the partner region's cities (the next region of the same
  kind): how often the answer becomes the partner's capital.
- *Reader*: per layer, the last position's attention to the city's position cut (its pattern weight set to
  0): how often the answer survives. The layer whose cut breaks it is the one that reads the region.
- *Features*: transcoder features of layers 0 and 1 at the city's position that fire on the cities of
  exactly one region (all of them, no other city): a per-region "state feature" would show here; and
  the cities on which given features (the graph's strongest "Texas" ones) fire.
"""

from __future__ import annotations

from collections import defaultdict

import torch

from attrgraph_cli.demo_model.city_lookup import _cases
from attrgraph_cli.demo_model.evaluate import encode_prompt
from attrgraph_cli.demo_model.facts import REGIONS


def _region_of() -> dict[str, str]:
    return {city: r.name for r in REGIONS for city in r.cities}


@torch.no_grad()
def mechanism(
    model, feature_layers: tuple[int, ...] = (0, 1), watch: tuple[tuple[int, int], ...] = ()
) -> dict:
    """The four measurements above (rates over the cases the model answers right); for each (layer, feature)
    of `watch` (its layer among `feature_layers`), the cities whose question makes it fire at the city."""
    tok = model.tokenizer
    region = _region_of()
    cases = _cases()
    enc = [encode_prompt(tok, c["prompt"]) for c in cases]
    mlp0, feats, correct = _read_city_position(model, cases, enc, feature_layers)
    order = sorted(mlp0)
    regions = [region[cases[i]["city"]] for i in order]
    within, across = _region_cosines(torch.stack([mlp0[i] for i in order]), regions)
    # patch: the partner region's mean MLP0 output at the city's position
    means = {
        r: torch.stack([mlp0[i] for i, g in zip(order, regions, strict=True) if g == r]).mean(0)
        for r in set(regions)
    }
    right = [i for i in order if correct[i]]
    patched_ok, reader_kept, all_cut_kept = _interventions(model, cases, enc, right, means, region)
    one_region, subset, exact_regions = _region_features(feats, order, cases, feature_layers)
    fires_on = {}
    for layer, f in watch:
        if layer in feature_layers:
            on = [(cases[i]["city"], float(feats[i][layer][f])) for i in order if feats[i][layer][f] > 0]
            fires_on[f"{layer}_{f}"] = [{"city": c, "region": region[c], "activation": a} for c, a in on]
    n = max(1, len(right))
    return {
        "n_cases": len(order),
        "n_correct": len(right),
        "mlp0_cosine_within_region": within,
        "mlp0_cosine_across_regions": across,
        "partner_mean_patch_gives_partner": patched_ok / n,
        "n_patched": len(right),
        "answer_kept_with_city_attention_cut": [k / n for k in reader_kept],
        "answer_kept_with_city_attention_cut_in_every_layer": all_cut_kept / n,
        "features_on_exactly_one_region": {str(k): v for k, v in one_region.items()},
        "features_on_exactly_one_region_which": exact_regions,
        "watched_features_fire_on": fires_on,
        "features_on_two_or_more_cities_of_one_region_only": {str(k): v for k, v in subset.items()},
    }


def _read_city_position(model, cases: list[dict], enc: list[list[int]], feature_layers: tuple[int, ...]):
    """Per case, at the city's position: MLP0's output, the transcoders' features of `feature_layers`, and
    whether the model answers right (prompts batched by length)."""
    tok = model.tokenizer
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, ids in enumerate(enc):
        by_len[len(ids)].append(i)
    mlp0: dict[int, torch.Tensor] = {}
    feats: dict[int, dict[int, torch.Tensor]] = {}
    correct: dict[int, bool] = {}
    names = {"blocks.0.hook_mlp_out"} | {f"blocks.{layer}.mlp.hook_in" for layer in feature_layers}
    for length, idxs in by_len.items():
        pos = length - 2
        tokens = torch.tensor([enc[i] for i in idxs])
        logits, cache = model.run_with_cache(tokens, names_filter=lambda n: n in names)
        top = logits[:, -1].argmax(-1)
        for row, i in enumerate(idxs):
            mlp0[i] = cache["blocks.0.hook_mlp_out"][row, pos].float()
            correct[i] = int(top[row]) == tok.convert_tokens_to_ids(cases[i]["answer"])
            feats[i] = {
                layer: model.transcoders[layer].encode(
                    cache[f"blocks.{layer}.mlp.hook_in"][row, pos : pos + 1]
                )[0]
                for layer in feature_layers
            }
    return mlp0, feats, correct


def _region_cosines(vecs: torch.Tensor, regions: list[str]) -> tuple[float, float]:
    """Mean cosine of the centred MLP0 outputs within a region and across regions."""
    centred = vecs - vecs.mean(0)
    unit = centred / centred.norm(dim=1, keepdim=True).clamp_min(1e-9)
    cos = unit @ unit.T
    same = torch.tensor([[a == b for b in regions] for a in regions])
    off = ~torch.eye(len(regions), dtype=torch.bool)
    return float(cos[same & off].mean()), float(cos[~same].mean())


def _interventions(model, cases, enc, right: list[int], means: dict, region: dict[str, str]):
    """On the cases answered right: the partner region's mean patched in (gives the partner's answer?),
    and the last position's attention to the city cut per layer and in every layer (answer kept?)."""
    tok = model.tokenizer
    n_layers = model.cfg.n_layers
    patched_ok = 0
    reader_kept = [0] * n_layers
    all_cut_kept = 0
    for i in right:
        case = cases[i]
        pos = len(enc[i]) - 2
        tokens = torch.tensor([enc[i]])
        partner_region = region[case["partner"]]

        def put(acts, hook, pos=pos, vec=means[partner_region]):
            acts = acts.clone()
            acts[:, pos] = vec
            return acts

        top = model.run_with_hooks(tokens, fwd_hooks=[("blocks.0.hook_mlp_out", put)])[0, -1].argmax()
        patched_ok += int(top) == tok.convert_tokens_to_ids(case["partner_answer"])
        answer_id = tok.convert_tokens_to_ids(case["answer"])
        for layer in range(n_layers):

            def cut(pattern, hook, pos=pos):
                pattern = pattern.clone()
                pattern[:, :, -1, pos] = 0
                return pattern

            logits = model.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_pattern", cut)])
            reader_kept[layer] += int(logits[0, -1].argmax()) == answer_id
        every_layer = [(f"blocks.{layer}.attn.hook_pattern", cut) for layer in range(n_layers)]
        all_cut_kept += int(model.run_with_hooks(tokens, fwd_hooks=every_layer)[0, -1].argmax()) == answer_id
    return patched_ok, reader_kept, all_cut_kept


def _region_features(feats, order: list[int], cases, feature_layers: tuple[int, ...]):
    """Per layer: features firing on exactly one region's cities (and which), and features firing on two or
    more cities of one region only."""
    cities_of = {r.name: set(r.cities) for r in REGIONS}
    one_region: dict[int, int] = {}
    subset: dict[int, int] = {}
    exact_regions: list[str] = []
    for layer in feature_layers:
        acts = torch.stack([feats[i][layer] for i in order])  # cities x features
        exact = within_one = 0
        for f in range(acts.shape[1]):
            firing = {cases[order[j]]["city"] for j in torch.nonzero(acts[:, f] > 0).flatten().tolist()}
            hit = [name for name, cities in cities_of.items() if firing == cities]
            if hit:
                exact += 1
                exact_regions.append(f"L{layer} #{f}: {hit[0]}")
            if len(firing) >= 2 and any(firing <= cities for cities in cities_of.values()):
                within_one += 1
        one_region[layer] = exact
        subset[layer] = within_one
    return one_region, subset, exact_regions
