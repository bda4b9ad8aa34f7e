"""Load the shipped demo model: tokenizer, HookedTransformer weights and circuit-tracer transcoders.

Public API (used by `attrgraph trace` when no --model is given, and by other stages' tests):

- `demo_model_dir()` -> the folder of shipped files (tokenizer, model, transcoders/, MODEL_CARD.md);
- `load_tokenizer()` -> the word-level `PreTrainedTokenizerFast`, read from that folder only;
- `load_hooked_transformer()` -> the plain TransformerLens model with the trained weights;
- `load_replacement_model(device="cpu", dtype=torch.float32)` -> circuit-tracer's `ReplacementModel`,
  its transcoders read by circuit-tracer's own loader from `transcoders/config.yaml`.

Nothing here touches the network; torch and circuit-tracer are imported inside the functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrgraph_cli.errors import AttrgraphError

if TYPE_CHECKING:
    import torch

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "model_config.json"
TRANSCODER_DIR = "transcoders"
DEMO_MODEL_NAME = "attrgraph-demo"


class DemoModelMissing(AttrgraphError):
    """The demo model's files are not in this installation (run `make demo-model`)."""


def demo_model_dir(folder: Path | None = None, transcoders: bool = True) -> Path:
    """The folder holding the demo model's files; raises `DemoModelMissing` if it is incomplete."""
    folder = WEIGHTS_DIR if folder is None else Path(folder)
    needed = [MODEL_FILE, CONFIG_FILE, "tokenizer.json"]
    if transcoders:
        needed.append(f"{TRANSCODER_DIR}/config.yaml")
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise DemoModelMissing(
            f"demo model files missing in {folder}: {', '.join(missing)} (run `make demo-model`)"
        )
    return folder


def load_tokenizer(folder: Path | None = None):
    """The demo model's word-level tokenizer (`PreTrainedTokenizerFast`; [BOS] id 2), from disk only."""
    from attrgraph_cli.demo_model.tokenizer import load_tokenizer_from

    return load_tokenizer_from(demo_model_dir(folder, transcoders=False))


def load_model_config(folder: Path | None = None, device: str = "cpu", dtype: torch.dtype | None = None):
    """The `HookedTransformerConfig` stored in model_config.json."""
    import torch
    from transformer_lens import HookedTransformerConfig

    fields: dict[str, Any] = json.loads((demo_model_dir(folder, transcoders=False) / CONFIG_FILE).read_text())
    return HookedTransformerConfig(**fields, device=device, dtype=dtype or torch.float32)


def _state_dict(folder: Path, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return {
        k: v.to(dtype) if v.is_floating_point() else v for k, v in load_file(str(folder / MODEL_FILE)).items()
    }


def load_hooked_transformer(
    folder: Path | None = None, device: str = "cpu", dtype: torch.dtype | None = None
):
    """The trained `HookedTransformer` (no transcoders), in eval mode."""
    import torch
    from transformer_lens import HookedTransformer

    folder = demo_model_dir(folder, transcoders=False)
    dtype = dtype or torch.float32
    cfg = load_model_config(folder, device, dtype)
    model = HookedTransformer(cfg, tokenizer=load_tokenizer(folder))
    model.load_state_dict(_state_dict(folder, dtype), strict=True)
    return model.to(device).eval()


def load_transcoders(folder: Path | None = None, device: str = "cpu", dtype: torch.dtype | None = None):
    """The transcoder set, read by circuit-tracer's `load_transcoders` from `transcoders/config.yaml`."""
    import torch
    import yaml
    from circuit_tracer.utils.hf_utils import load_transcoders as ct_load_transcoders

    tc_dir = demo_model_dir(folder) / TRANSCODER_DIR
    config = yaml.safe_load((tc_dir / "config.yaml").read_text())
    # The config lists files relative to its folder; circuit-tracer wants paths it can open directly.
    config["transcoders"] = [str(tc_dir / name) for name in config["transcoders"]]
    return ct_load_transcoders(
        config,
        device=torch.device(device),
        dtype=dtype or torch.float32,
        lazy_encoder=False,
        lazy_decoder=False,
    )


def load_replacement_model(device: str = "cpu", dtype: torch.dtype | None = None, folder: Path | None = None):
    """circuit-tracer's `ReplacementModel` of the demo model, ready for `circuit_tracer.attribute`.

    Built with `ReplacementModel.from_config` (which wraps each MLP and the unembedding), then the trained
    weights are loaded under the wrapped names (`blocks.i.mlp.old_mlp.*`, `unembed.old_unembed.*`).
    """
    import torch
    from circuit_tracer import ReplacementModel

    folder = demo_model_dir(folder)
    dtype = dtype or torch.float32
    cfg = load_model_config(folder, device, dtype)
    transcoders = load_transcoders(folder, device, dtype)
    model = ReplacementModel.from_config(cfg, transcoders, tokenizer=load_tokenizer(folder))
    renamed = {_wrapped_name(k): v for k, v in _state_dict(folder, dtype).items()}
    missing, unexpected = model.load_state_dict(renamed, strict=False)
    bad_missing = [k for k in missing if not k.startswith("transcoders.")]
    if bad_missing or unexpected:
        raise DemoModelMissing(
            "demo model weights do not fit the architecture: "
            f"missing {bad_missing[:3]}, unexpected {unexpected[:3]}"
        )
    model.to(device)
    model.eval()
    from attrgraph_cli.demo_model.teardown import quiet_at_exit

    return quiet_at_exit(model)  # no `Exception ignored in __del__` when a script ends holding it


def _wrapped_name(key: str) -> str:
    """Map a HookedTransformer weight name to its name inside circuit-tracer's wrapped modules."""
    parts = key.split(".")
    if len(parts) > 2 and parts[0] == "blocks" and parts[2] == "mlp":
        return ".".join([*parts[:3], "old_mlp", *parts[3:]])
    if parts[0] == "unembed":
        return ".".join(["unembed", "old_unembed", *parts[1:]])
    return key
