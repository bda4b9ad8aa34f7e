"""The one place that unpickles `.pt` files: `torch.load(weights_only=True)` unless the user trusts the file.

circuit-tracer's `Graph.to_pt` pickles a config object (`UnifiedConfig`, or a TransformerLens
`HookedTransformerConfig` in older versions) and `LogitTarget` named tuples, which `weights_only=True`
refuses. Those are plain data, so they are allow-listed under their qualified names but mapped to inert
stand-in classes (io/pickle_allowlist.py): loading never imports circuit-tracer and never runs code from the
file. Anything else that needs full unpickling is refused with `UnsafePickleError` unless
`trust_pickle=True` (the CLI's `--trust-pickle`).
"""

from __future__ import annotations

import os
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

from attrgraph_cli.errors import GraphFormatError, UnsafePickleError
from attrgraph_cli.io.pickle_allowlist import ALLOWED_STAND_INS, PlainConfig, numpy_data_globals

__all__ = ["PlainConfig", "load_pt", "to_numpy", "to_plain"]


def load_pt(path: str | os.PathLike[str], *, trust_pickle: bool = False) -> Any:
    """Load a `.pt` file on the CPU, safely unless `trust_pickle` (see the module docstring)."""
    p = Path(path)
    if not trust_pickle and zipfile.is_zipfile(p):
        from attrgraph_cli.io.pt_numpy import Unsupported, load_pt_numpy

        try:
            return load_pt_numpy(p)  # no torch import: seconds saved, same allow-list
        except Unsupported:
            pass  # torch's own loader below (same safety rules)
        except GraphFormatError as exc:
            raise GraphFormatError(f"{p}: {exc}") from None
    try:
        import torch
    except ImportError:
        raise GraphFormatError(
            f"{p}: reading .pt files needs torch, which is not installed: pip install 'attrgraph[trace]' "
            "(or convert the file to graph JSON where torch is installed)"
        ) from None
    if trust_pickle:
        try:
            return torch.load(p, map_location="cpu", weights_only=False)
        except Exception as exc:  # noqa: BLE001 - anything torch raises on a bad file
            raise GraphFormatError(f"{p}: cannot be loaded by torch ({_first_line(exc)})") from None
    try:
        with torch.serialization.safe_globals(ALLOWED_STAND_INS + numpy_data_globals()):
            return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        culprit = _unsupported_global(str(exc))
        if culprit is None and "weights only" not in str(exc).lower() and "weights_only" not in str(exc):
            raise GraphFormatError(f"{p}: a damaged .pt file ({_first_line(exc)})") from None
        what = f"it contains a pickled `{culprit}`" if culprit else "it contains pickled Python objects"
        raise UnsafePickleError(
            f"{p}: refusing to load: {what}, and unpickling that could run arbitrary code. "
            "If you trust where this file came from, pass --trust-pickle."
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise GraphFormatError(f"{p}: a damaged or truncated .pt file ({_first_line(exc)})") from None


def to_numpy(value: Any) -> Any:
    """A torch tensor (dense or sparse) as a numpy array; other values unchanged (torch is not imported
    for them: files read by `pt_numpy` hold numpy arrays already)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return value

    if isinstance(value, torch.Tensor):
        if value.is_sparse:
            value = value.to_dense()
        if value.dtype in (torch.bfloat16, torch.float16):
            value = value.float()
        return value.detach().cpu().numpy()
    return value


#: tensors larger than this are not turned into JSON lists (metadata, not graph data)
_MAX_PLAIN_ELEMENTS = 1 << 20


def to_plain(value: Any) -> Any:
    """Tensors (torch or numpy), tuples and nested containers turned into JSON-friendly Python values."""
    import numpy as np

    if isinstance(value, (np.ndarray, np.generic)):
        if value.size > _MAX_PLAIN_ELEMENTS:
            return f"<array of shape {value.shape}, not kept>"
        return value.tolist()
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_sparse or value.numel() > _MAX_PLAIN_ELEMENTS:  # never densified or listed
            return f"<{'sparse ' if value.is_sparse else ''}tensor of shape {tuple(value.shape)}, not kept>"
        return value.item() if value.numel() == 1 and value.dim() == 0 else value.tolist()
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _unsupported_global(message: str) -> str | None:
    marker = "Unsupported global: GLOBAL "
    if marker not in message:
        return None
    return message.split(marker, 1)[1].split()[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
