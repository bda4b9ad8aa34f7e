"""A bare attribution matrix (`.npz`, or a `.pt` dict of tensors): "it works with just the matrix".

Required: `adjacency_matrix` (N x N, rows = target, columns = source; node order features, errors
(layer-major), tokens, logits) and `features` (F x 3: layer, position, feature index).
Optional: `tokens` (P strings), `token_ids` (P ints), `n_layers`, `logit_tokens` (K strings or vocab ids),
`logit_token_ids` (K ints), `logit_probabilities` (K), `activations` (F), `prompt`.
What is missing is inferred from N = F + n_layers * P + P + K: positions from the tokens (else the
features), layers from `n_layers` (else the features), the number of logits from what is left.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from attrgraph_cli.errors import GraphFormatError
from attrgraph_cli.graph.dense import DenseGraph, dense_to_graph
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.graph.prune import DEFAULT_EDGE_THRESHOLD, DEFAULT_NODE_THRESHOLD

REQUIRED_KEYS = ("adjacency_matrix", "features")


def read_matrix_npz(path: str | os.PathLike[str], **options: Any) -> AttributionGraph:
    """Read a `.npz` matrix graph (never unpickles: object arrays are refused)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise GraphFormatError(
                f"{path}: an array in the .npz holds Python objects; store strings as a unicode array "
                "(np.array(tokens, dtype=str)) and numbers as numeric arrays"
            ) from None
        raise GraphFormatError(f"{path}: a damaged .npz file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise GraphFormatError(f"{path}: a damaged or truncated .npz file ({exc})") from None
    return _read(path, arrays, "matrix-npz", **options)


def read_matrix_pt(
    path: str | os.PathLike[str], *, trust_pickle: bool = False, **options: Any
) -> AttributionGraph:
    """Read a `.pt` dict with the same keys as the `.npz` format."""
    from attrgraph_cli.io.torch_files import load_pt, to_numpy

    data = load_pt(path, trust_pickle=trust_pickle)
    if not isinstance(data, dict):
        raise GraphFormatError(f"{path}: a matrix .pt file must hold a dict of tensors")
    arrays = {str(k): (v if isinstance(v, (list, str, int, float)) else to_numpy(v)) for k, v in data.items()}
    return _read(path, arrays, "matrix-pt", **options)


def _read(
    path: str | os.PathLike[str],
    arrays: dict[str, Any],
    source_format: str,
    *,
    node_threshold: float = DEFAULT_NODE_THRESHOLD,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
) -> AttributionGraph:
    try:
        dense = matrix_to_dense(arrays)
        dense.metadata["info"]["source_format"] = source_format
        return dense_to_graph(dense, node_threshold=node_threshold, edge_threshold=edge_threshold)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{path}: {exc}") from None


def matrix_to_dense(arrays: dict[str, Any]) -> DenseGraph:
    """Infer the graph's shape from the matrix keys (see the module docstring) and build a `DenseGraph`:
    check the two required arrays, read the optional ones, infer the node counts, fill in placeholders."""
    adjacency, features = _required_arrays(arrays)
    given = _optional_arrays(arrays)
    n_pos, n_layers, n_k = _node_counts(adjacency.shape[0], features, given)
    return _dense_graph(arrays, adjacency, features, given, n_pos, n_layers, n_k)


def _required_arrays(arrays: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """`adjacency_matrix` (square, real) and `features` (F x 3, non-negative integers), checked."""
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise GraphFormatError(
            f"missing {', '.join(missing)}; a matrix graph needs 'adjacency_matrix' (N x N) "
            "and 'features' (F x 3)"
        )
    adjacency = _array(arrays, "adjacency_matrix")
    if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise GraphFormatError(f"adjacency_matrix must be square (N x N), got shape {adjacency.shape}")
    if not np.issubdtype(adjacency.dtype, np.number) or np.iscomplexobj(adjacency):
        raise GraphFormatError(f"adjacency_matrix must hold real numbers, got {adjacency.dtype}")
    features = _array(arrays, "features")
    if features.size == 0:
        features = features.reshape(0, 3)
    if features.ndim != 2 or features.shape[1] != 3 or not np.issubdtype(features.dtype, np.integer):
        raise GraphFormatError(
            f"features must be an F x 3 integer array (layer, position, index), got {features.shape}"
        )
    if features.size and features.min() < 0:
        raise GraphFormatError("features hold negative layers, positions or indices")
    return adjacency, features


@dataclass
class _Given:
    """The optional arrays as the file gives them (None: absent)."""

    tokens: list[str] | None
    token_ids: np.ndarray | None
    logit_tokens: list[str] | None
    logit_ids: np.ndarray | None
    probabilities: np.ndarray | None
    n_layers: int | None


def _optional_arrays(arrays: dict[str, Any]) -> _Given:
    """Tokens, logit tokens (strings, or ids under `logit_tokens`), probabilities and `n_layers`."""
    logit_ids = _ints(arrays, "logit_token_ids")
    logit_tokens: list[str] | None = None
    if arrays.get("logit_tokens") is not None:
        values = _array(arrays, "logit_tokens").reshape(-1)
        if np.issubdtype(values.dtype, np.integer):
            logit_ids = values.astype(np.int64) if logit_ids is None else logit_ids
        else:
            logit_tokens = [str(v) for v in values.tolist()]
    return _Given(
        tokens=_strings(arrays.get("tokens")),
        token_ids=_ints(arrays, "token_ids"),
        logit_tokens=logit_tokens,
        logit_ids=logit_ids,
        probabilities=_floats(arrays, "logit_probabilities"),
        n_layers=_count(arrays, "n_layers"),
    )


def _node_counts(n: int, features: np.ndarray, given: _Given) -> tuple[int, int, int]:
    """(positions, layers, logits) such that features + layers x positions + positions + logits = N,
    from what is given and the rest inferred; every given array must have its count."""
    n_f, n_layers = len(features), given.n_layers
    n_pos = next((len(x) for x in (given.tokens, given.token_ids) if x is not None), None)
    n_k = next(
        (len(x) for x in (given.logit_tokens, given.logit_ids, given.probabilities) if x is not None), None
    )
    if n_pos is None:
        if n_layers is not None and n_k is not None and (n - n_f - n_k) % (n_layers + 1) == 0:
            n_pos = (n - n_f - n_k) // (n_layers + 1)
        else:
            n_pos = int(features[:, 1].max()) + 1 if n_f else 0
    if n_layers is None:
        if n_k is not None and n_pos and (n - n_f - n_k) % n_pos == 0:
            n_layers = (n - n_f - n_k) // n_pos - 1
        else:
            n_layers = int(features[:, 0].max()) + 1 if n_f else 0
    if n_k is None:
        n_k = n - n_f - n_layers * n_pos - n_pos
    if n_pos <= 0 or n_layers <= 0 or n_k <= 0 or n_f + n_layers * n_pos + n_pos + n_k != n:
        raise GraphFormatError(
            f"the shape does not add up: adjacency_matrix has N = {n} nodes, but features ({n_f}) + "
            f"n_layers ({n_layers}) x positions ({n_pos}) errors + {n_pos} tokens + {n_k} logits = "
            f"{n_f + n_layers * n_pos + n_pos + n_k}; give 'tokens', 'n_layers' and/or 'logit_probabilities' "
            "so the node counts can be told apart"
        )
    for name, values, expected in (
        ("tokens", given.tokens, n_pos),
        ("token_ids", given.token_ids, n_pos),
        ("logit_tokens", given.logit_tokens, n_k),
        ("logit_token_ids", given.logit_ids, n_k),
        ("logit_probabilities", given.probabilities, n_k),
    ):
        if values is not None and len(values) != expected:
            raise GraphFormatError(f"{name} has {len(values)} entries, expected {expected}")
    return n_pos, n_layers, n_k


def _dense_graph(
    arrays: dict[str, Any],
    adjacency: np.ndarray,
    features: np.ndarray,
    given: _Given,
    n_pos: int,
    n_layers: int,
    n_k: int,
) -> DenseGraph:
    """The `DenseGraph`, with placeholders for what was not given (listed in `metadata.info.inferred`)."""
    inferred = [
        k
        for k, v in (
            ("tokens", given.tokens),
            ("n_layers", arrays.get("n_layers")),
            ("logit_probabilities", given.probabilities),
            ("activations", arrays.get("activations")),
        )
        if v is None
    ]
    tokens = given.tokens if given.tokens is not None else [f"tok{p}" for p in range(n_pos)]
    logit_tokens = given.logit_tokens if given.logit_tokens is not None else [f"logit{k}" for k in range(n_k)]
    probabilities = given.probabilities
    if probabilities is None:
        probabilities = np.full(n_k, 1.0 / n_k, dtype=np.float32)
    prompt = _text(arrays, "prompt")
    return DenseGraph(
        adjacency=adjacency.astype(np.float32, copy=False),
        features=features.astype(np.int64),
        activations=_floats(arrays, "activations"),
        token_ids=given.token_ids if given.token_ids is not None else np.arange(n_pos, dtype=np.int64),
        token_strings=tokens,
        logit_token_ids=given.logit_ids if given.logit_ids is not None else np.arange(n_k, dtype=np.int64),
        logit_tokens=logit_tokens,
        logit_probabilities=probabilities,
        n_layers=n_layers,
        prompt=prompt if prompt is not None else "".join(tokens),
        metadata={
            "info": {
                "tokens_from": "tokens" if "tokens" not in inferred else "placeholders tok{pos}",
                "inferred": inferred,
            }
        },
    )


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        return [str(v) for v in np.asarray(value).reshape(-1).tolist()]
    except (ValueError, TypeError) as exc:
        raise GraphFormatError(
            f"tokens are not a list of strings ({str(exc).splitlines()[0][:120]})"
        ) from None


def _array(arrays: dict[str, Any], key: str) -> np.ndarray:
    """`arrays[key]` as a numpy array, or GraphFormatError naming the field."""
    try:
        return np.asarray(arrays[key])
    except (ValueError, TypeError, OverflowError) as exc:
        raise GraphFormatError(f"{key} is not an array ({str(exc).splitlines()[0][:120]})") from None


def _ints(arrays: dict[str, Any], key: str) -> np.ndarray | None:
    if arrays.get(key) is None:
        return None
    array = _array(arrays, key).reshape(-1)
    if not np.issubdtype(array.dtype, np.integer):
        raise GraphFormatError(f"{key}: expected integer token ids, got {array.dtype}")
    return array.astype(np.int64)


def _floats(arrays: dict[str, Any], key: str) -> np.ndarray | None:
    if arrays.get(key) is None:
        return None
    array = _array(arrays, key).reshape(-1)
    if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise GraphFormatError(f"{key} must hold real numbers, got {array.dtype}")
    return array.astype(np.float32)


def _count(arrays: dict[str, Any], key: str) -> int | None:
    """A positive whole number stored as a scalar (or one-element) array."""
    if arrays.get(key) is None:
        return None
    array = _array(arrays, key).reshape(-1)
    if array.size != 1 or not np.issubdtype(array.dtype, np.integer):
        raise GraphFormatError(f"{key} must be one whole number, got {array.dtype} with {array.size} values")
    value = int(array[0])
    if not 0 < value <= 4096:
        raise GraphFormatError(f"{key} is {value}; expected 1 to 4096")
    return value


def _text(arrays: dict[str, Any], key: str) -> str | None:
    value = arrays.get(key)
    if value is None or isinstance(value, str):
        return value
    array = _array(arrays, key).reshape(-1)
    if array.size != 1 or array.dtype.kind not in "US":
        raise GraphFormatError(f"{key} must be one string, got {array.dtype} with {array.size} values")
    return str(array[0])
