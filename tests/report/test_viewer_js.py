"""The viewer's JavaScript in Node (Debian's `nodejs`): its JSON download writer against Python's writer."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from attrgraph_cli.io.neuronpedia_json import graph_to_document
from attrgraph_cli.report.payload import build_payload, script_safe_json
from attrgraph_testing.paths import TESTS
from attrgraph_testing.synthetic import random_graph

TOOL = TESTS / "js" / "tools" / "document.js"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Debian's nodejs package (make install)")
    return node


def js_document(graph, folder: Path) -> dict:
    """The document the viewer's "Download graph JSON" writes for `graph` (no edits, pins or selection)."""
    payload = build_payload(graph)
    (folder / "head.txt").write_text(payload.head, encoding="utf-8")
    (folder / "head.encoding").write_text(payload.head_encoding, encoding="utf-8")
    (folder / "blob.b64").write_text(payload.blob_b64, encoding="ascii")
    out = subprocess.run([_node(), str(TOOL), str(folder)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _graph():
    g = random_graph(n_links=400, n_nodes=70, n_tokens=5, n_layers=4, seed=5, n_errors=4)
    g.nodes.activation[3] = np.nan
    g.nodes.label[2] = 'a "quoted" <label> ✓'
    g.node_extra[4] = {"custom": [1, {"x": None}], "note": "kept"}
    g.link_extra[0] = {"attribution": 0.5}
    return g


def test_js_download_writer_writes_the_same_nodes_as_python(tmp_path):
    g = _graph()
    doc = js_document(g, tmp_path)
    want = json.loads(script_safe_json(graph_to_document(g)))  # JSON-normalised: NaN -> null
    assert len(doc["nodes"]) == len(want["nodes"]) == len(g.nodes)
    for got, exp in zip(doc["nodes"], want["nodes"], strict=True):
        assert got == exp, got["node_id"]
    # the links are the same set (the viewer keeps them sorted by |weight|, weights as float32)
    pairs = sorted((lk["source"], lk["target"]) for lk in doc["links"])
    assert pairs == sorted((lk["source"], lk["target"]) for lk in want["links"])
    extra = [lk for lk in doc["links"] if "attribution" in lk]
    assert len(extra) == 1 and extra[0]["source"] == want["links"][0]["source"]


def test_js_download_keeps_keys_named_like_object_prototype_members(tmp_path):
    """Issue 9: `key in obj` saw inherited names, and `o.__proto__ = v` is no property at all."""
    g = _graph()
    g.node_extra[5] = {"__proto__": {"evil": True}, "constructor": "c", "toString": 1}
    g.link_extra[1] = {"constructor": 1.5, "toString": "t", "valueOf": [2], "__proto__": None}
    doc = js_document(g, tmp_path)
    want = json.loads(script_safe_json(graph_to_document(g)))
    assert doc["nodes"] == want["nodes"]
    assert doc["nodes"][5]["__proto__"] == {"evil": True} and doc["nodes"][5]["constructor"] == "c"
    src, tgt = want["links"][1]["source"], want["links"][1]["target"]
    got = next(lk for lk in doc["links"] if (lk["source"], lk["target"]) == (src, tgt))
    assert {k: got[k] for k in ("constructor", "toString", "valueOf", "__proto__")} == {
        "constructor": 1.5,
        "toString": "t",
        "valueOf": [2],
        "__proto__": None,
    }
