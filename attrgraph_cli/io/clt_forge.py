"""CLT-Forge / FeatFlow `attribution_graph.pt` files.

Layout: `adjacency_matrix` (N x N, rows = target) in circuit-tracer node order, `feature_indices` (F x 3:
position, layer, feature), `input_tokens` / `token_string`, `logit_tokens` / `logit_token_strings` /
`logit_probabilities`, `activation_values`, and the file's own pruning: `sparse_pruned_adj` is a dense
0/1 mask (weights then come from `adjacency_matrix`) in newer files and a torch sparse tensor of weights
in older ones; `feature_mask` (when present) is the kept-node mask. The file's pruning is used as it is;
its thresholds are recorded when they can be told (the masks are re-derived on a small grid).

An older layout has no `adjacency_matrix` at all (nor `full_adjacency_matrix`, `selected_features`,
`activation_values`): it is read as an *unweighted* graph, every kept link weighing what the mask holds
(1), and says so in `metadata.info` (and so in the report's info panel and the figure caption).
`intervention_top_tokens` are kept in `graph.extra["clt_forge_interventions"]`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from attrgraph_cli.errors import GraphFormatError
from attrgraph_cli.graph.dense import DenseGraph, dense_to_graph
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.io.torch_files import load_pt, to_numpy, to_plain

_REQUIRED = ("feature_indices", "sparse_pruned_adj", "logit_probabilities", "input_tokens")
#: what the metadata, the info panel and the figure caption say about an unweighted graph
UNWEIGHTED_NOTE = (
    "Unweighted graph: the CLT-Forge file has no adjacency_matrix, only its pruning mask, so every kept "
    "link has weight 1 and link widths, weights and influence mean nothing."
)
#: thresholds tried when telling how a file was pruned (larger graphs are not searched)
_THRESHOLD_GRID = tuple(round(0.5 + 0.05 * k, 2) for k in range(11))
_MAX_SEARCH_NODES = 2000


def read_clt_forge(path: str | os.PathLike[str], *, trust_pickle: bool = False) -> AttributionGraph:
    """Convert a CLT-Forge attribution graph, keeping the pruning stored in the file."""
    data = load_pt(path, trust_pickle=trust_pickle)
    if not isinstance(data, dict):
        raise GraphFormatError(f"{path}: not a CLT-Forge attribution graph (the file does not hold a dict)")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise GraphFormatError(f"{path}: not a CLT-Forge attribution graph (missing {', '.join(missing)})")
    try:
        return clt_forge_to_graph(data)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{path}: {exc}") from None


def _tensor(data: dict[str, Any], key: str, kind: str, default: Any = None) -> np.ndarray:
    """`data[key]` as a numpy array of `kind` ("int", "float" or "bool"), or a one-line GraphFormatError."""
    value = data.get(key, default)
    if getattr(value, "is_sparse", False):
        raise GraphFormatError(f"{key} is a sparse tensor; expected a dense one")
    try:
        array = np.asarray(to_numpy(value))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise GraphFormatError(f"{key} is not an array ({type(value).__name__}: {exc})") from None
    expected = {"int": np.integer, "float": np.number, "bool": np.number}[kind]
    if array.dtype != np.bool_ and not np.issubdtype(array.dtype, expected) or np.iscomplexobj(array):
        raise GraphFormatError(f"{key} holds {array.dtype} values; expected {kind} values")
    if kind == "int":
        return array.astype(np.int64)
    if kind == "float":
        return array.astype(np.float32)
    return array.astype(bool)


def _strings(data: dict[str, Any], key: str, fallback: list[str], expected: int) -> tuple[list[str], bool]:
    """The file's strings under `key` (a list or tuple of str), else `fallback`; (strings, from_file)."""
    value = data.get(key)
    if value is None:
        return fallback, False
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
        raise GraphFormatError(f"{key} must be a list of strings, got {type(value).__name__}")
    if len(value) != expected:
        raise GraphFormatError(f"{key} has {len(value)} entries, expected {expected}")
    return list(value), True


