"""Transcoder sets: circuit-tracer's short names, the default set of a well-known model, and loading one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.models.hub import is_hub_error, looks_like_path, offline_hint
from attrgraph_cli.models.request import ModelNotAvailable, ModelRequest

#: transcoder set used when `--model` names a well-known model and `--transcoders` is left out
DEFAULT_TRANSCODERS = {
    "gemma-2-2b": "gemma",
    "google/gemma-2-2b": "gemma",
    "llama-3.2-1b": "llama",
    "meta-llama/llama-3.2-1b": "llama",
}


#: circuit-tracer's short names for transcoder sets (resolved the same way it does)
TRANSCODER_ALIASES = {
    "gemma": "mwhanna/gemma-scope-transcoders",
    "llama": "mntss/transcoder-Llama-3.2-1B",
}


def load_transcoders(ref: str, req: ModelRequest, device: str, dtype) -> tuple[Any, dict[str, Any]]:
    """Load a transcoder set from a folder or the hub, through circuit-tracer's own loader."""
    from circuit_tracer.utils.hf_utils import load_transcoder_from_hub

    path = Path(ref).expanduser()
    if path.exists():
        if not (path / "config.yaml").is_file():
            raise AttrgraphError(
                f"transcoder folder {ref!r} has no config.yaml (circuit-tracer's folder format)"
            )
        # circuit-tracer treats an absolute folder with config.yaml as an already-converted cache entry
        ref = str(path.resolve())
    elif looks_like_path(ref):
        raise ModelNotAvailable(f"transcoder folder {ref!r} does not exist")
    try:
        import torch

        return load_transcoder_from_hub(
            TRANSCODER_ALIASES.get(ref, ref),
            device=torch.device(device),
            dtype=dtype,
            lazy_encoder=req.lazy_encoder,
            lazy_decoder=req.lazy_decoder,
        )
    except (FileNotFoundError, OSError, ValueError, PermissionError) as exc:
        if path.exists():
            raise AttrgraphError(f"transcoder folder {ref!r} could not be loaded: {exc}") from exc
        raise ModelNotAvailable(offline_hint("transcoder set", ref, exc)) from exc
    except Exception as exc:  # huggingface_hub's errors (offline, gated, not found) share no base class
        if is_hub_error(exc):
            raise ModelNotAvailable(offline_hint("transcoder set", ref, exc)) from exc
        raise
