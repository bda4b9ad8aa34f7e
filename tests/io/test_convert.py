"""`attrgraph convert` end to end: bad inputs (one line, exit 2, no traceback), in-place safety, no torch."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import numpy as np
import orjson
import pytest

from attrgraph_cli.io import save_graph
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.synthetic import random_dense, random_graph


def _run(*args: str, env: dict | None = None) -> CliResult:
    return run_cli(*args, fresh=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def graph_json(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "graph.json"
    save_graph(random_graph(n_links=2000, seed=5), path)
    return path


def _unknown_pt(path: Path) -> None:
    """A torch-style zip whose pickle is a dict of unknown keys (built without torch)."""
    buffer = io.BytesIO()
    pickle.dump({"encoder.weight": [1, 2], "decoder.bias": [3]}, buffer, protocol=2)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        archive.writestr("archive/version", "3\n")


BAD_INPUTS = {
    "missing": (None, "no such file"),
    "directory": ("DIR", "is a directory"),
    "empty": (b"", "the file is empty"),
    "whitespace": (b"  \n\t ", "only whitespace"),
    "truncated": (b'{"metadata": {"slug": "x"}, "nodes": [{"node_id": "a"', "JSON"),
    "invalid": (b'{"nodes": [1, 2,, ]}', "not valid JSON"),
    "not_utf8": (b'{"metadata": {"slug": "\xff\xfe caf\xe9"}, "nodes": [], "links": []}', "not UTF-8"),
    "binary": (b"\x00\x01\x02\x03garbage\xff\xfe" * 10, "not UTF-8"),
    "array": (b'[{"nodes": []}]', "is an array"),
    "string": (b'"just a string"', "not an object"),
    "number": (b"42", "not an object"),
    "no_nodes": (b'{"metadata": {}}', "missing top-level key 'nodes'"),
    "bad_link": (
        b'{"nodes": [{"node_id": "E_1_0", "layer": "E", "ctx_idx": 0, "feature_type": "embedding"}],'
        b' "links": [{"source": "E_1_0", "target": "ghost", "weight": 1}]}',
        "links[0].target 'ghost' is not the id of any node",
    ),
    "unknown_pt": ("PT", "unknown layout"),
    "damaged_zip": (b"PK\x03\x04" + b"\x00" * 50, "damaged or truncated archive"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2(case, tmp_path):
    content, expected = BAD_INPUTS[case]
    source = tmp_path / f"{case}.json"
    if content == "DIR":
        source.mkdir()
    elif content == "PT":
        source = tmp_path / "weights.pt"
        _unknown_pt(source)
    elif content is not None:
        source.write_bytes(content)
    result = _run("convert", str(source), "-o", str(tmp_path / "out.json"))
    assert result.code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("attrgraph: error: ") and expected in lines[0], lines[0]
    assert not (tmp_path / "out.json").exists()


def test_too_large_file_is_refused_with_a_reason(graph_json, tmp_path):
    result = _run(
        "convert", str(graph_json), "-o", str(tmp_path / "o.json"), env={"ATTRGRAPH_MAX_INPUT_MB": "0.01"}
    )
    assert result.code == 2
    assert "too large to load" in result.stderr and "Traceback" not in result.stderr


def test_sparse_huge_file_is_refused_before_reading(tmp_path):
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.write(b'{"nodes": [')
        handle.truncate(4 * 2**40)  # 4 TiB, sparse: costs no disk
    result = _run("convert", str(huge), "-o", str(tmp_path / "o.json"))
    assert result.code == 2
    assert "too large to load" in result.stderr and "Traceback" not in result.stderr


def test_convert_json_in_place_and_provenance(graph_json, tmp_path):
    path = tmp_path / "g.json"
    path.write_bytes(graph_json.read_bytes())
    before = orjson.loads(path.read_bytes())
    result = _run("convert", str(path), "-o", str(path), "--scan", "gemma-2-2b")
    assert result.code == 0, result.stderr
    after = orjson.loads(path.read_bytes())
    record = after["attrgraph"]["history"][-1]
    assert record["stage"] == "convert" and record["attrgraph_version"]
    assert record["details"]["source_format"] == "neuronpedia-json"
    assert record["inputs"][0]["sha256"] == hashlib.sha256(graph_json.read_bytes()).hexdigest()
    assert after["metadata"]["scan"] == "gemma-2-2b"
    assert after["nodes"] == before["nodes"] and after["links"] == before["links"]
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]  # no temp file left behind


def test_failed_convert_leaves_existing_output_untouched(tmp_path):
    out = tmp_path / "keep.json"
    out.write_text('{"precious": true}')
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [')
    assert _run("convert", str(bad), "-o", str(out)).code == 2
    assert out.read_text() == '{"precious": true}'


def test_convert_npz_writes_schema_valid_json(tmp_path, neuronpedia_schema_path):
    d = random_dense(n_layers=3, n_tokens=4, n_features=30, n_logits=2, seed=3)
    source = tmp_path / "m.npz"
    np.savez(source, adjacency_matrix=d["adjacency"], features=d["features"], tokens=np.array(list("abcd")))
    out = tmp_path / "m.json"
    result = _run("convert", str(source), "-o", str(out), "--slug", "my-graph", "--edge-threshold", "0.9")
    assert result.code == 0, result.stderr
    doc = json.loads(out.read_text())
    schema = json.loads(neuronpedia_schema_path.read_text())
    assert not list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    assert doc["metadata"]["slug"] == "my-graph"
    assert doc["attrgraph"]["history"][-1]["settings"]["edge_threshold"] == 0.9


def test_convert_of_json_never_imports_torch(graph_json, tmp_path):
    out = tmp_path / "o.json"
    code = (
        "import sys\n"
        "from attrgraph_cli.cli import app\n"
        "try:\n"
        f"    app(['convert', {str(graph_json)!r}, '-o', {str(out)!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('torch', 'circuit_tracer', 'transformers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert out.exists()


@pytest.mark.trace
def test_convert_clt_forge_sample(clt_forge_pt, tmp_path, neuronpedia_schema_path):
    out = tmp_path / "clt.json"
    result = _run("convert", str(clt_forge_pt), "-o", str(out))
    assert result.code == 0, result.stderr
    doc = json.loads(out.read_text())
    assert not list(
        jsonschema.Draft7Validator(json.loads(neuronpedia_schema_path.read_text())).iter_errors(doc)
    )
    assert doc["metadata"]["slug"] == "preposition_of_50"
    assert len(doc["links"]) == 478


@pytest.mark.trace
def test_unsafe_pt_via_cli_needs_trust_pickle(tmp_path):
    torch = pytest.importorskip("torch")
    d = random_dense(n_layers=2, n_tokens=3, n_features=10, n_logits=2, seed=1)
    source = tmp_path / "m.pt"
    torch.save(
        {
            "adjacency_matrix": torch.tensor(d["adjacency"]),
            "features": torch.tensor(d["features"]),
            "note": Path("not/allowed"),  # a pickled class outside the weights_only allow-list
        },
        source,
    )
    refused = _run("convert", str(source), "-o", str(tmp_path / "o.json"))
    assert refused.code == 2 and "--trust-pickle" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    trusted = _run("convert", str(source), "-o", str(tmp_path / "o.json"), "--trust-pickle")
    assert trusted.code == 0, trusted.stderr
