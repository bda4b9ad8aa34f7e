"""Issue 23, the CLI and stage half: what a file says is escaped wherever it is printed, a file does not
choose what is downloaded, intervene and trace --batch bounds, `-o -` is only the JSON, no output over an
input, SIGTERM leaves no temp file, and messages that say the true reason. Each test failed before its fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from attrgraph_cli.io import save_graph
from attrgraph_cli.safetext import json_bytes, markup, printable
from attrgraph_testing import cli as testing_cli
from attrgraph_testing.synthetic import random_graph

HOSTILE = "x\n::error file=a.py,line=1::forged\r\x1b]0;title\x07\x1b[31m[bold]red[/bold]\u202e\x9b2J"


def run_cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", *args],
        capture_output=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})},
        timeout=timeout,
    )


def assert_clean(*streams: bytes, commands_allowed: int = 0) -> None:
    """No terminal control, no bidi override, no line that GitHub would read as a workflow command (but
    `commands_allowed` of our own, from `--format github`)."""
    for raw in streams:
        text = raw.decode("utf-8", "replace")
        bad = [c for c in text if (ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F or c == "\u202e"]
        assert not bad, (bad[:5], text[:2000])
        commands = [line for line in text.splitlines() if line.lstrip().startswith("::")]
        assert len(commands) <= commands_allowed, commands


def one_error_line(result: subprocess.CompletedProcess, codes: tuple[int, ...] = (1, 2)) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode in codes, (result.returncode, err)
    lines = [line for line in err.splitlines() if line.startswith("attrgraph: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def small_graph(tmp_path: Path, supernodes: list[list[str]] | None = None, name: str = "g.json") -> Path:
    path = tmp_path / name
    save_graph(random_graph(n_links=1500, n_layers=4, n_tokens=4, seed=5), path)
    if supernodes is not None:
        doc = json.loads(path.read_text())
        doc["qParams"]["supernodes"] = supernodes
        path.write_text(json.dumps(doc))
    return path


def feature_ids(path: Path, n: int = 4) -> list[str]:
    doc = json.loads(path.read_text())
    return [node["node_id"] for node in doc["nodes"] if node["feature_type"] == "cross layer transcoder"][:n]


# ---- 1. escaping -------------------------------------------------------------------------------------------
def test_printable_escapes_controls_bidi_and_a_leading_command() -> None:
    out = printable(HOSTILE)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\u202e" not in out
    assert "\\n::error" in out and "\\x1b]0;title" in out and "\\u202e" in out and "\\x9b" in out
    assert printable("  ::warning::x").lstrip().startswith("\\x3a:")
    assert printable("Texas → Austin é") == "Texas → Austin é"  # plain text unchanged
    assert markup("[bold]x") == "\\[bold]x"
    assert json.loads(json_bytes(json.dumps({"a": "\x85\u2028é"}, ensure_ascii=False).encode())) == {
        "a": "\x85\u2028é"
    }
    assert b"\xc2\x85" not in json_bytes(json.dumps({"a": "\x85"}, ensure_ascii=False).encode())


def test_cluster_table_escapes_a_hostile_kept_supernode_name(tmp_path: Path) -> None:
    base = small_graph(tmp_path)
    graph = small_graph(tmp_path, [[HOSTILE, *feature_ids(base, 3)]], name="h.json")
    result = run_cli("cluster", str(graph), "-o", str(tmp_path / "out.json"), "--max-features", "50")
    assert result.returncode == 0, result.stderr.decode()
    assert b"forged" in result.stdout  # the name is shown, as text
    assert_clean(result.stdout, result.stderr)
    assert b"[bold]red" in result.stdout  # rich markup in a name is text, not style


@pytest.mark.parametrize("command", ["validate", "convert", "render", "cluster"])
def test_error_line_escapes_a_file_name_with_a_newline(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "x\n::error file=a.py::forged\x1b[2J.json"
    bad.write_text("{not json")
    extra = {"validate": [], "render": ["-o", str(tmp_path / "o.svg")]}.get(
        command, ["-o", str(tmp_path / "o.json")]
    )
    for fmt in (["--format", "github"], ["--format", "json"], []) if command == "validate" else [[]]:
        result = run_cli(command, str(bad), *extra, *fmt)
        assert result.returncode in (1, 2), result.stderr
        assert "forged" in one_error_line(result)
        assert_clean(result.stdout, commands_allowed=1 if "github" in fmt else 0)
        assert_clean(result.stderr)


# ---- 5. SIGTERM mid-write: tests/io/test_atomic.py -----------------------------------------------------


# ---- 2. a file does not choose what is downloaded ----------------------------------------------------------
def with_history(path: Path, settings: dict, details: dict | None = None) -> Path:
    doc = json.loads(path.read_text())
    record = {
        "stage": "trace",
        "attrgraph_version": "0.1.0",
        "settings": settings,
        "inputs": [],
        "started": "2026-01-01T00:00:00Z",
        "duration_s": 1.0,
        **({"details": details} if details else {}),
    }
    doc.setdefault("attrgraph", {})["history"] = [record]
    path.write_text(json.dumps(doc))
    return path


def test_intervene_refuses_a_hub_model_named_by_the_file(tmp_path: Path) -> None:
    graph = with_history(
        small_graph(tmp_path), {"model": "evil-org/evil-tc", "transcoders": "evil-org/evil-tc"}
    )
    node = feature_ids(graph, 1)[0]
    started = time.monotonic()
    result = run_cli("intervene", str(graph), "--ablate", node, env={"HF_HUB_OFFLINE": "0"}, timeout=60)
    line = one_error_line(result)
    assert time.monotonic() - started < 30  # no hub retries
    assert "evil-org/evil-tc" in line and "a file does not choose what is downloaded" in line
    assert "--model evil-org/evil-tc --transcoders evil-org/evil-tc" in line
    # a recorded "local folder" that holds no local model is not a way round it
    graph = with_history(
        graph,
        {"model": "evil-org/evil-tc"},
        {"model_source": {"source": "local folder", "path": str(tmp_path)}},
    )
    line = one_error_line(run_cli("intervene", str(graph), "--ablate", node, env={"HF_HUB_OFFLINE": "0"}))
    assert "pass --model FOLDER" in line


# ---- 3. intervene bounds, before any model load ------------------------------------------------------------
def cli_in_process(*args: str) -> tuple[int, str, str]:
    """Run the app in this process (fast); -> exit code, stdout, stderr."""
    result = testing_cli.run_cli(*args)
    return result.code, result.stdout, result.stderr


def error_of(*args: str) -> str:
    code, _, err = cli_in_process(*args)
    lines = [line for line in err.splitlines() if line.startswith("attrgraph: error:")]
    assert code in (1, 2) and len(lines) == 1 and "Traceback" not in err, (code, err)
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "{node}@0:100000000000=0"], "outside the prompt"),
        (["--ablate", "{node}@99999999999999999999"], "outside the prompt"),
        (["--set", "{node}@all=1e308"], "beyond +-1e+06"),
        (["--scale", "{node}=*1e308"], "beyond +-1e+06"),
        (["--ablate", "{node}", "--temperature", "inf"], "--temperature inf"),
        (["--ablate", "{node}", "--temperature", "1e-320"], "--temperature"),
        (["--ablate", "{node}", "--generate", "100000"], "at most 1000 tokens"),
        (["--sweep", "{node}=-1e308:1e308:1"], "beyond +-1e+06"),
        (["--sweep", "{node}=0:1:1e-320"], "at most 401 per sweep"),
        (["--ablate", "{node}", "--tolerance", "inf"], "finite"),
        (["--ablate", "{node}", "--constrained-layers", "0:100000000000000000000"], "B <= 4096"),
    ],
)
def test_intervene_refuses_values_that_overflow_before_loading_a_model(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    graph = small_graph(tmp_path)
    node = feature_ids(graph, 1)[0]
    started = time.monotonic()
    line = error_of("intervene", str(graph), *[a.format(node=node) for a in args])
    assert expected in line, line
    assert "records no model" not in line  # refused before the model is even looked for
    assert time.monotonic() - started < 10


def test_plan_errors_name_the_file_and_line(tmp_path: Path) -> None:
    graph = small_graph(tmp_path)
    node = feature_ids(graph, 1)[0]
    plan = tmp_path / "plan.jsonl"
    lines = [json.dumps({"ablate": node}) for _ in range(1000)]
    lines[733] = json.dumps({"ablate": "no_such_node"})
    plan.write_text("\n".join(lines) + "\n")
    line = error_of("intervene", str(graph), "--plan", str(plan))
    assert f"--plan {plan}, line 734: --ablate no_such_node" in line
    lines[733] = json.dumps({"sweep": "no_such_node=0:1:0.5"})
    plan.write_text("\n".join(lines) + "\n")
    assert "line 734" in error_of("intervene", str(graph), "--plan", str(plan))
    plan.write_text(json.dumps({"ablate": node}) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    line = error_of("intervene", str(graph), "--plan", str(plan))
    assert "line 2" in line and "nested too deeply" in line


def test_plan_interventions_are_capped(tmp_path: Path) -> None:
    graph = small_graph(tmp_path)
    node = feature_ids(graph, 1)[0]
    plan = tmp_path / "plan.jsonl"
    plan.write_text((json.dumps({"ablate": node}) + "\n") * 10_001)
    started = time.monotonic()
    line = error_of("intervene", str(graph), "--plan", str(plan))
    assert "line 10001" in line and "more than 10,000 interventions" in line
    plan.write_text((json.dumps({"ablate": node}) + "\n") * 9_900)
    line = error_of("intervene", str(graph), "--plan", str(plan), "--sweep", f"{node}=0:200:1")
    assert "10,101 interventions" in line
    plan.write_text(json.dumps({"ablate": [node] * 100_001}) + "\n")  # one line, many targets
    line = error_of("intervene", str(graph), "--plan", str(plan))
    assert "line 1" in line and "at most 100,000" in line
    assert time.monotonic() - started < 20


# ---- 6. messages -------------------------------------------------------------------------------------------
def test_a_supernode_named_like_a_node_id_or_shared_by_two_is_not_resolved_silently(tmp_path: Path) -> None:
    base = small_graph(tmp_path)
    a, b, c = feature_ids(base, 3)
    graph = small_graph(tmp_path, [[a, b, c], ["Texas", a], ["Texas", b]], name="s.json")
    line = error_of("intervene", str(graph), "--ablate", a)
    assert f"both a node id and a supernode name: write node:{a} or supernode:{a}" in line
    line = error_of("intervene", str(graph), "--ablate", "Texas")
    assert "2 supernodes are named 'Texas'" in line
    assert "several supernodes are named 'Texas'" in error_of("intervene", str(graph), "--check-supernodes")
    for target in (
        f"node:{a}",
        f"supernode:{a}",
        f"supernode:{a}@all",
    ):  # the prefixes resolve: on to the model
        assert "records no model" in error_of("intervene", str(graph), "--ablate", target)


# ---- 4. trace --batch --------------------------------------------------------------------------------------
def _lines_run_in(function, *args) -> tuple[object, int]:
    """Call `function(*args)` and count the source lines it executes (deterministic, unlike a timing)."""
    code = function.__code__
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code is not code:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        result = function(*args)
    finally:
        sys.settrace(None)
    return result, count


def test_batch_planning_is_linear_in_repeated_prompts(tmp_path: Path) -> None:
    """20,000 identical prompts took 36 s to plan (each looked for a free `-N` from 2 up). Counted in lines
    executed, not seconds: 4x the prompts costs 4x the lines (a quadratic plan would cost 16x)."""
    from attrgraph_cli.trace.batch import plan
    from attrgraph_cli.trace.engine import PromptJob

    small, small_lines = _lines_run_in(plan, [PromptJob("the same prompt")] * 2_000, tmp_path)
    items, lines = _lines_run_in(plan, [PromptJob("the same prompt")] * 8_000, tmp_path)
    assert items[-1].slug == "the-same-prompt-8000" and len({i.slug for i in items}) == 8_000
    assert len(small) == 2_000
    assert lines < 5 * small_lines, (small_lines, lines)


def test_a_resumed_batch_checks_which_prompt_a_file_holds(tmp_path: Path) -> None:
    from attrgraph_cli.trace.batch import plan
    from attrgraph_cli.trace.engine import PromptJob

    (tmp_path / "hello-world.json").write_text(json.dumps({"metadata": {"prompt": "Hello, world"}}))
    (tmp_path / "hello-world-2.json").write_text("not a graph")
    items = plan([PromptJob("hello world"), PromptJob("Hello, world")], tmp_path)
    # the file holds the second prompt: the first is not "done", and takes the next name nobody holds
    assert [(i.slug, i.skip) for i in items] == [("hello-world-3", False), ("hello-world", True)]
    assert (tmp_path / "hello-world-2.json").read_text() == "not a graph"
    os.mkfifo(tmp_path / "fifo.json")  # never opened (it would block the plan forever)
    assert [(i.slug, i.skip) for i in plan([PromptJob("fifo")], tmp_path)] == [("fifo-2", False)]


def test_a_deeply_nested_batch_line_is_one_error(tmp_path: Path) -> None:
    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.trace.batch import read_batch

    batch = tmp_path / "b.jsonl"
    batch.write_text('{"prompt": "a"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(AttrgraphError, match=r"b.jsonl:2: JSON nested too deeply"):
        read_batch(batch)


def test_ray_workers_are_capped_at_the_machine() -> None:
    from attrgraph_cli.runners.ray_runner import cap_local_workers

    assert cap_local_workers(64, {"CPU": 2.0}, "auto") == (
        2,
        "--workers 64 capped at 2: this machine has 2 CPU(s)",
    )
    assert cap_local_workers(3, {"CPU": 16.0, "GPU": 2.0}, "auto")[0] == 2
    assert cap_local_workers(3, {"CPU": 16.0, "GPU": 2.0}, "cpu") == (3, "")
    assert cap_local_workers(None, {"CPU": 2.0}, "auto") == (None, "")


# ---- 5. -o - is only the JSON; no output over an input ----------------------------------------------------
def test_cluster_to_stdout_is_only_the_json(tmp_path: Path) -> None:
    base = small_graph(tmp_path)
    graph = small_graph(tmp_path, [[HOSTILE, *feature_ids(base, 3)]], name="h.json")
    result = run_cli("cluster", str(graph), "-o", "-", "--max-features", "50")
    assert result.returncode == 0, result.stderr.decode()
    doc = orjson.loads(result.stdout)  # the whole of stdout is the graph
    assert doc["qParams"]["supernodes"][0][0] == HOSTILE  # the same JSON value...
    assert_clean(result.stdout, result.stderr)  # ...with C1 controls and bidi overrides as \u escapes
    assert b"quality (ours vs control)" in result.stderr  # the tables went to stderr


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{g}", "--format", "json", "-o", "{g}"],
        ["validate", "{g}", "--report", "sarif:{link}"],
        ["render", "{g}", "-o", "{g}", "--format", "html"],
        ["render", "{g}", "-o", "{link}", "--format", "svg"],
        ["intervene", "{g}", "--plan", "{plan}", "-o", "{plan}"],
        ["autointerp", "{g}", "-l", "{labels}", "-o", "{labels}"],
    ],
)
def test_no_output_over_an_input(tmp_path: Path, args: list[str]) -> None:
    graph = small_graph(tmp_path)
    node = feature_ids(graph, 1)[0]
    (tmp_path / "link.json").symlink_to(graph)
    plan = tmp_path / "plan.jsonl"
    plan.write_text(json.dumps({"ablate": node}) + "\n")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([{"layer": 0, "index": 1, "description": "x"}]))
    before = {p: p.read_bytes() for p in (graph, plan, labels)}
    paths = {"g": graph, "link": tmp_path / "link.json", "plan": plan, "labels": labels}
    line = one_error_line(run_cli(*[a.format(**paths) for a in args]), codes=(2,))
    assert "refusing to write over an input" in line
    assert {p: p.read_bytes() for p in before} == before


def test_in_place_stays_for_graph_json_only(tmp_path: Path, clt_forge_pt: Path) -> None:
    graph = small_graph(tmp_path)
    result = run_cli("cluster", str(graph), "-o", str(graph), "--max-features", "50")
    assert result.returncode == 0, result.stderr.decode()  # documented: in place, atomically
    assert json.loads(graph.read_text())["qParams"]["supernodes"]
    pt = tmp_path / "g.pt"
    pt.write_bytes(clt_forge_pt.read_bytes())
    line = one_error_line(run_cli("convert", str(pt), "-o", str(pt)), codes=(2,))
    assert "is the clt-forge" in line and "refusing to write over an input" in line
    assert pt.read_bytes() == clt_forge_pt.read_bytes()


def test_cluster_says_the_true_reason_there_is_nothing_to_cluster(tmp_path: Path) -> None:
    graph = small_graph(tmp_path)
    doc = json.loads(graph.read_text())
    features = [n["node_id"] for n in doc["nodes"] if n["feature_type"] == "cross layer transcoder"]
    doc["qParams"]["supernodes"] = [["everything", *features]]
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps(doc))
    code, out, err = cli_in_process("cluster", str(kept), "-o", str(tmp_path / "o.json"))
    # an error, or (a rerun with nothing new, issue 28) a note: either way the kept supernodes are the reason
    assert code in (0, 2) and "kept supernode" in err and "influence floor" not in err + out, err
    doc = json.loads(graph.read_text())
    for link in doc["links"]:
        link["weight"] = 1e308 if link["weight"] > 0 else -1e308
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps(doc))
    line = error_of("cluster", str(huge), "-o", str(tmp_path / "o.json"))
    assert "overflow" in line and "influence floor" not in line


@pytest.mark.slow
def test_intervene_and_autointerp_to_stdout_are_only_the_json(tmp_path: Path) -> None:
    """On the demo model: trace's `-o -` wrote the JSON to stderr (and crashed with -q); intervene's tables
    and TransformerLens's "Moving model to device" landed on stdout next to the graph JSON."""
    from attrgraph_testing.demo_helpers import require_demo_model

    require_demo_model()
    graph = tmp_path / "d.json"
    traced = run_cli("trace", "The capital of the state containing Dallas is", "-o", "-")
    assert traced.returncode == 0, traced.stderr.decode()
    graph.write_bytes(traced.stdout)  # the JSON is stdout (it went to stderr, and `-q` crashed)
    assert orjson.loads(traced.stdout)["nodes"]
    node = feature_ids(graph, 1)[0]
    result = run_cli("intervene", str(graph), "--ablate", node, "-o", "-")
    assert result.returncode == 0, result.stderr.decode()
    assert orjson.loads(result.stdout)["attrgraph"]["interventions"]
    assert b"top after" in result.stderr
    result = run_cli("autointerp", str(graph), "--corpus-tokens", "600", "-o", "-")
    assert result.returncode == 0, result.stderr.decode()
    assert orjson.loads(result.stdout)["nodes"]


