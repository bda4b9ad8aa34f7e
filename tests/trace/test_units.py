"""Light unit tests of `attrgraph trace`'s pieces that need no model: names, slugs, batch files, plans."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.models import split_revision
from attrgraph_cli.trace.batch import ItemOutcome, plan, read_batch, summary_table
from attrgraph_cli.trace.engine import PromptJob, TraceOptions, slugify
from attrgraph_cli.trace.metadata import source_urls


def test_split_revision():
    assert split_revision("google/gemma-2-2b@abc123") == ("google/gemma-2-2b", "abc123")
    assert split_revision("gemma-2-2b") == ("gemma-2-2b", None)
    assert split_revision("hf://org/repo/file?revision=x") == ("hf://org/repo/file?revision=x", None)


def test_source_urls():
    assert source_urls("gemma") == ["https://huggingface.co/mwhanna/gemma-scope-transcoders"]
    assert source_urls("org/repo/sub@v1") == ["https://huggingface.co/org/repo/tree/v1/sub"]
    assert source_urls("/tmp/local/transcoders") == []


def test_slugify():
    slug = slugify("The capital of the state containing Dallas is")
    assert slug == "the-capital-of-the-state-containing-dallas-is"
    assert slugify("  ¿¡ !! ") == "graph"
    assert len(slugify("word " * 100)) <= 64


def test_options_check_rejects_bad_values():
    TraceOptions().check()
    for bad in (
        {"node_threshold": 1.5},
        {"edge_threshold": -0.1},
        {"batch_size": 0},
        {"offload": "gpu"},
        {"desired_logit_prob": 0.0},
        {"max_n_logits": 0},
    ):
        with pytest.raises(AttrgraphError):
            TraceOptions(**bad).check()


def test_read_batch_txt_and_jsonl(tmp_path):
    txt = tmp_path / "p.txt"
    txt.write_text("first prompt\n\n# a comment\nsecond prompt\n")
    assert [j.prompt for j in read_batch(txt)] == ["first prompt", "second prompt"]
    jl = tmp_path / "p.jsonl"
    rows = [
        {"prompt": "a b", "slug": "ab", "targets": [" x", " y"]},
        {"prompt": "c", "target": " z", "minus": " w"},
        "plain string prompt",
    ]
    jl.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    jobs = read_batch(jl)
    assert jobs[0] == PromptJob("a b", "ab", (" x", " y"), ())
    assert jobs[1] == PromptJob("c", None, (" z",), (" w",))
    assert jobs[2].prompt == "plain string prompt"


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "not valid JSON"),
        ('{"text": "x"}', "prompt"),
        ('{"prompt": "x", "slug": "../evil"}', "slug"),
        ('{"prompt": "x", "targets": [1]}', "'targets' must be a string or a list of strings, not an array"),
        ('{"prompt": "x", "target": 5}', "'target' must be .* not an integer"),  # the key the line used
        ('{"prompt": "x", "colour": 1}', "unknown key"),
    ],
)
def test_read_batch_rejects_bad_lines(tmp_path, line, message):
    jl = tmp_path / "bad.jsonl"
    jl.write_text('{"prompt": "fine"}\n' + line + "\n")
    with pytest.raises(AttrgraphError, match=message) as info:
        read_batch(jl)
    assert ":2:" in str(info.value)


def test_read_batch_missing_and_empty(tmp_path):
    with pytest.raises(AttrgraphError, match="no such batch file"):
        read_batch(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(AttrgraphError, match="no prompt"):
        read_batch(tmp_path / "empty.txt")


def test_plan_dedupes_slugs_and_skips_finished(tmp_path):
    jobs = [PromptJob("same prompt"), PromptJob("same prompt"), PromptJob("other", slug="mine")]
    (tmp_path / "same-prompt.json").write_text('{"metadata": {"prompt": "same prompt"}}')
    items = plan(jobs, tmp_path)
    assert [i.slug for i in items] == ["same-prompt", "same-prompt-2", "mine"]
    assert [i.skip for i in items] == [True, False, False]
    # asking for a raw .pt too: the first one is no longer complete
    items = plan(jobs, tmp_path, raw_dir=tmp_path / "raw")
    assert not items[0].skip
    assert not any(i.skip for i in plan(jobs, tmp_path, force=True))


def test_summary_table_escapes_markup():
    from rich.console import Console

    outcomes = [ItemOutcome(0, "[bold]x", "failed", 0.1, message="[red]boom")]
    console = Console(record=True, width=200)
    console.print(summary_table(outcomes, "t"))
    text = console.export_text()
    assert "[bold]x" in text and "[red]boom" in text


def test_trace_command_imports_no_torch():
    """`attrgraph --help` and `trace --help` stay light: torch is imported only when tracing."""
    code = (
        "import sys; from typer.testing import CliRunner; from attrgraph_cli.cli import app; "
        "r = CliRunner().invoke(app, ['trace', '--help']); assert r.exit_code == 0, r.output; "
        "assert 'torch' not in sys.modules and 'circuit_tracer' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
