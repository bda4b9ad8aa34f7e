"""The demo language model's architecture and its training loop (TransformerLens HookedTransformer)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig

from attrgraph_cli.demo_model.corpus import CorpusGenerator
from attrgraph_cli.demo_model.facts import REGIONS


@dataclass
class LMSettings:
    n_layers: int = 4
    d_model: int = 128
    n_heads: int = 4
    d_mlp: int = 512
    n_ctx: int = 64
    seq_len: int = 32
    batch_size: int = 64
    steps: int = 800
    lr: float = 3e-3
    weight_decay: float = 0.01
    warmup: int = 100
    seed: int = 0
    # Curriculum and city substitution: they make the model look a city's region up *at the city's
    # position* (not at the end of the question), so the graph has region features on the city token.
    two_hop_from_step: int = 300
    city_substitution: float = 1.0
    # Token embeddings start at this norm and are not decayed, so at a city's position the token outweighs
    # what layer-0 attention adds (~5): the layer-0 MLP's input is then mostly the city, and its
    # transcoder can learn features that fire on one region's cities (the default init gives norm ~1).
    embedding_norm: float = 16.0


def model_config(settings: LMSettings, d_vocab: int) -> HookedTransformerConfig:
    """The HookedTransformerConfig: pre-LayerNorm, attention + GELU MLP, learned positions."""
    return HookedTransformerConfig(
        n_layers=settings.n_layers,
        d_model=settings.d_model,
        n_heads=settings.n_heads,
        d_head=settings.d_model // settings.n_heads,
        d_mlp=settings.d_mlp,
        d_vocab=d_vocab,
        n_ctx=settings.n_ctx,
        act_fn="gelu",
        normalization_type="LN",
        positional_embedding_type="standard",
        model_name="attrgraph-demo",
        seed=settings.seed,
        device="cpu",
    )


def config_to_dict(cfg: HookedTransformerConfig) -> dict:
    """The fields needed to rebuild the config (written to model_config.json)."""
    keys = ("n_layers", "d_model", "n_heads", "d_head", "d_mlp", "d_vocab", "n_ctx", "act_fn")
    out = {k: getattr(cfg, k) for k in keys}
    out.update(normalization_type=cfg.normalization_type, model_name=cfg.model_name)
    out["positional_embedding_type"] = cfg.positional_embedding_type
    return out


def batch_tokens(gen: CorpusGenerator, tokenizer, batch_size: int, seq_len: int) -> torch.Tensor:
    """`batch_size` rows of [BOS] + statements, cut to `seq_len` tokens."""
    rows = []
    for _ in range(batch_size):
        ids: list[int] = []
        while len(ids) < seq_len:
            ids = tokenizer(gen.document(8), add_special_tokens=True).input_ids
        rows.append(ids[:seq_len])
    return torch.tensor(rows, dtype=torch.long)


def city_substitution_hooks(model: HookedTransformer, tokens: torch.Tensor, shown: torch.Tensor) -> list:
    """Hooks that show the rest of the model another city's token wherever `shown` differs from `tokens`.

    At such a position the token embedding in the residual stream from layer 1 on, and the value that
    layer-0 attention reads there (by later positions and by the city itself), are those of the token in
    `shown`. Only the city's own layer-0 MLP input keeps the true embedding, so what the model needs to
    know about the city (its region: the next token of "The city of Dallas") has to be computed there
    and read from there; reading the token itself later gives a wrong, random city. Training only; the
    saved model is a plain HookedTransformer.
    """
    swapped = shown != tokens
    n = tokens.shape[1]

    def shown_values(v, hook):
        resid = model.W_E[shown] + model.W_pos[:n][None]
        attn = model.blocks[0].attn
        v_shown = torch.einsum("bpd,hdk->bphk", model.blocks[0].ln1(resid), attn.W_V) + attn.b_V
        return torch.where(swapped[:, :, None, None], v_shown, v)

    def shown_embedding(resid, hook):
        return resid + (model.W_E[shown] - model.W_E[tokens])

    return [("blocks.0.attn.hook_v", shown_values), ("blocks.1.hook_resid_pre", shown_embedding)]


def substitute_cities(
    tokens: torch.Tensor, cities: torch.Tensor, rate: float, generator: torch.Generator
) -> torch.Tensor:
    """`tokens` with each city token replaced, with probability `rate`, by a different random city."""
    index_of = torch.full((int(max(int(tokens.max()), int(cities.max())) + 1),), -1, dtype=torch.long)
    index_of[cities] = torch.arange(len(cities))
    where = index_of[tokens]
    chosen = (where >= 0) & (torch.rand(tokens.shape, generator=generator) < rate)
    offset = torch.randint(1, len(cities), tokens.shape, generator=generator)
    out = tokens.clone()
    out[chosen] = cities[(where[chosen] + offset[chosen]) % len(cities)]
    return out


def city_token_ids(tokenizer) -> torch.Tensor:
    """The token ids of every city of the fact table."""
    cities = [city for region in REGIONS for city in region.cities]
    return torch.tensor(tokenizer.convert_tokens_to_ids(cities), dtype=torch.long)


def train_lm(settings: LMSettings, tokenizer, log=print) -> HookedTransformer:
    """Train the language model from scratch on the seeded corpus stream (next-token loss, all positions).

    Two-hop questions join the stream at `settings.two_hop_from_step`; in every batch each city token
    is shown to the model beyond its own layer-0 MLP as another city with probability
    `settings.city_substitution` (`city_substitution_hooks`).
    """
    torch.manual_seed(settings.seed)
    model = HookedTransformer(model_config(settings, len(tokenizer)))
    with torch.no_grad():
        model.W_E.normal_(0.0, settings.embedding_norm / settings.d_model**0.5)
    gen = CorpusGenerator(seed=settings.seed)
    cities = city_token_ids(tokenizer)
    substitution_gen = torch.Generator().manual_seed(settings.seed + 7)
    decayed = [p for name, p in model.named_parameters() if name != "embed.W_E"]
    groups = [
        {"params": decayed, "weight_decay": settings.weight_decay},
        {"params": [model.W_E], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=settings.lr)

    def lr_at(step: int) -> float:
        if step < settings.warmup:
            return (step + 1) / settings.warmup
        progress = (step - settings.warmup) / max(1, settings.steps - settings.warmup)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    start = time.perf_counter()
    model.train()
    for step in range(settings.steps):
        gen.held_back = {"two_hop"} if step < settings.two_hop_from_step else set()
        tokens = batch_tokens(gen, tokenizer, settings.batch_size, settings.seq_len)
        shown = substitute_cities(tokens, cities, settings.city_substitution, substitution_gen)
        with model.hooks(fwd_hooks=city_substitution_hooks(model, tokens, shown)):
            loss = model(tokens, return_type="loss")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == settings.steps - 1:
            log(f"lm step {step:5d}  loss {loss.item():.3f}  {time.perf_counter() - start:.0f}s")
    model.eval()
    return model