def test_error_lines_escape_a_pdf_attachment_name(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_attachment("evil\n::error file=a.py::forged\x1b[2J\u202e\x9b.txt", b"hello")
    pdf = tmp_path / "x.json"
    with open(pdf, "wb") as handle:
        writer.write(handle)
    for args in (
        ["validate", str(pdf), "--format", "github"],
        ["render", str(pdf), "-o", str(tmp_path / "o.svg")],
    ):
        result = run_cli(*args)
        assert "forged" in one_error_line(result)
        assert_clean(result.stdout, commands_allowed=1 if "github" in args else 0)
        assert_clean(result.stderr)


def test_trace_outputs_are_distinct_files_and_rename_avoids_node_ids(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    line = error_of("trace", "hello", "-o", str(out), "--render", str(out))
    assert "is the file -o writes too" in line and not out.exists()
    graph = small_graph(tmp_path, [["Texas", *feature_ids(small_graph(tmp_path), 2)]], name="s.json")
    node = feature_ids(graph, 3)[2]
    line = error_of("cluster", str(graph), "-o", str(tmp_path / "o.json"), "--rename", f"Texas={node}")
    assert f"{node!r} is a node id of the graph" in line


def test_a_batch_holds_at_most_100k_prompts(tmp_path: Path) -> None:
    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.trace.batch import read_batch

    batch = tmp_path / "b.txt"
    batch.write_text("a\n" * 100_000 + "# comment\n" + "a\n" * 10)
    with pytest.raises(AttrgraphError, match=r"b.txt:100002: more than 100,000 prompts"):
        read_batch(batch)
    batch.write_text("a\n" * 100_000)
    assert len(read_batch(batch)) == 100_000
