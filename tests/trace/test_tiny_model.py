"""`attrgraph trace` end to end on a tiny random-weight model (built once per session, no hub access)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("circuit_tracer")


from attrgraph_cli.graph.model import NodeKind  # noqa: E402
from attrgraph_testing import cli as testing_cli  # noqa: E402
from attrgraph_testing.tiny_model import build_tiny_model  # noqa: E402

pytestmark = [pytest.mark.trace, pytest.mark.xdist_group("trace")]

PROMPT = "The capital of the state containing Dallas is"


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def loaded(tiny):
    from attrgraph_cli.models import ModelRequest, load_model

    return load_model(ModelRequest(model=str(tiny.folder), device="cpu"))


def run_cli(*args: str) -> tuple[int, str, str]:
    """`attrgraph trace ARGS` in this process (the one CLI runner) -> exit code, stdout, stderr."""
    result = testing_cli.run_cli("trace", *args)
    return result.code, result.stdout, result.stderr


def local(tiny) -> tuple[str, ...]:
    return ("--model", str(tiny.folder), "--device", "cpu")


def assert_one_line_error(code: int, stderr: str, *needles: str, exit_code: int = 2) -> None:
    assert code == exit_code, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error: "), stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


# ---- one prompt ------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def traced(tiny, tmp_path_factory):
    """One CLI trace with --raw, shared by the tests that only read its outputs."""
    out = tmp_path_factory.mktemp("traced")
    code, out_text, err = run_cli(
        PROMPT, *local(tiny), "-o", str(out / "g.json"), "--raw", str(out / "g.pt"), "--quiet"
    )
    assert code == 0, err
    assert err == "" and out_text == ""  # --quiet: nothing on stderr or stdout
    return out


def test_trace_writes_valid_graph_json(traced, tiny):
    from attrgraph_cli.io import load_graph

    doc = read_json(traced / "g.json")
    meta = doc["metadata"]
    assert meta["slug"] == "the-capital-of-the-state-containing-dallas-is"
    assert meta["scan"] == "tiny-random-transcoders"
    assert meta["prompt"] == PROMPT
    assert meta["prompt_tokens"][1:] == PROMPT.split()
    assert meta["generation_settings"]["max_n_logits"] == 10
    assert meta["generation_settings"]["batch_size"] == 256
    assert meta["pruning_settings"] == {"node_threshold": 0.8, "edge_threshold": 0.98}
    history = doc["attrgraph"]["history"]
    assert [r["stage"] for r in history] == ["trace"]
    assert history[0]["settings"]["max_n_logits"] == 10 and history[0]["duration_s"] > 0
    record = history[0]["details"]
    assert record["circuit_tracer_version"] == "0.5.0"
    assert record["model"] == "tiny-random" and record["transcoder_set"].endswith("transcoders")
    for phase in ("load_model", "forward", "feature_attribution", "prune_convert", "write_raw"):
        assert record["wall_time_s"][phase] >= 0.0, phase
    assert meta["info"]["generator"]["version"].startswith("attrgraph")
    graph = load_graph(traced / "g.json")
    assert (graph.nodes.kind == NodeKind.EMBEDDING).sum() == len(PROMPT.split()) + 1
    assert (graph.nodes.kind == NodeKind.FEATURE).sum() > 0
    assert 1 <= (graph.nodes.kind == NodeKind.LOGIT).sum() <= 10
    assert len(graph.edges) > 0


def test_trace_json_matches_circuit_tracer_own_files(traced, tmp_path):
    """Oracle: circuit-tracer's create_graph_files on the same raw graph gives the same nodes and links."""
    from circuit_tracer.graph import Graph
    from circuit_tracer.utils.create_graph_files import create_graph_files

    raw = Graph.from_pt(str(traced / "g.pt"))
    create_graph_files(raw, slug="peer", output_path=str(tmp_path), node_threshold=0.8, edge_threshold=0.98)
    peer, ours = read_json(tmp_path / "peer.json"), read_json(traced / "g.json")
    # where circuit-tracer's error id collides with a feature id ours differs on purpose: map it back
    renamed = ours["metadata"]["info"].get("attrgraph", {}).get("renamed_error_nodes", {})
    back = {new: old for old, new in renamed.items()}
    ids = [n["node_id"] for n in ours["nodes"]]
    assert len(ids) == len(set(ids))
    assert {back.get(i, i) for i in ids} == {n["node_id"] for n in peer["nodes"]}
    peer_links = {(x["source"], x["target"]): x["weight"] for x in peer["links"]}
    our_links = {(back.get(x["source"], x["source"]), back.get(x["target"], x["target"])): x["weight"]
                 for x in ours["links"]}  # fmt: skip
    assert our_links.keys() == peer_links.keys()
    keys = sorted(peer_links)
    ours_w, peer_w = [our_links[k] for k in keys], [peer_links[k] for k in keys]
    np.testing.assert_allclose(ours_w, peer_w, rtol=1e-5, atol=1e-7)


