"""`attrgraph validate` through the real CLI in a subprocess: exit codes, formats, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from attrgraph_testing.cli import CliResult
from attrgraph_testing.validate_helpers import feature_details, run, valid_document


def assert_clean_failure(out: CliResult, code: int, *needles: str) -> None:
    """Exit `code`, no traceback, and a one-line `attrgraph: error:` message naming the problem."""
    assert out.code == code, (out.code, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr + out.stdout
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error: "), out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("validate")
    good = valid_document()
    bad = valid_document()
    bad["links"][4]["target"] = "not-a-node"
    warn = valid_document()
    del warn["metadata"]["info"]
    paths = {"good": root / "good.json", "bad": root / "bad.json", "warn": root / "warn.json"}
    paths["good"].write_bytes(orjson.dumps(good))
    paths["bad"].write_bytes(orjson.dumps(bad))
    paths["warn"].write_bytes(orjson.dumps(warn))
    tree = root / "tree" / "features"
    tree.mkdir(parents=True)
    (root / "tree" / "graph.json").write_bytes(orjson.dumps(good))
    (tree / "7.json").write_bytes(orjson.dumps(feature_details(7)))
    (tree / "8.json").write_bytes(orjson.dumps(feature_details(9)))
    (root / "tree" / "notes.txt").write_text("not json")
    paths["tree"] = root / "tree"
    return paths


def test_valid_file_exits_0_with_summary(files) -> None:
    out = run(str(files["good"]))
    assert out.code == 0, out.stderr
    assert "valid" in out.stdout and "1 file checked: 1 valid" in out.stdout


def test_invalid_file_exits_1_and_names_the_path(files) -> None:
    out = run(str(files["bad"]))
    assert out.code == 1
    assert "links[4].target" in out.stdout and "links.endpoint" in out.stdout
    assert "invalid" in out.stdout


def test_warnings_pass_unless_strict(files) -> None:
    assert run(str(files["warn"])).code == 0
    strict = run("--strict", str(files["warn"]))
    assert strict.code == 1 and "metadata.info" in strict.stdout


def test_json_format(files) -> None:
    out = run("--format", "json", str(files["good"]), str(files["bad"]))
    assert out.code == 1
    doc = json.loads(out.stdout)
    assert doc["summary"] == {**doc["summary"], "files": 2, "valid": 1, "invalid": 1, "errors": 1}
    bad = doc["files"][1]
    assert bad["status"] == "invalid" and bad["counts"]["links.endpoint"]["count"] == 1
    column = files["bad"].read_bytes().index(b'"not-a-node"') + 1  # one-line (compact) JSON
    assert bad["problems"][0] == {
        "path": "links[4].target",
        "message": "target 'not-a-node' is not the node_id of any node",
        "expected": "the node_id of a node in `nodes`",
        "severity": "error",
        "rule": "links.endpoint",
        "line": 1,
        "column": column,
    }


def test_github_format(files) -> None:
    out = run("--format", "github", str(files["bad"]), str(files["warn"]))
    assert out.code == 1
    column = files["bad"].read_bytes().index(b'"not-a-node"') + 1
    lines = out.stdout.splitlines()
    assert any(
        line.startswith(f"::error file={files['bad']},line=1,col={column},title=attrgraph links.endpoint::")
        and "::links[4].target: " in line
        for line in lines
    )
    assert any(
        line.startswith(f"::warning file={files['warn']},line=1,col=")
        and ",title=attrgraph metadata.info-missing::" in line
        for line in lines
    )


def test_github_format_escapes_hostile_strings(tmp_path) -> None:
    doc = valid_document()
    doc["links"][0]["target"] = "x\n::error file=evil::owned"
    path = tmp_path / "evil,name.json"
    path.write_bytes(orjson.dumps(doc))
    out = run("--format", "github", str(path))
    assert out.code == 1
    assert not any(line.startswith("::error file=evil") for line in out.stdout.splitlines())
    assert "evil%2Cname.json" in out.stdout
    assert sum(line.startswith("::") for line in out.stdout.splitlines()) == 1  # one problem, one command


def test_github_escaping_rules() -> None:
    from attrgraph_cli.validate.report_github import command

    line = command("error", "a,b:c.json", "t", "50% done\r\n::error::x")
    assert line == "::error file=a%2Cb%3Ac.json,title=t::50%25 done%0D%0A::error::x"


def test_directory_is_searched_recursively(files) -> None:
    out = run("--format", "json", str(files["tree"]))
    doc = json.loads(out.stdout)
    kinds = {Path(f["path"]).name: (f["kind"], f["status"]) for f in doc["files"]}
    assert kinds == {
        "graph.json": ("graph", "valid"),
        "7.json": ("feature-details", "valid"),
        "8.json": ("feature-details", "invalid"),
    }
    assert out.code == 1


def test_glob(files) -> None:
    out = run("--format", "json", str(files["tree"] / "**" / "*.json"))
    assert len(json.loads(out.stdout)["files"]) == 3


def test_max_per_rule(tmp_path) -> None:
    doc = valid_document(2000)
    for link in doc["links"][:100]:
        link["source"] = "gone"
    path = tmp_path / "many.json"
    path.write_bytes(orjson.dumps(doc))
    out = run("--max-per-rule", "3", str(path))
    assert out.code == 1
    assert "… and 97 more like this" in out.stdout
    assert out.stdout.count("is not the node_id of any node") == 3


# ------------------------------------------------------------------------------------------ bad input
def test_empty_file(tmp_path) -> None:
    (tmp_path / "empty.json").write_bytes(b"")
    assert_clean_failure(run(str(tmp_path / "empty.json")), 2, "empty.json", "file is empty")


def test_truncated_json(tmp_path, files) -> None:
    data = files["good"].read_bytes()
    (tmp_path / "cut.json").write_bytes(data[: len(data) // 2])
    assert_clean_failure(run(str(tmp_path / "cut.json")), 2, "cut.json", "truncated JSON")


def test_not_utf8(tmp_path) -> None:
    (tmp_path / "latin1.json").write_bytes('{"metadata": {"prompt": "caf\u00e9"}}'.encode("latin-1"))
    assert_clean_failure(run(str(tmp_path / "latin1.json")), 2, "not UTF-8", "0xe9")


def test_syntax_error(tmp_path) -> None:
    (tmp_path / "broken.json").write_text('{"nodes": [1 2]}')
    assert_clean_failure(run(str(tmp_path / "broken.json")), 2, "not valid JSON", "line 1 column 14")


def test_directory_without_graphs(tmp_path) -> None:
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "empty_dir" / "readme.txt").write_text("no graphs here")
    assert_clean_failure(run(str(tmp_path / "empty_dir")), 2, "holds no graph")


def test_huge_file_is_refused_without_reading_it(tmp_path) -> None:
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:  # sparse: 2 GB on paper, nothing on disk
        handle.truncate(2 * 1024**3)
    assert_clean_failure(run(str(huge)), 2, "2.0 GB", "above the 1.0 GB limit", "--max-size")


def test_max_size_option(files) -> None:
    assert_clean_failure(run("--max-size", "1KB", str(files["good"])), 2, "above the 1.0 KB limit")
    assert_clean_failure(run("--max-size", "lots", str(files["good"])), 2, "--max-size")


def test_json_array_instead_of_object(tmp_path) -> None:
    (tmp_path / "array.json").write_text("[1, 2, 3]")
    out = run(str(tmp_path / "array.json"))
    assert out.code == 1 and "Traceback" not in out.stderr
    assert "the file holds a JSON array, not a graph object" in out.stdout


def test_nonexistent_path(tmp_path) -> None:
    assert_clean_failure(run(str(tmp_path / "missing.json")), 2, "missing.json", "no such file")


def test_glob_matching_nothing(tmp_path) -> None:
    assert_clean_failure(run(str(tmp_path / "*.nothing")), 2, "no file matches")


def test_unreadable_file_among_good_ones_still_reports_the_others(tmp_path, files) -> None:
    (tmp_path / "empty.json").write_bytes(b"")
    out = run(str(files["good"]), str(tmp_path / "empty.json"))
    assert_clean_failure(out, 2, "file is empty")
    assert "1 valid, 1 unreadable" in out.stdout


def test_no_arguments_is_a_usage_error() -> None:
    out = run()
    assert out.code == 2 and "Traceback" not in out.stderr


def test_other_formats_go_through_load_graph(tmp_path) -> None:
    import numpy as np

    from attrgraph_testing.synthetic import random_dense

    dense = random_dense(n_layers=3, n_tokens=4, n_features=30, n_logits=3, seed=1)
    path = tmp_path / "matrix.npz"
    np.savez(
        path, adjacency_matrix=dense["adjacency"], features=dense["features"], tokens=np.array(list("abcd"))
    )
    out = run("--format", "json", str(path))
    assert out.code == 0, out.stderr
    entry = json.loads(out.stdout)["files"][0]
    assert entry["kind"] == "graph" and entry["n_links"] > 0 and entry["errors"] == 0
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    failed = run(str(tmp_path / "junk.npz"))
    assert failed.code == 2 and "Traceback" not in failed.stderr and "junk.npz" in failed.stderr


def test_missing_path_does_not_stop_the_others(tmp_path, files) -> None:
    out = run("--format", "json", str(files["good"]), str(tmp_path / "missing.json"))
    assert_clean_failure(out, 2, "missing.json", "no such file")
    doc = json.loads(out.stdout)
    assert [f["status"] for f in doc["files"]] == ["valid", "unreadable"]
