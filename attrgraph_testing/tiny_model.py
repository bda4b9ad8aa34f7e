"""Build a tiny random-weight model for `attrgraph trace` tests: no hub, no download, seconds on a CPU.

`build_tiny_model(folder)` writes, all inside `folder`:
- `tokenizer/`: a word-level tokenizer (whitespace split, `<unk>` for unknown words), saved with
  `save_pretrained` so that TransformerLens reloads it from disk; BOS has id 1 (circuit-tracer picks the first
  *truthy* special-token id, so a BOS of id 0 would be skipped);
- `transcoders/`: one random JumpReLU transcoder per layer (`layer_{i}.safetensors`) plus `config.yaml`, the
  folder format circuit-tracer loads from a path;
- `model.safetensors` + `attrgraph-model.json`: the HookedTransformer weights and config, the local-folder
  format `attrgraph trace --model FOLDER` reads (see attrgraph_cli/models/local.py).
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


def build_transcoders(
    folder: Path, n_layers: int, d_model: int, d_transcoder: int, seed: int = 0, enc_bias: float = -0.2
) -> None:
    """Random per-layer JumpReLU transcoders in circuit-tracer's folder format.

    Encoder pre-activations are about N(enc_bias, 1): -0.2 makes ~40% of features active (dense graphs from
    a few features), -2 about 2% (the sparsity of trained transcoders)."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed + 1)
    for layer in range(n_layers):
        tensors = {
            "W_enc": torch.randn(d_transcoder, d_model, generator=gen) / d_model**0.5,
            "W_dec": torch.randn(d_transcoder, d_model, generator=gen) / d_transcoder**0.5,
            "b_enc": torch.randn(d_transcoder, generator=gen) * 0.1 + enc_bias,
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
    enc_bias: float = -0.2,
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
    build_transcoders(folder / "transcoders", n_layers, d_model, d_transcoder, seed, enc_bias)
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


def build_gemma2_like(
    tokenizer_dir: Path,
    device: str,
    *,
    n_layers: int = 26,
    d_model: int = 2304,
    d_head: int = 256,
    n_heads: int = 8,
    n_key_value_heads: int = 4,
    d_mlp: int = 9216,
    d_vocab: int = 256000,
    d_transcoder: int = 16384,
):
    """A ReplacementModel with gemma-2's architecture (gemma-2-2b's shapes by default), random weights and
    random JumpReLU transcoders, built in memory (nothing written, nothing downloaded)."""
    import torch
    from circuit_tracer import ReplacementModel
    from circuit_tracer.transcoder.activation_functions import JumpReLU
    from circuit_tracer.transcoder.single_layer_transcoder import SingleLayerTranscoder, TranscoderSet
    from transformer_lens import HookedTransformerConfig
    from transformers import AutoTokenizer

    cfg = HookedTransformerConfig(
        model_name="gemma-2-2b-random",
        n_layers=n_layers,
        d_model=d_model,
        d_head=d_head,
        n_heads=n_heads,
        n_key_value_heads=n_key_value_heads,
        d_mlp=d_mlp,
        d_vocab=d_vocab,
        n_ctx=1024,
        act_fn="gelu_pytorch_tanh",
        normalization_type="RMS",
        positional_embedding_type="rotary",
        rotary_dim=d_head,
        rotary_base=10000,
        gated_mlp=True,
        use_normalization_before_and_after=True,
        attn_scores_soft_cap=50.0,
        output_logits_soft_cap=30.0,
        final_rms=True,
        tokenizer_name=str(tokenizer_dir),
        device=device,
        dtype=torch.float32,
    )
    gen = torch.Generator(device=device).manual_seed(0)
    layers = {}
    for layer in range(cfg.n_layers):
        tc = SingleLayerTranscoder(
            cfg.d_model,
            d_transcoder,
            JumpReLU(torch.full((d_transcoder,), 0.05, device=device), 0.1),
            layer,
            device=torch.device(device),
            dtype=torch.float32,
        )
        with torch.no_grad():
            tc.W_enc.normal_(0, cfg.d_model**-0.5, generator=gen)
            tc.W_dec.normal_(0, d_transcoder**-0.5, generator=gen)
            tc.b_enc.normal_(-0.2, 0.1, generator=gen)
        layers[layer] = tc
    transcoders = TranscoderSet(layers, "mlp.hook_in", "mlp.hook_out", scan="gemma-2-2b-random-16k")
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir), add_bos_token=True)
    return ReplacementModel.from_config(cfg, transcoders, backend="transformerlens", tokenizer=tokenizer)


def build_tiny_hf_llama(folder: Path, *, n_layers: int = 2, d_model: int = 64, seed: int = 0) -> Path:
    """A tiny random `LlamaForCausalLM` saved as a transformers checkpoint (+ tokenizer, + `transcoders/`):
    what `--model FOLDER --backend nnsight` loads."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    vocab = build_tokenizer(folder)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=d_model,
        intermediate_size=2 * d_model,
        num_hidden_layers=n_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=32,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=3,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(str(folder))
    build_transcoders(folder / "transcoders", n_layers, d_model, 128, seed)
    return folder