def test_raw_graph_is_the_unpruned_circuit_tracer_graph(traced, tiny):
    from circuit_tracer.graph import Graph

    raw = Graph.from_pt(str(traced / "g.pt"))
    n_tokens = len(PROMPT.split()) + 1
    n_features = len(raw.selected_features)
    n_logits = len(raw.logit_targets)
    assert raw.adjacency_matrix.shape[0] == n_features + tiny.n_layers * n_tokens + n_tokens + n_logits
    assert raw.input_string == PROMPT
    assert raw.scan == "tiny-random-transcoders"


def test_target_tokens_choose_the_logit_nodes(tiny, tmp_path):
    out = tmp_path / "t.json"
    code, _, err = run_cli(
        PROMPT, *local(tiny), "-o", str(out), "--target", " Austin", "--target", " Texas", "-q"
    )
    assert code == 0, err
    doc = read_json(out)
    logits = [n for n in doc["nodes"] if n["feature_type"] == "logit"]
    tokens = sorted(n["clerp"].split('"')[1] for n in logits)
    assert tokens == ["Austin", "Texas"]  # the word-level tokenizer decodes without the leading space
    austin_id = tiny.vocab.index("Austin")
    assert any(n["node_id"] == f"{tiny.n_layers + 1}_{austin_id}_{len(PROMPT.split())}" for n in logits)
    targets = doc["metadata"]["generation_settings"]["attribution_targets"]
    assert [t["token"] for t in targets] == [" Austin", " Texas"]


def test_logit_difference_is_the_difference_of_the_two_logit_rows(loaded):
    """--target A --minus B attributes unembed[A] - unembed[B]: its row equals row(A) - row(B)."""
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt

    options = TraceOptions(max_feature_nodes=None)  # every feature: the same rows in both graphs
    both = trace_prompt(loaded, PromptJob(PROMPT, targets=(" Austin", " Dallas")), options)
    diff = trace_prompt(loaded, PromptJob(PROMPT, targets=(" Austin",), minus=(" Dallas",)), options)
    a_both, a_diff = both.raw.adjacency_matrix, diff.raw.adjacency_matrix
    n_src = a_both.shape[0] - 2
    expected = a_both[-2, :n_src] - a_both[-1, :n_src]
    np.testing.assert_allclose(a_diff[-1, :n_src].numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)
    assert diff.raw.logit_targets[0].token_str == "logit( Austin)-logit( Dallas)"
    assert abs(float(expected.abs().sum())) > 0  # not a vacuous comparison
    logit_rows = diff.graph.nodes.kind == NodeKind.LOGIT
    assert list(diff.graph.nodes.logit_token[logit_rows]) == ["logit( Austin)-logit( Dallas)"]


def test_options_reach_circuit_tracer(loaded):
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt

    result = trace_prompt(
        loaded,
        PromptJob(PROMPT, slug="custom"),
        TraceOptions(
            max_feature_nodes=20,
            max_n_logits=3,
            desired_logit_prob=0.99,
            batch_size=7,
            node_threshold=0.5,
            edge_threshold=0.9,
        ),
    )
    assert len(result.raw.selected_features) == 20
    assert len(result.raw.logit_targets) <= 3
    meta = result.graph.metadata
    assert meta["slug"] == "custom"
    assert meta["generation_settings"]["max_feature_nodes"] == 20
    assert meta["generation_settings"]["batch_size"] == 7
    assert meta["pruning_settings"] == {"node_threshold": 0.5, "edge_threshold": 0.9}
    assert meta["node_threshold"] == 0.5


