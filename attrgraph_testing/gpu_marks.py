"""The marks every GPU test module carries: in the `trace` group, marked `gpu`, skipped without CUDA."""

from __future__ import annotations

import pytest


def gpu_marks(torch) -> list:
    """`pytestmark` for a module of CUDA tests (`torch` is the module the caller already imported)."""
    return [
        pytest.mark.trace,
        pytest.mark.gpu,
        pytest.mark.xdist_group("trace"),
        pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    ]
