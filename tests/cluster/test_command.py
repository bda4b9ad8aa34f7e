"""`attrgraph cluster`'s command flow: model paths checked first, `--rename`, and `--causal` on a file
whose supernodes are all kept (the check runs on the kept ones instead of silently doing nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attrgraph_cli.io import save_graph
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.synthetic_groups import planted_graph


def _cli(*args: str, cwd: Path) -> CliResult:
    return run_cli(*args, fresh=True, cwd=cwd, env={"TRANSFORMERS_OFFLINE": "1"})


@pytest.fixture()
def clustered(tmp_path: Path) -> Path:
    graph, _ = planted_graph(seed=0)
    save_graph(graph, tmp_path / "planted.json")
    done = _cli("cluster", "planted.json", "-o", "c.json", cwd=tmp_path)
    assert done.code == 0, done.stderr
    return tmp_path / "c.json"


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--causal", "--model", "./no-such-model"], "--model './no-such-model'"),
        (["--transcoders", "/no/such/transcoders"], "--transcoders '/no/such/transcoders'"),
    ],
)
def test_missing_model_paths_are_one_line_before_any_work(clustered, args, flag):
    out = clustered.parent / "out.json"
    done = _cli("cluster", clustered.name, "-o", out.name, *args, cwd=clustered.parent)
    assert done.code == 2
    assert done.stderr == f"attrgraph: error: {flag}: no such file or folder\n"
    assert done.stdout == "" and not out.exists()  # nothing clustered, nothing written


def test_rerun_without_new_supernodes_says_what_happened(clustered):
    done = _cli("cluster", clustered.name, "-o", clustered.name, cwd=clustered.parent)
    assert done.code == 0, done.stderr
    assert "no new supernode" in done.stderr and "--replace" in done.stderr


def test_rename_changes_the_name_everywhere_and_nothing_else(clustered):
    before = json.loads(clustered.read_text())
    old = before["qParams"]["supernodes"][0][0]
    done = _cli(
        "cluster", clustered.name, "--rename", f"{old}=my group", "-o", "r.json", cwd=clustered.parent
    )
    assert done.code == 0, done.stderr
    assert f"renamed supernode {old!r} to 'my group'" in done.stderr
    after = json.loads((clustered.parent / "r.json").read_text())
    assert after["qParams"]["supernodes"][0] == ["my group", *before["qParams"]["supernodes"][0][1:]]
    assert after["qParams"]["supernodes"][1:] == before["qParams"]["supernodes"][1:]
    group = after["attrgraph"]["supernodes"]["groups"][0]
    assert group["name"] == "my group" and group["origin"] == "human" and group["naming"] == "renamed"
    assert group["scores"] == before["attrgraph"]["supernodes"]["groups"][0]["scores"]
    assert after["attrgraph"]["history"][-1]["settings"]["rename"] == [f"{old}=my group"]
    assert _cli("validate", "r.json", cwd=clustered.parent).code == 0


@pytest.mark.parametrize(
    "rename, message",
    [
        ("nope=x", "no supernode named 'nope'"),
        ("x", "use --rename 'OLD NAME=NEW NAME'"),
        ("SECOND", "already exists"),
    ],
)
def test_bad_renames_are_one_line_and_nothing_written(clustered, rename, message):
    names = [e[0] for e in json.loads(clustered.read_text())["qParams"]["supernodes"]]
    rename = f"{names[0]}={names[1]}" if rename == "SECOND" else rename
    done = _cli("cluster", clustered.name, "--rename", rename, "-o", "r.json", cwd=clustered.parent)
    assert done.code == 2 and message in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (clustered.parent / "r.json").exists()


# --causal on a clustered file (a model run): tests/project/test_readme_quickstart.py, on the quick start's
# graph