def test_offload_cpu_gives_the_same_graph(loaded):
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt

    plain = trace_prompt(loaded, PromptJob(PROMPT), TraceOptions())
    offloaded = trace_prompt(loaded, PromptJob(PROMPT), TraceOptions(offload="cpu"))
    a, b = offloaded.raw.adjacency_matrix, plain.raw.adjacency_matrix
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_render_chains_the_html_report(tiny, tmp_path):
    pytest.importorskip("attrgraph_cli.report.html")
    code, _, err = run_cli(
        PROMPT, *local(tiny), "-o", str(tmp_path / "g.json"), "--render", str(tmp_path / "g.html"), "-q"
    )
    assert code == 0, err
    html = (tmp_path / "g.html").read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "the-capital-of-the-state-containing-dallas-is" in html


def test_progress_and_summary_on_stderr(tiny, tmp_path):
    code, _, err = run_cli("Paris is in", *local(tiny), "-o", str(tmp_path / "g.json"))
    assert code == 0, err
    assert "paris-is-in -> " in err and "nodes" in err and "links" in err and " s\n" in err


def test_validation_failure_writes_nothing(tiny, tmp_path, monkeypatch):
    """trace takes the stage finish every command takes: a failed check is exit 2 with the rule named."""
    from attrgraph_cli.validate import engine
    from attrgraph_cli.validate.problems import Problem

    real = engine.validate_bytes

    def planted(data, name, **kwargs):
        result = real(data, name, **kwargs)
        result.sink.problems.insert(0, Problem("links", "a planted problem", "", "error", "links.planted"))
        return result

    monkeypatch.setattr(engine, "validate_bytes", planted)
    out, page = tmp_path / "g.json", tmp_path / "g.html"
    code, _, err = run_cli(PROMPT, *local(tiny), "-o", str(out), "--render", str(page), "-q")
    assert_one_line_error(code, err, "[links.planted]", "a planted problem", "nothing written", exit_code=2)
    assert not out.exists() and not page.exists()


# ---- errors: one clear line, exit 2, no traceback ---------------------------------------------------------
@pytest.mark.parametrize(
    "prompt, extra, needles",
    [
        ("", (), ("prompt is empty",)),
        ("   ", (), ("prompt is empty",)),
        (" ".join(["the"] * 40), (), ("41 tokens", "context is 24")),
        (PROMPT, ("--target", " Zebra"), ("' Zebra'", "not in the vocabulary")),
        (PROMPT, ("--target", " Austin Texas"), ("' Austin Texas'", "2 tokens")),
        (PROMPT, ("--target", " Austin", "--minus", " Zebra"), ("--minus ' Zebra'",)),
        (PROMPT, ("--minus", " Dallas"), ("--minus needs a --target",)),
        (PROMPT, ("--offload", "gpu"), ("--offload must be cpu or disk",)),
        (PROMPT, ("--node-threshold", "2"), ("--node-threshold must be between 0 and 1",)),
        (PROMPT, ("--backend", "jax"), ("unknown --backend",)),
        (PROMPT, ("--dtype", "int3"), ("unknown --dtype",)),
    ],
)
def test_bad_input_is_one_line(tiny, tmp_path, prompt, extra, needles):
    out = tmp_path / "g.json"
    code, _, err = run_cli(prompt, *local(tiny), "-o", str(out), "-q", *extra)
    assert_one_line_error(code, err, *needles)
    assert not out.exists()


def test_cuda_without_gpu(tiny, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    code, _, err = run_cli(
        PROMPT, "--model", str(tiny.folder), "--device", "cuda", "-o", str(tmp_path / "g.json")
    )
    assert_one_line_error(code, err, "--device cuda", "no CUDA GPU")


def test_cuda_out_of_memory_suggests_the_remedies(tiny, tmp_path, monkeypatch):
    import circuit_tracer
    import torch

    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(circuit_tracer, "attribute", out_of_memory)
    code, _, err = run_cli(PROMPT, *local(tiny), "-o", str(tmp_path / "g.json"))
    assert_one_line_error(code, err, "CUDA out of memory", "--offload", "--batch-size", "--max-feature-nodes")


def test_missing_local_folders(tiny, tmp_path):
    code, _, err = run_cli(PROMPT, "--model", str(tmp_path / "nope"), "-o", str(tmp_path / "g.json"))
    assert_one_line_error(code, err, "does not exist", "nope")
    code, _, err = run_cli(
        PROMPT,
        "--model",
        str(tiny.folder),
        "--transcoders",
        str(tmp_path / "nothing"),
        "--device",
        "cpu",
        "-o",
        str(tmp_path / "g.json"),
    )
    assert_one_line_error(code, err, "transcoder folder", "does not exist")


def offline_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_CACHE=str(tmp_path / "hf-home" / "hub"),
        CIRCUIT_TRACER_CACHE_DIR=str(tmp_path / "ct-cache"),
    )
    return env


