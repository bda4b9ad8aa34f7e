"""The stage path (stages/pipeline.py): load, run and finish halves; settings read off the options."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from attrgraph_cli.io import save_graph
from attrgraph_cli.stages import (
    NOT_RECORDED,
    StageCheckFailed,
    StageOutcome,
    finish_stage,
    record_settings,
    run_stage,
)
from attrgraph_testing.synthetic import random_graph


@dataclass
class Inner:
    corpus: Path | None = None
    progress: bool = field(default=True, metadata=NOT_RECORDED)


@dataclass
class Options:
    sources: list[Path] = field(default_factory=list)
    layers: tuple[int, ...] = (1, 2)
    inner: Inner = field(default_factory=Inner)
    seed: int = 0
    endpoint: str = field(default="https://x.example/v1?key=secret", metadata={"record": lambda v: "given"})


def test_record_settings_reads_the_options_once():
    opts = Options([Path("/a/b/labels.csv")], inner=Inner(Path("/x/corpus.txt")), seed=3)
    assert record_settings(opts) == {
        "sources": ["labels.csv"],  # file names only: files travel
        "layers": [1, 2],
        "inner": {"corpus": "corpus.txt"},  # `progress` is declared NOT_RECORDED
        "seed": 3,
        "endpoint": "given",  # recorded as its field's metadata says, not as it is
    }


def test_run_stage_returns_the_result_and_the_time(tmp_path):
    source, out = tmp_path / "in.json", tmp_path / "out.json"
    save_graph(random_graph(n_links=200, seed=1), source)
    outcome = run_stage("demo", source, out, lambda g: StageOutcome(g, {"n": 1}, "did it", result=[1, 2]), {})
    assert outcome.result == [1, 2] and outcome.seconds > 0
    record = json.loads(out.read_text())["attrgraph"]["history"][-1]
    assert record["stage"] == "demo" and record["details"] == {"n": 1}
    assert [i["role"] for i in record["inputs"]] == ["graph"]


def test_finish_stage_alone_records_checks_and_writes(tmp_path):
    """The half `trace` uses: one history record, validate's check (rule named), atomic write."""
    graph = random_graph(n_links=200, seed=2)
    out = tmp_path / "g.json"
    finish_stage(
        "trace",
        StageOutcome(graph, {"k": 1}),
        {"model": "m"},
        [],
        out,
        started_at="2026-01-01T00:00:00+00:00",
        duration_s=1.0,
    )
    history = json.loads(out.read_text())["attrgraph"]["history"]
    assert [r["stage"] for r in history] == ["trace"] and history[0]["settings"] == {"model": "m"}

    broken = random_graph(n_links=200, seed=3)
    broken.metadata["slug"] = 5  # the schema wants a string
    bad = tmp_path / "bad.json"
    with pytest.raises(StageCheckFailed) as caught:
        finish_stage(
            "trace", StageOutcome(broken), {}, [], bad, started_at="2026-01-01T00:00:00+00:00", duration_s=0.0
        )
    assert caught.value.exit_code == 2 and caught.value.rule and "nothing written" in str(caught.value)
    assert not bad.exists()
