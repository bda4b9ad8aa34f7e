"""The shared CLI runner (attrgraph_testing/cli.py, the `cli` fixture), in process and as a fresh process."""

from __future__ import annotations

import pytest


def test_in_process_and_fresh_agree_on_a_usage_error(cli, tmp_path):
    missing = tmp_path / "missing.json"
    here = cli("validate", missing)
    fresh = cli("validate", missing, fresh=True)
    assert here.code == fresh.code == 2
    assert here.error_line() == fresh.error_line() and str(missing) in here.error_line()


def test_a_run_that_succeeds_has_no_error_line(cli):
    result = cli("--help")
    assert result.code == 0 and "validate" in result.stdout
    with pytest.raises(AssertionError):
        result.error_line()
