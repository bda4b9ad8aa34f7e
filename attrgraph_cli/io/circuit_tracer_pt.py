"""circuit-tracer `Graph.to_pt` files: an unpruned graph, pruned on load.

The file holds token ids but not their texts. They are decoded with the model's tokenizer when one is
available offline (already in the local Hugging Face cache, or the shipped demo model's own tokenizer for a
graph traced on it); otherwise `tok{id}` placeholders are used.
`metadata.info.tokens_from` says which.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import GraphFormatError
from attrgraph_cli.graph.dense import dense_from_circuit_tracer, dense_to_graph
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.graph.prune import DEFAULT_EDGE_THRESHOLD, DEFAULT_NODE_THRESHOLD
from attrgraph_cli.io.torch_files import load_pt

_REQUIRED = ("adjacency_matrix", "active_features", "selected_features", "input_tokens", "cfg")


def read_circuit_tracer_pt(
    path: str | os.PathLike[str],
    *,
    node_threshold: float = DEFAULT_NODE_THRESHOLD,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
    trust_pickle: bool = False,
    tokenizer: Any = None,
) -> AttributionGraph:
    """Load, prune and convert a circuit-tracer graph `.pt` file."""
    data = load_pt(path, trust_pickle=trust_pickle)
    if not isinstance(data, dict):
        data = getattr(data, "__dict__", None)
    if not isinstance(data, dict):
        raise GraphFormatError(f"{path}: not a circuit-tracer graph (the file does not hold a dict)")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise GraphFormatError(f"{path}: not a circuit-tracer graph (missing {', '.join(missing)})")
    if tokenizer is None:
        name = _cfg_get(data["cfg"], "tokenizer_name") or _demo_tokenizer(_cfg_get(data["cfg"], "model_name"))
        tokenizer = offline_tokenizer(name)
    try:
        dense = dense_from_circuit_tracer(data, tokenizer=tokenizer)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{path}: {exc}") from None
    dense.metadata["info"]["source_format"] = "circuit-tracer-pt"
    try:
        return dense_to_graph(dense, node_threshold=node_threshold, edge_threshold=edge_threshold)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{path}: {exc}") from None


def _demo_tokenizer(model_name: Any) -> str | None:
    """The shipped demo model's tokenizer folder for a graph traced on it (its cfg names no tokenizer)."""
    from attrgraph_cli.demo_model.loader import DEMO_MODEL_NAME, WEIGHTS_DIR  # light: no torch

    return str(WEIGHTS_DIR) if model_name == DEMO_MODEL_NAME else None


def offline_tokenizer(name: Any) -> Any:
    """The tokenizer `name` read from the local Hugging Face cache only (never the network), or None.

    Only its `tokenizer.json` is read, with the `tokenizers` library: importing `transformers` just to
    decode token ids would take longer than the whole conversion.
    """
    if not name or not isinstance(name, str):
        return None
    path = cached_tokenizer_file(name)
    if path is None:
        return None
    try:
        from tokenizers import Tokenizer
    except ImportError:
        return None
    try:
        return CachedTokenizer(Tokenizer.from_file(str(path)))
    except Exception:  # noqa: BLE001 - a damaged or foreign file: fall back to placeholders
        return None


class CachedTokenizer:
    """`decode(ids)` as `transformers` does it by default (special tokens kept), over a `tokenizers` one."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def decode(self, ids: Any) -> str:
        ids = [int(ids)] if isinstance(ids, int) else [int(i) for i in ids]
        return self._tokenizer.decode(ids, skip_special_tokens=False)


def cached_tokenizer_file(name: str) -> Path | None:
    """`tokenizer.json` of hub repo `name` (or of a local folder `name`) if it is on this machine."""
    folder = Path(name)
    if folder.is_dir():
        found = folder / "tokenizer.json"
        return found if found.is_file() else None
    found_here = _in_hub_cache(name, "tokenizer.json")
    if found_here is not None:
        return found_here
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(name, "tokenizer.json")
    except Exception:  # noqa: BLE001 - not a valid repo id
        return None
    return Path(found) if isinstance(found, str) else None


def _hub_cache_dir() -> Path:
    """huggingface_hub's cache folder, found as it finds it: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub,
    XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub."""
    env = os.environ
    cache = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
    if cache:
        return Path(cache).expanduser()
    home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def _in_hub_cache(repo_id: str, filename: str) -> Path | None:
    """`filename` of model repo `repo_id` at the cached `main` revision, read from the cache's layout
    (`models--ORG--NAME/refs/main` -> `snapshots/COMMIT/FILE`) without importing huggingface_hub (about
    0.3 s, 1 s on a busy machine, a large part of a whole `convert`); None when it is not there that way
    (the caller then asks huggingface_hub)."""
    if not repo_id or repo_id.count("/") > 1 or ".." in repo_id or repo_id.startswith(("/", ".", "~")):
        return None
    repo = _hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    try:
        commit = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not commit or "/" in commit or commit.startswith("."):
        return None
    found = repo / "snapshots" / commit / filename
    return found if found.is_file() else None


def _cfg_get(cfg: Any, key: str) -> Any:
    return cfg.get(key) if isinstance(cfg, dict) else getattr(cfg, key, None)