@pytest.mark.xdist_group("trace-b")  # the other xdist worker: the two halves run side by side
@pytest.mark.slow
def test_hub_names_offline_and_not_cached(tiny, tmp_path):
    """A fresh process, as a user would run it: hub transcoders, then a hub model, neither cached."""
    cli = [sys.executable, "-m", "attrgraph_cli", "trace", PROMPT, "-o", str(tmp_path / "g.json")]
    env = offline_env(tmp_path)
    proc = subprocess.run(
        [*cli, "--device", "cpu", "--model", "gemma-2-2b"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_one_line_error(
        proc.returncode,
        proc.stderr,
        "transcoder set 'gemma'",
        "HF_HUB_OFFLINE",
        str(tmp_path / "hf-home" / "hub"),
        str(tmp_path / "ct-cache"),
    )
    proc = subprocess.run(
        [*cli, "--device", "cpu", "--model", "gemma-2-2b@main", "--transcoders", str(tiny.transcoders_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_one_line_error(proc.returncode, proc.stderr, "model 'gemma-2-2b@main'", "HF_HUB_OFFLINE")


# ---- batch ------------------------------------------------------------------------------------------------
@pytest.mark.xdist_group("trace-b")  # the other xdist worker: the two halves run side by side
def test_batch_one_model_load_resume_and_failures(tiny, tmp_path, monkeypatch):
    from attrgraph_cli import models

    loads = []
    real_load = models.load_model
    monkeypatch.setattr(models, "load_model", lambda req: loads.append(req) or real_load(req))
    prompts = tmp_path / "p.jsonl"
    rows = [
        {"prompt": PROMPT, "slug": "dallas", "targets": [" Austin"], "minus": [" Dallas"]},
        {"prompt": "Paris is in"},
        {"prompt": "Paris is in"},
        {"prompt": "The red fox", "targets": [" Zebra"]},
        {"prompt": ""},
    ]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "graphs"
    args = ("--batch", str(prompts), *local(tiny), "-o", str(out), "--raw", str(tmp_path / "raw"))
    code, _, err = run_cli(*args)
    assert code == 1, err  # some prompts failed: reported, not fatal to the others
    assert err.strip().splitlines()[-1].startswith("attrgraph: error: 2 of 5 prompts failed")
    assert "Traceback" not in err
    assert len(loads) == 1
    assert sorted(p.name for p in out.glob("*.json")) == [
        "batch-report.json",
        "dallas.json",
        "paris-is-in-2.json",
        "paris-is-in.json",
    ]
    assert sorted(p.name for p in (tmp_path / "raw").glob("*.pt")) == [
        "dallas.pt",
        "paris-is-in-2.pt",
        "paris-is-in.pt",
    ]
    report = read_json(out / "batch-report.json")
    status = {item["slug"]: (item["status"], item["message"]) for item in report["items"]}
    assert status["the-red-fox"][0] == "failed" and "Zebra" in status["the-red-fox"][1]
    assert status["graph"][0] == "failed" and "empty" in status["graph"][1]
    assert read_json(out / "dallas.json")["metadata"]["slug"] == "dallas"

    # resume: finished graphs are skipped (files untouched); only the failed prompts run again
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "batch-report.json"}
    code, _, err = run_cli(*args)
    assert code == 1
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "batch-report.json"}
    assert after == before
    report = read_json(out / "batch-report.json")
    assert [i["status"] for i in report["items"]] == ["skipped", "skipped", "skipped", "failed", "failed"]


def test_batch_all_done_loads_no_model(tiny, tmp_path, monkeypatch):
    from attrgraph_cli import models

    prompts = tmp_path / "p.txt"
    prompts.write_text("Paris is in\n")
    out = tmp_path / "graphs"
    args = ("--batch", str(prompts), *local(tiny), "-o", str(out), "-q")
    assert run_cli(*args)[0] == 0
    monkeypatch.setattr(models, "load_model", lambda req: pytest.fail("model loaded for nothing"))
    code, _, err = run_cli(*args)
    assert code == 0, err
    assert read_json(out / "batch-report.json")["items"][0]["status"] == "skipped"


def test_batch_usage_errors(tiny, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("Paris is in\n")
    code, _, err = run_cli("a prompt", "--batch", str(prompts), "-o", str(tmp_path / "o"))
    assert_one_line_error(code, err, "not both")
    code, _, err = run_cli("--batch", str(prompts), "--target", " x", "-o", str(tmp_path / "o"))
    assert_one_line_error(code, err, ".jsonl")
    code, _, err = run_cli("--batch", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o"))
    assert_one_line_error(code, err, "no such batch file")
    code, _, err = run_cli("-o", str(tmp_path / "o.json"))
    assert_one_line_error(code, err, "no prompt")


@pytest.mark.xdist_group("trace-b")  # the other xdist worker: the two halves run side by side
def test_gemma2_architecture_at_small_size(tmp_path):
    """RMSNorm before and after, rotary, grouped-query attention, soft-capping: gemma-2's path, on CPU."""
    from attrgraph_cli.models.request import ModelRequest, loaded_model
    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
    from attrgraph_testing.tiny_model import build_gemma2_like, build_tokenizer

    build_tokenizer(tmp_path / "tok")
    model = build_gemma2_like(
        tmp_path / "tok", "cpu", n_layers=2, d_model=64, d_head=16, n_heads=4, n_key_value_heads=2,
        d_mlp=128, d_vocab=120, d_transcoder=128,
    )  # fmt: skip
    loaded = loaded_model(model, ModelRequest(device="cpu"), "cpu", "gemma-2-like", model.scan, {})
    result = trace_prompt(loaded, PromptJob(PROMPT, targets=(" Austin",)), TraceOptions())
    assert (result.graph.nodes.kind == NodeKind.FEATURE).sum() > 0
    assert result.graph.metadata["scan"] == "gemma-2-2b-random-16k"


@pytest.mark.xdist_group("trace-b")  # the other xdist worker: the two halves run side by side
def test_nnsight_backend_on_a_local_transformers_checkpoint(tmp_path):
    pytest.importorskip("nnsight")
    from attrgraph_testing.tiny_model import build_tiny_hf_llama

    folder = build_tiny_hf_llama(tmp_path / "llama")
    out = tmp_path / "g.json"
    args = ["--model", str(folder), "--transcoders", str(folder / "transcoders"), "--backend", "nnsight"]
    code, _, err = run_cli("The capital of Texas is", *args, "--device", "cpu", "-o", str(out), "-q",
                           "--target", " Austin", "--minus", " Dallas")  # fmt: skip
    assert code == 0, err
    doc = read_json(out)
    assert doc["attrgraph"]["history"][-1]["details"]["backend"] == "nnsight"
    logits = [n for n in doc["nodes"] if n["feature_type"] == "logit"]
    assert len(logits) == 1 and "logit( Austin)-logit( Dallas)" in logits[0]["clerp"]
    assert any(n["feature_type"] == "cross layer transcoder" for n in doc["nodes"])
    code, _, err = run_cli(" ".join(["the"] * 40), *args, "--device", "cpu", "-o", str(out), "-q")
    assert_one_line_error(code, err, "context is 32")


def test_progress_display_shows_the_phases(loaded):
    """On a terminal: circuit-tracer's phases and its backward batches appear in the rich display."""
    import io

    from rich.console import Console

    from attrgraph_cli.trace.engine import PromptJob, TraceOptions, trace_prompt
    from attrgraph_cli.trace.progress import TraceProgress

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with TraceProgress(console=console) as progress:
        result = trace_prompt(loaded, PromptJob(PROMPT), TraceOptions(batch_size=16), progress)
    shown = buffer.getvalue()
    assert "Running forward pass" in shown
    assert "Backward passes" in shown
    assert {"precompute", "forward", "logit_attribution", "feature_attribution"} <= result.timings.keys()


@pytest.mark.xdist_group("trace-b")  # the other xdist worker: the two halves run side by side
def test_bfloat16_runs(tiny, tmp_path):
    out = tmp_path / "g.json"
    code, _, err = run_cli(PROMPT, *local(tiny), "--dtype", "bfloat16", "-o", str(out), "-q")
    assert code == 0, err
    assert read_json(out)["metadata"]["generation_settings"]["dtype"] == "bfloat16"
