"""What the safe `.pt` readers may unpickle: inert stand-ins for plain-data classes and numpy's scalars.

circuit-tracer's `Graph.to_pt` pickles a config object and `LogitTarget` named tuples; both readers
(`io/torch_files.py` through `torch.load(weights_only=True)`, `io/pt_numpy.py` without torch) allow exactly
these names and map them to the classes below, so loading never imports circuit-tracer or runs file code.
"""

from __future__ import annotations

import pickle
from collections import namedtuple
from typing import Any


class PlainConfig:
    """Inert stand-in for a pickled model config: keeps the fields as attributes, runs no code."""

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots) form
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("config state is not a plain dict")
        self.__dict__.update(state)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


#: Stand-in for circuit_tracer.attribution.targets.LogitTarget (a NamedTuple of plain values).
LogitTargetRecord = namedtuple("LogitTargetRecord", ["token_str", "vocab_idx"])

ALLOWED_STAND_INS: list[tuple[Any, str]] = [
    (PlainConfig, "circuit_tracer.utils.tl_nnsight_mapping.UnifiedConfig"),
    (PlainConfig, "transformer_lens.HookedTransformerConfig.HookedTransformerConfig"),
    (PlainConfig, "transformer_lens.config.HookedTransformerConfig.HookedTransformerConfig"),
    (LogitTargetRecord, "circuit_tracer.attribution.targets.LogitTarget"),
]


def numpy_data_globals() -> list[Any]:
    """numpy's scalar / dtype reconstructors (plain numbers in pickled configs), under their pickled names."""
    import numpy as np

    try:
        from numpy._core.multiarray import scalar  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import scalar
    names = {"numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar"}
    allowed: list[Any] = [(scalar, name) for name in names]
    allowed.append(np.dtype)
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        allowed.extend(getattr(dtypes, name) for name in dir(dtypes) if name.endswith("DType"))
    return allowed
