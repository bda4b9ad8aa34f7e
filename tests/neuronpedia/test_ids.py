"""Neuronpedia ids and page links (conventions cited in attrgraph_cli/neuronpedia/ids.py)."""

from __future__ import annotations

import json

import pytest

from attrgraph_cli.neuronpedia.ids import (
    DEFAULT_BASE,
    base_url,
    feature_page_url,
    graph_origin,
    graph_page_url,
    neuronpedia_source,
)
from attrgraph_testing.paths import SHARED

GROUPINGS = SHARED / "data" / "groupings"


def test_named_source_set_wins():
    meta = {"scan": "gemma-2-2b", "feature_details": {"neuronpedia_source_set": "clt-hp"}}
    assert neuronpedia_source(meta) == ("gemma-2-2b", "clt-hp")
    assert neuronpedia_source({"scan": "qwen3-4b", "info": {"neuronpedia_source_set": "transcoder-hp"}}) == (
        "qwen3-4b",
        "transcoder-hp",
    )


def test_source_urls_and_transcoder_sets():
    meta = {"scan": "gemma-2-2b", "info": {"source_urls": ["https://neuronpedia.org/gemma-2-2b/clt-hp"]}}
    assert neuronpedia_source(meta) == ("gemma-2-2b", "clt-hp")
    assert neuronpedia_source({"scan": "mwhanna/gemma-scope-transcoders"}) == (
        "gemma-2-2b",
        "gemmascope-transcoder-16k",
    )
    assert neuronpedia_source({"scan": "mntss/transcoder-Llama-3.2-1B@main"}) == (
        "llama-3.2-1b",
        "skip-transcoder-mntss",
    )
    assert neuronpedia_source({"scan": "gemma-2-2b"}) == ("gemma-2-2b", "gemmascope-transcoder-16k")


@pytest.mark.skipif(not GROUPINGS.is_dir(), reason="shared grouping graphs absent")
def test_real_neuronpedia_graph_maps_to_clt_hp():
    meta = json.loads((GROUPINGS / "jordan.graph.json").read_text())["metadata"]
    assert neuronpedia_source(meta) == ("gemma-2-2b", "clt-hp")


def test_unknown_or_hostile_scan_is_none():
    assert neuronpedia_source({"scan": "attrgraph-demo"}) is None
    assert neuronpedia_source({"scan": "synthetic"}) is None
    assert neuronpedia_source({"scan": "a/b", "feature_details": {"neuronpedia_source_set": "x"}}) is None
    bad = {"scan": "gemma-2-2b", "feature_details": {"neuronpedia_source_set": "../../evil?x=<b>"}}
    assert neuronpedia_source(bad) is None
    assert neuronpedia_source({"scan": 5}) is None
    assert neuronpedia_source("nope") is None  # type: ignore[arg-type]


def test_urls():
    assert (
        feature_page_url(DEFAULT_BASE, "gemma-2-2b", "gemmascope-transcoder-16k", 20, 1234)
        == "https://www.neuronpedia.org/gemma-2-2b/20-gemmascope-transcoder-16k/1234"
    )
    assert feature_page_url("http://h:1/", "gemma-2-2b", "clt-hp", 0, 7) == "http://h:1/gemma-2-2b/0-clt-hp/7"
    assert graph_page_url(DEFAULT_BASE, "gemma-2-2b", "a b&c") == (
        "https://www.neuronpedia.org/gemma-2-2b/graph?slug=a%20b%26c"
    )
    assert graph_origin({"info": {"neuronpedia_graph_page": "https://x/m/graph?slug=s"}}) == (
        "https://x/m/graph?slug=s"
    )
    assert graph_origin({"info": {"neuronpedia_graph_page": "javascript:alert(1)"}}) is None


def test_base_url(monkeypatch):
    monkeypatch.delenv("ATTRGRAPH_NEURONPEDIA_URL", raising=False)
    assert base_url() == DEFAULT_BASE
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", "http://127.0.0.1:9/")
    assert base_url() == "http://127.0.0.1:9"
    for bad in ("file:///etc", "ftp://x", "http://a\nb"):
        monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", bad)
        with pytest.raises(ValueError):
            base_url()
