"""Where the checkout's parts are, for tests and benchmarks at any depth under tests/ or benchmarks/."""

from __future__ import annotations

from pathlib import Path

#: the repository root (this package sits directly under it)
REPO = Path(__file__).resolve().parents[1]
#: the test tree (tests/README.md says how it is laid out)
TESTS = REPO / "tests"
#: the test data shipped with the checkout
TEST_DATA = TESTS / "data"
#: ../shared beside the checkout: large real graphs and references (tests skip when it is missing)
SHARED = REPO.parent / "shared"
