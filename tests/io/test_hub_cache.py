"""`.pt` conversion finds a cached tokenizer from the Hugging Face cache's layout without importing
huggingface_hub (issue 28: its import was a quarter of a whole `convert`); same answer as the library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from attrgraph_cli.io.circuit_tracer_pt import _in_hub_cache, cached_tokenizer_file
from attrgraph_testing.ct_files import TOKENIZER_REPO, fake_hub


def test_cache_lookup_agrees_with_huggingface_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = pytest.importorskip("huggingface_hub")
    cache = str(fake_hub(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_CACHE", cache)
    ours = _in_hub_cache(TOKENIZER_REPO, "tokenizer.json")
    assert ours is not None and ours.is_file()
    assert Path(hub.try_to_load_from_cache(TOKENIZER_REPO, "tokenizer.json", cache_dir=cache)) == ours
    assert cached_tokenizer_file(TOKENIZER_REPO) == ours
    # control: a repo that is not cached is not found either way
    assert _in_hub_cache("nobody/absent", "tokenizer.json") is None
    assert not isinstance(hub.try_to_load_from_cache("nobody/absent", "tokenizer.json", cache_dir=cache), str)
    for bad in ("", "../x", "/etc", "a/b/c"):
        assert _in_hub_cache(bad, "tokenizer.json") is None


def test_lookup_does_not_import_huggingface_hub(tmp_path: Path) -> None:
    code = (
        "import sys; from attrgraph_cli.io.circuit_tracer_pt import cached_tokenizer_file as f; "
        f"assert f({TOKENIZER_REPO!r}) is not None; print('huggingface_hub' in sys.modules)"
    )
    env = {"HF_HUB_CACHE": str(fake_hub(tmp_path / "hub")), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
