"""What the user asked for (`ModelRequest`), what was loaded (`LoadedModel`), and the device and dtype."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import AttrgraphError

DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "float16": "float16",
    "fp16": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}


class ModelNotAvailable(AttrgraphError):
    """A model or transcoder set is neither on disk nor downloadable."""


@dataclass(frozen=True)
class ModelRequest:
    """What the user asked for on the command line (all strings, nothing loaded yet)."""

    model: str | None = None
    transcoders: str | None = None
    backend: str = "transformerlens"
    device: str = "auto"
    dtype: str = "float32"
    lazy_encoder: bool = False
    lazy_decoder: bool = True


@dataclass
class LoadedModel:
    """A ready `ReplacementModel` and what the metadata needs to say about it."""

    model: Any
    tokenizer: Any
    scan: str
    model_name: str
    transcoder_set: str
    backend: str
    device: str
    dtype: str
    n_ctx: int | None
    n_layers: int
    describe: dict[str, Any] = field(default_factory=dict)


def split_revision(ref: str) -> tuple[str, str | None]:
    """`name@rev` -> (`name`, `rev`); a name without `@` (or a local path) has no revision."""
    if "@" in ref and not Path(ref).exists() and not ref.startswith("hf://"):
        name, revision = ref.split("@", 1)
        return name, revision or None
    return ref, None


def resolve_device(device: str) -> str:
    """`auto` -> `cuda` when a GPU is visible, else `cpu`; `cuda` without a GPU is an error."""
    import torch

    device = device.lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise AttrgraphError(
            f"--device {device} was asked for but no CUDA GPU is visible to torch "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'}); "
            "use --device cpu or auto"
        )
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise AttrgraphError(f"unknown --device {device!r}: use auto, cpu or cuda (cuda:N)")
    return device


def resolve_dtype(name: str):
    import torch

    key = DTYPES.get(name.lower())
    if key is None:
        raise AttrgraphError(f"unknown --dtype {name!r}: use one of {', '.join(sorted(set(DTYPES)))}")
    return getattr(torch, key)


def describe_request(req: ModelRequest) -> str:
    """A short human name for progress lines: `demo model`, a folder name, or the hub name."""
    if req.model is None and req.transcoders is None:
        return "demo model"
    return req.model or f"model of {req.transcoders}"


def loaded_model(
    model: Any,
    req: ModelRequest,
    device: str,
    name: str,
    scan: str,
    describe: dict[str, Any],
    transcoder_set: str | None = None,
) -> LoadedModel:
    """A loaded `ReplacementModel` with what the metadata says about it (context length and layers read from
    a TransformerLens config, or a transformers config under nnsight)."""
    cfg = getattr(model, "cfg", None)
    n_ctx = getattr(cfg, "n_ctx", None)
    n_layers = int(getattr(cfg, "n_layers", 0) or 0)
    if n_ctx is None:  # nnsight: a transformers config
        config = getattr(model, "config", None)
        n_ctx = getattr(config, "max_position_embeddings", None)
        n_layers = n_layers or int(getattr(config, "num_hidden_layers", 0) or 0)
    return LoadedModel(
        model=model,
        tokenizer=model.tokenizer,
        scan=scan,
        model_name=name,
        transcoder_set=transcoder_set or scan,
        backend=req.backend,
        device=device,
        dtype=DTYPES[req.dtype.lower()],
        n_ctx=int(n_ctx) if n_ctx else None,
        n_layers=n_layers,
        describe={k: v for k, v in describe.items() if v is not None},
    )
