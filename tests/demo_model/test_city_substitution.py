"""The LM's city substitution: beyond its own layer-0 MLP, the model sees another city at a substituted
position (layer-0 attention values, the residual stream from layer 1 on); nothing else changes."""

from __future__ import annotations

import torch
from transformer_lens import HookedTransformer

from attrgraph_cli.demo_model.lm import (
    LMSettings,
    city_substitution_hooks,
    city_token_ids,
    model_config,
    substitute_cities,
)
from attrgraph_cli.demo_model.tokenizer import build_tokenizer, wrap_fast


def _probe(model, tokens, shown):
    seen: dict[str, torch.Tensor] = {}

    def keep(name):
        def hook(act, hook):
            seen[name] = act.detach().clone()

        return hook

    probes = [
        ("blocks.0.attn.hook_v", keep("v")),
        ("blocks.0.hook_mlp_out", keep("mlp0")),
        ("blocks.0.hook_resid_post", keep("resid0")),
        ("blocks.1.hook_resid_pre", keep("resid1")),
    ]
    hooks = city_substitution_hooks(model, tokens, shown) if shown is not None else []
    with torch.no_grad(), model.hooks(fwd_hooks=hooks + probes):
        model(tokens)
    return seen


def test_a_substituted_city_is_seen_as_the_other_city_except_by_its_layer0_mlp():
    tokenizer = wrap_fast(build_tokenizer())
    torch.manual_seed(0)
    settings = LMSettings(n_layers=2, d_model=32, n_heads=2, d_mlp=64)
    model = HookedTransformer(model_config(settings, len(tokenizer)))
    text = "The city of Dallas Texas . We visited Lyon France"
    tokens = torch.tensor([tokenizer(text).input_ids])
    other = torch.tensor([tokenizer(text.replace("Dallas", "Fresno")).input_ids])
    dallas = tokens[0].tolist().index(tokenizer.convert_tokens_to_ids("Dallas"))

    plain, as_fresno = _probe(model, tokens, None), _probe(model, other, None)
    substituted = _probe(model, tokens, other)
    # layer-0 attention reads Fresno's value at the city, the true values elsewhere
    torch.testing.assert_close(substituted["v"][0, dallas], as_fresno["v"][0, dallas])
    keep = torch.ones(tokens.shape[1], dtype=torch.bool)
    keep[dallas] = False
    torch.testing.assert_close(substituted["v"][0, keep], plain["v"][0, keep])
    # from layer 1 on the residual stream holds Fresno's embedding at the city, nothing else is touched
    moved = substituted["resid1"] - substituted["resid0"]
    expected = torch.zeros_like(moved)
    expected[0, dallas] = model.W_E[other[0, dallas]] - model.W_E[tokens[0, dallas]]
    torch.testing.assert_close(moved, expected.detach())
    # the city's own layer-0 MLP still reads the true embedding: its output is not Fresno's
    assert not torch.allclose(substituted["mlp0"][0, dallas], as_fresno["mlp0"][0, dallas])


def test_substitute_cities_replaces_only_cities_and_never_by_themselves():
    tokenizer = wrap_fast(build_tokenizer())
    cities = city_token_ids(tokenizer)
    assert len(set(cities.tolist())) == len(cities) and tokenizer.unk_token_id not in cities.tolist()
    text = "The capital of the state containing Dallas is Austin . We visited Lyon France . 3 + 4 = 7"
    tokens = torch.tensor([tokenizer(text).input_ids] * 200)
    is_city = torch.isin(tokens, cities)
    gen = torch.Generator().manual_seed(0)
    shown = substitute_cities(tokens, cities, 1.0, gen)
    assert torch.equal(shown[~is_city], tokens[~is_city])
    assert bool((shown[is_city] != tokens[is_city]).all()) and bool(torch.isin(shown[is_city], cities).all())
    assert len(set(shown[:, tokens[0].tolist().index(int(tokens[0][is_city[0]][0]))].tolist())) > 50
    assert torch.equal(substitute_cities(tokens, cities, 0.0, gen), tokens)
    half = substitute_cities(tokens, cities, 0.5, gen)
    assert 0.35 < float((half != tokens)[is_city].float().mean()) < 0.65
