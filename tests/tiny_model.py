"""Build a tiny random-weight model for `attrgraph trace` tests: no hub, no download, seconds on a CPU.

`build_tiny_model(folder)` writes, all inside `folder`:
- `tokenizer/`: a word-level tokenizer (whitespace split, `<unk>` for unknown words), saved with
  `save_pretrained` so that TransformerLens reloads it from disk; BOS has id 1 (circuit-tracer picks the first
  *truthy* special-token id, so a BOS of id 0 would be skipped);
- `transcoders/`: one random JumpReLU transcoder per layer (`layer_{i}.safetensors`) plus `config.yaml`, the
  folder format circuit-tracer loads from a path;
- `model.safetensors` + `attrgraph-model.json`: the HookedTransformer weights and config, the local-folder
  format `attrgraph trace --model FOLDER` reads (see attrgraph_cli/trace/models.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

WORDS = (
    "the capital of state containing dallas is austin texas city in a an and to was were it that "
    "fact paris france berlin germany river mountain small large red blue green cat dog house tree "
    "quick brown fox jumps over lazy one two three four five six seven eight nine ten"
).split()
SPECIALS = ["<unk>", "<bos>", "<eos>", "<pad>"]


@dataclass(frozen=True)
class TinyModel:
    folder: Path
    tokenizer_dir: Path
    transcoders_dir: Path
    n_layers: int
    d_model: int
    d_transcoder: int
    n_ctx: int
    vocab: list[str]


def build_tokenizer(folder: Path):
    """A word-level fast tokenizer over `WORDS` (capitalised forms included), saved to `folder`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted(set(WORDS) | {w.capitalize() for w in WORDS})
    vocab = {tok: i for i, tok in enumerate(SPECIALS + words)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", unk_token="<unk>"
    )
    folder.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(str(folder))
    return SPECIALS + words


def build_transcoders(folder: Path, n_layers: int, d_model: int, d_transcoder: int, seed: int = 0) -> None:
    """Random per-layer JumpReLU transcoders in circuit-tracer's folder format."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed + 1)
    for layer in range(n_layers):
        tensors = {
            "W_enc": torch.randn(d_transcoder, d_model, generator=gen) / d_model**0.5,
            "W_dec": torch.randn(d_transcoder, d_model, generator=gen) / d_transcoder**0.5,
            "b_enc": torch.randn(d_transcoder, generator=gen) * 0.1 - 0.2,
            "b_dec": torch.zeros(d_model),
            "activation_function.threshold": torch.full((d_transcoder,), 0.05),
        }
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / f"layer_{layer}.safetensors"))
    (folder / "config.yaml").write_text(
        "model_kind: transcoder_set\n"
        "feature_input_hook: mlp.hook_in\n"
        "feature_output_hook: mlp.hook_out\n"
        "scan: tiny-random-transcoders\n"
    )


def build_tiny_model(
    folder: Path,
    *,
    n_layers: int = 2,
    d_model: int = 64,
    d_transcoder: int = 256,
    n_ctx: int = 24,
    seed: int = 0,
) -> TinyModel:
    """Write a complete tiny model (tokenizer, weights, transcoders) into `folder` and describe it."""
    import torch
    from safetensors.torch import save_file
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    folder = Path(folder)
    tok_dir = folder / "tokenizer"
    vocab = build_tokenizer(tok_dir)
    config = {
        "n_layers": n_layers,
        "d_model": d_model,
        "d_head": 16,
        "n_heads": d_model // 16,
        "d_mlp": 4 * d_model,
        "n_ctx": n_ctx,
        "d_vocab": len(vocab),
        "act_fn": "gelu",
        "normalization_type": "LN",
        "positional_embedding_type": "standard",
        "model_name": "tiny-random",
        "seed": seed,
    }
    torch.manual_seed(seed)
    model = HookedTransformer(HookedTransformerConfig(**config))
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items() if not k.endswith(".IGNORE")}
    save_file(state, str(folder / "model.safetensors"))
    build_transcoders(folder / "transcoders", n_layers, d_model, d_transcoder, seed)
    (folder / "attrgraph-model.json").write_text(
        json.dumps(
            {
                "format": "attrgraph-hooked-transformer/1",
                "config": config,
                "weights": "model.safetensors",
                "tokenizer": "tokenizer",
                "transcoders": "transcoders",
            },
            indent=2,
        )
    )
    return TinyModel(folder, tok_dir, folder / "transcoders", n_layers, d_model, d_transcoder, n_ctx, vocab)
