"""circuit-tracer `Graph.to_pt` files: an unpruned graph, pruned on load.

The file holds token ids but not their texts. They are decoded with the model's tokenizer when one is
available offline (already in the local Hugging Face cache); otherwise `tok{id}` placeholders are used.
`metadata.info.tokens_from` says which.
"""

from __future__ import annotations

import os
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
        tokenizer = offline_tokenizer(_cfg_get(data["cfg"], "tokenizer_name"))
    try:
        dense = dense_from_circuit_tracer(data, tokenizer=tokenizer)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{path}: {exc}") from None
    dense.metadata["info"]["source_format"] = "circuit-tracer-pt"
    try:
        return dense_to_graph(dense, node_threshold=node_threshold, edge_threshold=edge_threshold)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{path}: {exc}") from None


def offline_tokenizer(name: Any) -> Any:
    """The tokenizer `name` from the local cache only (never the network), or None."""
    if not name or not isinstance(name, str):
        return None
    try:
        from transformers import AutoTokenizer
    except ImportError:
        return None
    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached, or not a tokenizer: fall back to placeholders
        return None


def _cfg_get(cfg: Any, key: str) -> Any:
    return cfg.get(key) if isinstance(cfg, dict) else getattr(cfg, key, None)
