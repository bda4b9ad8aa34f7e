"""For test modules that run the embedded demo model through circuit-tracer."""

from __future__ import annotations

from types import ModuleType

import pytest


def require_demo_model() -> ModuleType:
    """`attrgraph_cli.demo_model`, or skip the calling module when circuit-tracer or the model is missing."""
    pytest.importorskip("circuit_tracer")
    demo_model = pytest.importorskip("attrgraph_cli.demo_model")
    try:
        demo_model.demo_model_dir()
    except Exception as exc:  # noqa: BLE001 - not built in this checkout (DemoModelMissing)
        pytest.skip(f"the demo model is not available: {exc}", allow_module_level=True)
    return demo_model
