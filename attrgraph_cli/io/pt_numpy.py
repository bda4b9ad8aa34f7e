"""Read a torch zip `.pt` file into numpy arrays without importing torch (importing it takes seconds).

The pickle is read by an unpickler that knows only an allow-list: torch's tensor rebuild function and
storage types (tensors become numpy arrays read from the archive's `data/` members), torch dtype names
(kept as the strings `"torch.float32"`, ...), `OrderedDict`, numpy's scalar reconstructors and the inert
stand-ins of `torch_files` for circuit-tracer's config and `LogitTarget`. Anything else raises
`Unsupported`, and the caller falls back to `torch.load(weights_only=True)`, which applies the same
safety rules with torch's own machinery (bfloat16 storages, sparse tensors, legacy files).
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from attrgraph_cli.errors import GraphFormatError

_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
_TORCH_DTYPES = {
    "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
    "float", "double", "half", "long", "int",
}  # fmt: skip


class Unsupported(Exception):
    """The file needs something this reader does not do (the caller uses torch instead)."""


class _StorageType:
    def __init__(self, dtype: str) -> None:
        self.dtype = np.dtype(dtype)


def _stand_ins() -> dict[tuple[str, str], Any]:
    from attrgraph_cli.io.pickle_allowlist import ALLOWED_STAND_INS, numpy_data_globals

    found: dict[tuple[str, str], Any] = {}
    for cls, qualified in ALLOWED_STAND_INS:
        module, _, name = qualified.rpartition(".")
        found[(module, name)] = cls
    for entry in numpy_data_globals():
        if isinstance(entry, tuple):
            module, _, name = entry[1].rpartition(".")
            found[(module, name)] = entry[0]
        else:
            found[(entry.__module__, entry.__name__)] = entry
    found[("numpy", "dtype")] = np.dtype
    return found


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive, self._prefix = archive, prefix
        self._storages: dict[str, np.ndarray] = {}
        self._allowed = _stand_ins()

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "torch" and name in _TORCH_DTYPES:
            return f"torch.{name}"
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        found = self._allowed.get((module, name))
        if found is None:
            raise Unsupported(f"{module}.{name}")
        return found

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise Unsupported(f"persistent id {str(pid)[:60]}")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise Unsupported(f"storage type {storage_type!r}")
        key = str(key)
        if key not in self._storages:
            try:
                raw = self._archive.read(f"{self._prefix}data/{key}")
            except KeyError:
                raise GraphFormatError(f"the archive has no storage data/{key}") from None
            storage = np.frombuffer(bytearray(raw), dtype=storage_type.dtype)
            if len(storage) < int(numel):
                raise GraphFormatError(f"storage data/{key} holds {len(storage)} of its {numel} elements")
            self._storages[key] = storage
        return self._storages[key]


def _rebuild_tensor(
    storage: np.ndarray, offset: int, size: tuple, stride: tuple, *args: Any, **kwargs: Any
) -> np.ndarray:
    """torch's `_rebuild_tensor_v2`, as a numpy array over the storage (bounds checked)."""
    shape, strides = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(shape) != len(strides) or min(shape, default=1) < 0 or min(strides, default=0) < 0:
        raise GraphFormatError("a tensor with an invalid shape or stride")
    if 0 in shape:
        return np.zeros(shape, dtype=storage.dtype)
    extent = int(offset) + sum((n - 1) * s for n, s in zip(shape, strides, strict=True)) + 1
    if int(offset) < 0 or extent > len(storage):
        raise GraphFormatError("a tensor reaches past the end of its storage (a damaged .pt file)")
    count = int(np.prod(shape))
    contiguous = strides == tuple(int(np.prod(shape[k + 1 :])) for k in range(len(shape)))
    if contiguous:
        return storage[int(offset) : int(offset) + count].reshape(shape)
    view = np.lib.stride_tricks.as_strided(
        storage[int(offset) :], shape=shape, strides=tuple(s * storage.itemsize for s in strides)
    )
    return np.array(view)


def load_pt_numpy(path: str | Path) -> Any:
    """The object in a torch zip file, tensors as numpy arrays; `Unsupported` when torch is needed."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
            if len(pickles) != 1:
                raise Unsupported("not one data.pkl")
            prefix = pickles[0][: -len("data.pkl")]
            if f"{prefix}byteorder" in archive.namelist() and archive.read(f"{prefix}byteorder") != b"little":
                raise Unsupported("big-endian file")
            return _Unpickler(archive.read(pickles[0]), archive, prefix).load()
    except (Unsupported, GraphFormatError):
        raise
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, TypeError) as exc:
        raise Unsupported(f"{type(exc).__name__}: {exc}") from None