def _n_layers(data: dict[str, Any], inferred: int) -> int:
    value = data.get("n_layers")
    if value is None:
        return inferred
    if hasattr(value, "shape"):  # a tensor or array: exactly one whole number, never densified
        if getattr(value, "is_sparse", False) or int(np.prod(value.shape)) != 1:
            raise GraphFormatError(
                f"n_layers is a tensor of shape {tuple(value.shape)}, expected a whole number"
            )
        value = np.asarray(to_numpy(value)).reshape(-1)[0].item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphFormatError(f"n_layers is {str(value)[:40]!r}, expected a whole number")
    if value != inferred:
        raise GraphFormatError(f"n_layers is {value}, but the node counts give {inferred} layers")
    return value


def _edge_mask(data: dict[str, Any], n: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(edge mask, weights held by the mask or None, variant) from `sparse_pruned_adj` (N x N)."""
    pruned = data["sparse_pruned_adj"]
    if not hasattr(pruned, "shape") or not hasattr(pruned, "dtype"):
        raise GraphFormatError(f"sparse_pruned_adj is {type(pruned).__name__}, expected a tensor")
    if tuple(pruned.shape) != (n, n):  # checked before a sparse tensor is made dense
        raise GraphFormatError(f"sparse_pruned_adj has shape {tuple(pruned.shape)}, expected ({n}, {n})")
    if getattr(pruned, "is_sparse", False):
        weights = to_numpy(pruned).astype(np.float32)
        return weights != 0, weights, "sparse tensor of pruned weights"
    mask = _tensor(data, "sparse_pruned_adj", "float")
    return mask != 0, mask, "dense 0/1 edge mask"


def clt_forge_to_graph(data: dict[str, Any]) -> AttributionGraph:
    """The pruned graph of a loaded CLT-Forge dict (either layout)."""
    fi = _tensor(data, "feature_indices", "int")
    if fi.size % 3 or (fi.ndim == 2 and fi.shape[1] != 3):
        raise GraphFormatError(f"feature_indices must be F x 3 (position, layer, feature), got {fi.shape}")
    features = fi.reshape(-1, 3)[:, [1, 0, 2]]  # (position, layer, index) -> (layer, position, index)
    token_ids = _tensor(data, "input_tokens", "int").reshape(-1)
    probabilities = _tensor(data, "logit_probabilities", "float").reshape(-1)
    n_f, n_p, n_k = len(features), len(token_ids), len(probabilities)
    weighted = "adjacency_matrix" in data
    if weighted:
        adjacency = _tensor(data, "adjacency_matrix", "float")
        n = adjacency.shape[0] if adjacency.ndim == 2 and adjacency.shape[0] == adjacency.shape[1] else -1
    else:
        shape = getattr(data["sparse_pruned_adj"], "shape", ())
        n = int(shape[0]) if len(shape) == 2 and shape[0] == shape[1] else -1
    inner = n - n_f - n_p - n_k
    if n_p == 0 or inner < 0 or inner % n_p:
        raise GraphFormatError(
            f"the adjacency matrix ({n} nodes) does not split into {n_f} features, errors for "
            f"{n_p} positions x some layers, {n_p} tokens and {n_k} logits"
        )
    n_layers = _n_layers(data, inner // n_p)
    token_strings, tokens_from_file = _strings(
        data, "token_string", [f"tok{t}" for t in token_ids.tolist()], n_p
    )
    logit_ids = _tensor(data, "logit_tokens", "int", default=np.arange(n_k)).reshape(-1)
    logit_strings, _ = _strings(data, "logit_token_strings", [f"tok{t}" for t in logit_ids.tolist()], n_k)

    edge_mask, mask_weights, variant = _edge_mask(data, n)
    if not weighted:
        adjacency = np.where(edge_mask, mask_weights, 0).astype(np.float32)
    weights = mask_weights if variant.startswith("sparse") else adjacency
    node_mask = _node_mask(data, edge_mask, n_p + n_k)

    activations = None
    if data.get("activation_values") is not None:
        activations = _tensor(data, "activation_values", "float").reshape(-1)
    extra = {}
    interventions = data.get("intervention_top_tokens")
    if isinstance(interventions, (list, tuple)) and interventions:
        extra["clt_forge_interventions"] = to_plain(interventions)
    info: dict[str, Any] = {
        "source_format": "clt-forge-pt",
        "tokens_from": "the file's token_string" if tokens_from_file else "placeholders tok{id}",
        "clt_forge_pruning": variant,
        "unpruned_features": n_f,
    }
    if not weighted:
        info.update(edge_weights="unweighted", description=UNWEIGHTED_NOTE, clt_forge_layout="older")
    dense = DenseGraph(
        adjacency=adjacency,
        features=features,
        activations=activations,
        token_ids=token_ids,
        token_strings=token_strings,
        logit_token_ids=logit_ids,
        logit_tokens=logit_strings,
        logit_probabilities=probabilities,
        n_layers=n_layers,
        prompt=str(data.get("input_string", "")),
        metadata={"info": info},
        extra=extra,
    )
    graph = dense_to_graph(dense, node_mask=node_mask, edge_mask=edge_mask, edge_weights=weights)
    if not weighted:
        graph.nodes.influence[:] = np.nan  # influence of a 0/1 matrix is not influence
    _record_pruning(graph, _told_thresholds(dense, node_mask, edge_mask) if weighted else None)
    return graph


def _node_mask(data: dict[str, Any], edge_mask: np.ndarray, n_kept_at_end: int) -> np.ndarray:
    """Nodes that touch a kept edge (and the file's `feature_mask`, when it has one); the tokens and
    logits at the end are always kept."""
    n = edge_mask.shape[0]
    node_mask = edge_mask.any(0) | edge_mask.any(1)
    if "feature_mask" in data:
        feature_mask = _tensor(data, "feature_mask", "bool").reshape(-1)
        if feature_mask.shape != (n,):
            raise GraphFormatError(f"feature_mask has {feature_mask.size} entries, expected {n}")
        node_mask = feature_mask & node_mask
    node_mask[n - n_kept_at_end :] = True
    return node_mask


def _record_pruning(graph: AttributionGraph, thresholds: tuple[float, float] | None) -> None:
    """`metadata.info.pruning_settings`: the masks came from the file, at these thresholds if told."""
    settings: dict[str, Any] = {"masks": "from the source file"}
    if thresholds is not None:
        settings.update(node_threshold=thresholds[0], edge_threshold=thresholds[1])
        settings["how"] = "the file's masks are exactly what pruning at these thresholds gives"
        graph.metadata["node_threshold"] = thresholds[0]
    else:
        settings["how"] = "the thresholds could not be told from the file"
        graph.metadata.pop("node_threshold", None)
    graph.metadata["info"]["pruning_settings"] = settings


def _told_thresholds(
    dense: DenseGraph, node_mask: np.ndarray, edge_mask: np.ndarray
) -> tuple[float, float] | None:
    """The (node, edge) thresholds on a 0.05 grid whose pruning reproduces the file's masks, if any."""
    from attrgraph_cli.graph.prune import prune_matrix

    n = dense.adjacency.shape[0]
    if n > _MAX_SEARCH_NODES or not dense.n_features:
        return None
    features = slice(0, dense.n_features)
    for node_t in _THRESHOLD_GRID:
        for edge_t in _THRESHOLD_GRID:
            try:
                result = prune_matrix(
                    dense.adjacency,
                    n_features=dense.n_features,
                    n_tokens=dense.n_pos,
                    logit_probabilities=dense.logit_probabilities,
                    node_threshold=node_t,
                    edge_threshold=edge_t,
                )
            except (RuntimeError, ValueError):
                return None
            if np.array_equal(result.node_mask[features], node_mask[features]) and np.array_equal(
                result.edge_mask, edge_mask
            ):
                return node_t, edge_t
    return None
