"""A local HookedTransformer folder (`attrgraph-model.json`): the demo model's and the test models' format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.models.request import LoadedModel, ModelRequest, loaded_model
from attrgraph_cli.models.transcoders import load_transcoders

LOCAL_MODEL_FILE = "attrgraph-model.json"


def read_local_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / LOCAL_MODEL_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise AttrgraphError(f"{folder / LOCAL_MODEL_FILE}: cannot read it ({exc})") from exc
    for key in ("config", "weights", "tokenizer"):
        if key not in manifest:
            raise AttrgraphError(f"{folder / LOCAL_MODEL_FILE}: missing key {key!r}")
    return manifest


def load_local_hooked(req: ModelRequest, folder: Path, device: str, dtype) -> LoadedModel:
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
    return loaded_model(
        model, req, device, name, scan, {"source": "local folder", "path": str(folder)}, tc_ref
    )


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
