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
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import AttrgraphError

LOCAL_MODEL_FILE = "attrgraph-model.json"

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


def hub_cache_dir() -> str:
    """Where huggingface_hub looks for downloaded files (respects HF_HOME / HF_HUB_CACHE)."""
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # noqa: BLE001 - only used in a message
        return os.path.expanduser("~/.cache/huggingface/hub")


def _offline_hint(what: str, name: str, exc: BaseException | None = None) -> str:
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
    mode = "HF_HUB_OFFLINE=1 is set, so nothing is downloaded" if offline else "the download failed"
    reason = f" ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})" if exc and str(exc) else ""
    where = f"the Hugging Face cache {hub_cache_dir()}"
    if what == "transcoder set":
        where += f" and circuit-tracer's cache {circuit_tracer_cache_dir()}"
    return (
        f"{what} {name!r} is not on disk and could not be downloaded: {mode}{reason}. "
        f"Looked in {where}; download it there with network access (unset HF_HUB_OFFLINE), "
        "or pass a local folder"
    )


def circuit_tracer_cache_dir() -> str:
    """circuit-tracer's converted transcoders (CIRCUIT_TRACER_CACHE_DIR, else ~/.cache/circuit_tracer)."""
    return os.environ.get("CIRCUIT_TRACER_CACHE_DIR") or os.path.expanduser("~/.cache/circuit_tracer")


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
        return _load_local_hooked(req, folder, device, dtype)
    if folder is not None and _looks_like_path(str(req.model)) and not folder.exists():
        raise ModelNotAvailable(f"model folder {req.model!r} does not exist")
    return _load_named(req, device, dtype)


def _looks_like_path(ref: str) -> bool:
    return ref.startswith((".", "/", "~"))


# ---- the embedded demo model ----------------------------------------------------------------------------
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
    return _finish(
        model, req, device, "attrgraph-demo", scan, {"source": "embedded demo model", "path": folder}
    )


# ---- a local HookedTransformer folder (attrgraph-model.json) ---------------------------------------------
def read_local_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / LOCAL_MODEL_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise AttrgraphError(f"{folder / LOCAL_MODEL_FILE}: cannot read it ({exc})") from exc
    for key in ("config", "weights", "tokenizer"):
        if key not in manifest:
            raise AttrgraphError(f"{folder / LOCAL_MODEL_FILE}: missing key {key!r}")
    return manifest


def _load_local_hooked(req: ModelRequest, folder: Path, device: str, dtype) -> LoadedModel:
    if req.backend != "transformerlens":
        raise AttrgraphError(
            f"{folder} is a TransformerLens model folder; the nnsight backend needs a Hugging Face checkpoint"
        )
    folder = folder.resolve()
    manifest = read_local_manifest(folder)
    tc_ref = req.transcoders or (
        str(folder / manifest["transcoders"]) if manifest.get("transcoders") else None
    )
    if tc_ref is None:
        raise AttrgraphError(f"{folder} has no transcoders folder: pass --transcoders")
    transcoders, tc_config = load_transcoders(tc_ref, req, device, dtype)
    model = build_hooked_replacement(folder, manifest, transcoders, device, dtype)
    scan = str(tc_config.get("scan") or model.scan or tc_ref)
    name = str(manifest["config"].get("model_name", folder.name))
    return _finish(model, req, device, name, scan, {"source": "local folder", "path": str(folder)}, tc_ref)


def build_hooked_replacement(folder: Path, manifest: dict[str, Any], transcoders: Any, device: str, dtype):
    """Build the `ReplacementModel` from a HookedTransformerConfig and load the trained weights into it.

    `from_config` wraps every MLP and the unembedding, so the saved keys are renamed to the wrapped
    modules' names (`blocks.i.mlp.*` -> `blocks.i.mlp.old_mlp.*`, `unembed.*` -> `unembed.old_unembed.*`).
    """
    from circuit_tracer import ReplacementModel
    from safetensors.torch import load_file
    from transformer_lens import HookedTransformerConfig
    from transformers import AutoTokenizer

    tok_dir = str(folder / manifest["tokenizer"])
    cfg = HookedTransformerConfig(
        **{**manifest["config"], "tokenizer_name": tok_dir, "device": device, "dtype": dtype}
    )
    tokenizer = AutoTokenizer.from_pretrained(tok_dir, add_bos_token=True)
    model = ReplacementModel.from_config(cfg, transcoders, backend="transformerlens", tokenizer=tokenizer)
    state = load_file(str(folder / manifest["weights"]), device=device)
    renamed = {}
    for key, value in state.items():
        parts = key.split(".")
        if len(parts) > 2 and parts[0] == "blocks" and parts[2] == "mlp":
            key = ".".join([*parts[:3], "old_mlp", *parts[3:]])
        elif parts[0] == "unembed":
            key = ".".join(["unembed", "old_unembed", *parts[1:]])
        renamed[key] = value.to(dtype)
    missing, unexpected = model.load_state_dict(renamed, strict=False)
    missing = [k for k in missing if not k.startswith("transcoders.") and not k.endswith(".IGNORE")]
    if missing or unexpected:
        raise AttrgraphError(
            f"{folder / manifest['weights']} does not match its config: "
            f"missing {missing[:3]}, unexpected {list(unexpected)[:3]}"
        )
    return model


# ---- transcoders -----------------------------------------------------------------------------------------
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
    elif _looks_like_path(ref):
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
        raise ModelNotAvailable(_offline_hint("transcoder set", ref, exc)) from exc
    except Exception as exc:  # huggingface_hub's errors (offline, gated, not found) share no base class
        if _is_hub_error(exc):
            raise ModelNotAvailable(_offline_hint("transcoder set", ref, exc)) from exc
        raise


def _model_on_disk(name: str) -> bool:
    """Whether model `name` is a folder or has a config in the local Hugging Face cache."""
    if Path(name).is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # noqa: BLE001 - not a valid repo id
        return False


def _is_hub_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("huggingface_hub", "requests", "urllib3", "httpx"))


# ---- named / Hugging Face models -------------------------------------------------------------------------
def _load_named(req: ModelRequest, device: str, dtype) -> LoadedModel:
    import torch
    from circuit_tracer import ReplacementModel

    tc_ref = req.transcoders
    if tc_ref is None:
        assert req.model is not None
        tc_ref = DEFAULT_TRANSCODERS.get(split_revision(req.model)[0].lower())
        if tc_ref is None and not _model_on_disk(split_revision(req.model)[0]):
            raise ModelNotAvailable(_offline_hint("model", req.model))
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
        raise ModelNotAvailable(_offline_hint("model", model_ref, exc)) from exc
    except Exception as exc:
        if _is_hub_error(exc):
            raise ModelNotAvailable(_offline_hint("model", model_ref, exc)) from exc
        if isinstance(exc, ValueError) and "not found" in str(exc).lower():
            raise AttrgraphError(f"model {model_ref!r}: {str(exc).splitlines()[0]}") from exc
        raise
    scan = str(tc_config.get("scan") or getattr(model, "scan", None) or tc_ref)
    return _finish(model, req, device, model_ref, scan, {"source": source, "revision": revision}, tc_ref)


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


def _finish(
    model: Any,
    req: ModelRequest,
    device: str,
    name: str,
    scan: str,
    describe: dict[str, Any],
    transcoder_set: str | None = None,
) -> LoadedModel:
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
