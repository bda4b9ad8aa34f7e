"""The demo language model's architecture and its training loop (TransformerLens HookedTransformer)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig

from attrgraph_cli.demo_model.corpus import CorpusGenerator


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


def train_lm(settings: LMSettings, tokenizer, log=print) -> HookedTransformer:
    """Train the language model from scratch on the seeded corpus stream (next-token loss, all positions)."""
    torch.manual_seed(settings.seed)
    model = HookedTransformer(model_config(settings, len(tokenizer)))
    gen = CorpusGenerator(seed=settings.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)

    def lr_at(step: int) -> float:
        if step < settings.warmup:
            return (step + 1) / settings.warmup
        progress = (step - settings.warmup) / max(1, settings.steps - settings.warmup)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    start = time.perf_counter()
    model.train()
    for step in range(settings.steps):
        tokens = batch_tokens(gen, tokenizer, settings.batch_size, settings.seq_len)
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
