"""Test and benchmark support for attrgraph: synthetic graphs, tiny models, circuit-tracer files, Chromium.

One importable place for what `tests/` and `benchmarks/` share (neither imports the other). It is not part of
the `attrgraph_cli` package: the package never imports it (tests/project/test_architecture.py checks that) and
the wheel does not ship it. Run from the repository root (pytest's `pythonpath` and `python -m benchmarks` put
the root on `sys.path`).
"""
