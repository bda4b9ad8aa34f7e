"""A quiet exit for replacement models that are still alive when Python shuts down.

circuit-tracer's `ReplacementModel.__del__` resets the model's hooks. A model held in a module-level
variable (`model = load_replacement_model()` in a script) is deleted only after Python has torn torch's
modules down, and that reset then fails inside `torch.nn.Module.__setattr__`, printing `Exception ignored
in: <function TransformerLensReplacementModel.__del__ ...>` and a TypeError traceback after the script's
own output. Models handed out by attrgraph are reset at exit instead, while torch still works, and their
`__del__` is then skipped.
"""

from __future__ import annotations

import atexit
import weakref
from typing import Any

_LIVE: weakref.WeakSet[Any] = weakref.WeakSet()
_QUIET: dict[type, type] = {}
_REGISTERED: list[bool] = []


def quiet_at_exit(model: Any) -> Any:
    """Register `model` to be reset at interpreter exit (before teardown); return it."""
    if not _REGISTERED:
        atexit.register(_reset_live)
        _REGISTERED.append(True)
    _LIVE.add(model)
    return model


def _reset_live() -> None:
    for model in list(_LIVE):
        try:
            model.reset_hooks(including_permanent=True)
        except Exception:  # noqa: BLE001 - at exit, a failing reset must not hide the script's own result
            pass
        cls = type(model)
        if cls not in _QUIET:
            _QUIET[cls] = type(cls.__name__, (cls,), {"__del__": _no_del, "__module__": cls.__module__})
        model.__class__ = _QUIET[cls]


def _no_del(self: Any) -> None:
    """The hooks were reset at exit; nothing is left to do at deletion."""
