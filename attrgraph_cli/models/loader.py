"""Which model and transcoders to trace with, and loading them into a circuit-tracer `ReplacementModel`.

Resolution, in order:
- no `--model` and no `--transcoders`: the embedded demo model (`attrgraph_cli.demo_model`);
- `--model FOLDER` holding `attrgraph-model.json`: a HookedTransformer config + safetensors weights + a
  tokenizer folder (+ usually a `transcoders/` folder), the format of the demo model and the test models;
- `--model FOLDER` holding a Hugging Face `config.json`: a transformers checkpoint on disk;
- anything else: a model name as circuit-tracer / TransformerLens / nnsight accept it (`gemma-2-2b`,
  `google/gemma-2-2b`, `meta-llama/Llama-3.2-1B`), optionally with `@revision`.
Transcoders are a folder (`config.yaml` + weights), a hub repo (`mwhanna/gemma-scope-transcoders`,
`user/repo/subfolder@revision`, `hf://...`) or one of circuit-tracer's short names (`gemma`, `llama`).
Nothing here is imported by the light commands: torch is imported inside the functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.models.hub import is_hub_error, looks_like_path, model_on_disk, offline_hint
from attrgraph_cli.models.local import LOCAL_MODEL_FILE, load_local_hooked
from attrgraph_cli.models.request import (
    LoadedModel,
    ModelNotAvailable,
    ModelRequest,
    loaded_model,
    resolve_device,
    resolve_dtype,
    split_revision,
)
from attrgraph_cli.models.transcoders import DEFAULT_TRANSCODERS, load_transcoders


def load_model(req: ModelRequest) -> LoadedModel:
    """Resolve `req` and load the replacement model; every failure is one `AttrgraphError` line."""
    if req.backend not in ("transformerlens", "nnsight"):
        raise AttrgraphError(f"unknown --backend {req.backend!r}: use transformerlens or nnsight")
    device = resolve_device(req.device)
    dtype = resolve_dtype(req.dtype)
    if req.model is None and req.transcoders is None:
        return _load_demo(req, device, dtype)
    folder = Path(req.model).expanduser() if req.model is not None else None
    if folder is not None and (folder / LOCAL_MODEL_FILE).is_file():
        return load_local_hooked(req, folder, device, dtype)
    if folder is not None and looks_like_path(str(req.model)) and not folder.exists():
        raise ModelNotAvailable(f"model folder {req.model!r} does not exist")
    return _load_named(req, device, dtype)


def _load_demo(req: ModelRequest, device: str, dtype) -> LoadedModel:
    try:
        from attrgraph_cli import demo_model
    except ImportError as exc:
        raise AttrgraphError(
            "the embedded demo model is not part of this installation; pass --model and --transcoders"
        ) from exc
    if req.backend != "transformerlens":
        raise AttrgraphError("the embedded demo model runs on the transformerlens backend only")
    model = demo_model.load_replacement_model(device, dtype)
    scan = str(getattr(model, "scan", None) or "attrgraph-demo")
    folder = str(demo_model.demo_model_dir())
    return loaded_model(
        model, req, device, "attrgraph-demo", scan, {"source": "embedded demo model", "path": folder}
    )


def _load_named(req: ModelRequest, device: str, dtype) -> LoadedModel:
    import torch
    from circuit_tracer import ReplacementModel

    tc_ref = req.transcoders
    if tc_ref is None:
        assert req.model is not None
        tc_ref = DEFAULT_TRANSCODERS.get(split_revision(req.model)[0].lower())
        if tc_ref is None and not model_on_disk(split_revision(req.model)[0]):
            raise ModelNotAvailable(offline_hint("model", req.model))
        if tc_ref is None:
            raise AttrgraphError(
                f"no default transcoder set for model {req.model!r}: "
                "pass --transcoders (a folder or a hub repo)"
            )
    transcoders, tc_config = load_transcoders(tc_ref, req, device, dtype)
    model_ref = req.model or tc_config.get("model_name")
    if not model_ref:
        raise AttrgraphError(f"transcoder set {tc_ref!r} names no model in its config.yaml: pass --model")
    name, revision = split_revision(model_ref)
    kwargs: dict[str, Any] = {}
    if revision:
        kwargs["revision"] = revision
    source = "Hugging Face hub name"
    if Path(name).is_dir():
        source = "local Hugging Face checkpoint"
        name = str(Path(name).resolve())
        if req.backend == "transformerlens":
            kwargs.update(_hf_folder_for_transformerlens(Path(name), dtype))
            name = kwargs.pop("_official_name")
    try:
        model = ReplacementModel.from_pretrained_and_transcoders(
            name, transcoders, backend=req.backend, device=torch.device(device), dtype=dtype, **kwargs
        )
    except (OSError, FileNotFoundError) as exc:
        raise ModelNotAvailable(offline_hint("model", model_ref, exc)) from exc
    except Exception as exc:
        if is_hub_error(exc):
            raise ModelNotAvailable(offline_hint("model", model_ref, exc)) from exc
        if isinstance(exc, ValueError) and "not found" in str(exc).lower():
            raise AttrgraphError(f"model {model_ref!r}: {str(exc).splitlines()[0]}") from exc
        raise
    scan = str(tc_config.get("scan") or getattr(model, "scan", None) or tc_ref)
    return loaded_model(model, req, device, model_ref, scan, {"source": source, "revision": revision}, tc_ref)


def _hf_folder_for_transformerlens(folder: Path, dtype) -> dict[str, Any]:
    """A transformers checkpoint on disk, for TransformerLens (which still needs its official name)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise AttrgraphError(
            f"{folder} is neither an attrgraph model folder nor a transformers checkpoint"
        ) from exc
    official = config.get("_name_or_path") or ""
    if not official or Path(official).exists():
        raise AttrgraphError(
            f"{folder}: TransformerLens needs the official model name of this checkpoint (config.json has no "
            "_name_or_path); use --backend nnsight, which loads any transformers folder"
        )
    return {
        "_official_name": official,
        "hf_model": AutoModelForCausalLM.from_pretrained(str(folder), torch_dtype=dtype),
        "tokenizer": AutoTokenizer.from_pretrained(str(folder)),
    }
