"""Shared test set-up: offline hub, paths to the shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from attrgraph_testing.paths import SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


@pytest.fixture(scope="session")
def clt_forge_pt(shared_dir: Path) -> Path:
    return shared_dir / "data" / "clt-forge" / "preposition_of_50.attribution_graph.pt"


@pytest.fixture(scope="session")
def neuronpedia_schema_path(shared_dir: Path) -> Path:
    return shared_dir / "reference" / "neuronpedia-graph-schema.json"


@pytest.fixture
def cli():
    """`cli("validate", path)`: run attrgraph in this process, `cli(..., fresh=True)` in a new one;
    -> `CliResult(code, stdout, stderr)` with `.error_line()` (attrgraph_testing/cli.py)."""
    from attrgraph_testing.cli import run_cli

    return run_cli


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (attrgraph_testing/chromium.py), one per test module, closed after it."""
    from playwright.sync_api import sync_playwright

    from attrgraph_testing.chromium import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
