"""Hostile and careless inputs, through the CLI where each bug was seen (issue 9): one line on stderr,
exit 1 or 2, nothing half-written, nothing left behind, memory and time bounded."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import orjson
import pytest

from attrgraph_cli.io import save_graph
from attrgraph_testing.synthetic import random_graph


def run_cli(*args: str | bytes, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", *args],
        capture_output=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})},
        timeout=timeout,
    )


def one_error_line(result: subprocess.CompletedProcess, codes: tuple[int, ...] = (2,)) -> str:
    """The single `attrgraph: error:` line of a failed run (asserting the house rules on the way)."""
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode in codes, (result.returncode, err)
    lines = [line for line in err.splitlines() if line.startswith("attrgraph: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "unexpected" not in err, err
    assert "Warning" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def graph_doc(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("g") / "g.json"
    save_graph(random_graph(n_links=300, seed=1), path)
    return orjson.loads(path.read_bytes())


@pytest.fixture()
def graph_json(tmp_path: Path, graph_doc: dict) -> Path:
    path = tmp_path / "g.json"
    path.write_bytes(orjson.dumps(graph_doc))
    return path


def _write(path: Path, doc: dict) -> Path:
    path.write_bytes(orjson.dumps(doc))
    return path


def _no_temp_files(folder: Path) -> None:
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".probe"))]
    assert not leftovers, leftovers


# ---- output paths ------------------------------------------------------------------------------------------
def test_output_symlink_updates_its_target(tmp_path: Path, graph_json: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real.name)
    result = run_cli("convert", str(graph_json), "-o", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == real.name
    assert orjson.loads(real.read_bytes())["nodes"]
    _no_temp_files(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_output_device_is_written_into_not_replaced(tmp_path: Path, graph_json: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    result = run_cli("render", str(graph_json), "-o", str(device), "--format", "svg")
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(device.lstat().st_mode)
    _no_temp_files(tmp_path)


def test_output_fifo_is_written_into(tmp_path: Path, graph_json: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run_cli("convert", str(graph_json), "-o", str(fifo))
    reader.join(30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert orjson.loads(received[0])["links"]
    _no_temp_files(tmp_path)


def test_output_dash_is_stdout(tmp_path: Path, graph_json: Path) -> None:
    result = run_cli("convert", str(graph_json), "-o", "-")
    assert result.returncode == 0, result.stderr
    assert len(orjson.loads(result.stdout)["links"]) == 300
    assert not (tmp_path / "-").exists()


def test_output_directory_is_refused(tmp_path: Path, graph_json: Path) -> None:
    line = one_error_line(run_cli("render", str(graph_json), "-o", str(tmp_path), "--format", "svg"))
    assert "is a directory" in line


def test_unwritable_output_folder_names_the_folder_not_a_temp_file(tmp_path: Path, graph_json: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_error_line(run_cli("convert", str(graph_json), "-o", str(blocker / "out.json")))
    assert "cannot write into the folder" in line and ".tmp" not in line


def test_trace_checks_the_output_before_computing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    start = time.perf_counter()
    line = one_error_line(run_cli("trace", "The capital of Texas is", "-o", str(blocker / "g.json"), "-q"))
    assert "cannot write into the folder" in line
    assert time.perf_counter() - start < 60  # the demo model was never loaded or run


def test_sigint_during_convert_never_leaves_a_temp_file(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    save_graph(random_graph(n_links=60_000, seed=2), big)
    for delay in (0.3, 0.8, 1.5, 2.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "attrgraph_cli", "convert", str(big), "-o", str(tmp_path / "out.json")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        _no_temp_files(tmp_path)
        out = tmp_path / "out.json"
        if out.exists():  # finished before the interrupt: then it is whole
            assert orjson.loads(out.read_bytes())["links"]


# ---- input bounds ------------------------------------------------------------------------------------------
def test_validate_dev_zero_is_refused_at_once() -> None:
    line = one_error_line(run_cli("validate", "/dev/zero", "--max-size", "10MB", timeout=30))
    assert "character device" in line


@pytest.mark.parametrize("command", ["validate", "convert", "render"])
def test_fifo_input_never_hangs(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "in.json"
    os.mkfifo(fifo)
    extra = {
        "validate": [],
        "convert": ["-o", str(tmp_path / "o.json")],
        "render": ["-o", str(tmp_path / "o.svg")],
    }
    line = one_error_line(run_cli(command, str(fifo), *extra[command], timeout=30))
    assert "FIFO" in line


def test_symlink_loop_is_called_a_loop(tmp_path: Path) -> None:
    (tmp_path / "a.json").symlink_to("b.json")
    (tmp_path / "b.json").symlink_to("a.json")
    for args in (["validate"], ["convert", "-o", str(tmp_path / "o.json")]):
        line = one_error_line(run_cli(args[0], str(tmp_path / "a.json"), *args[1:]))
        assert "symlink loop" in line


def _npz_with_header(path: Path, shape: tuple[int, ...], body: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
        archive.writestr("adjacency_matrix.npy", header.getvalue() + body)
        features = io.BytesIO()
        np.save(features, np.zeros((1, 3), dtype=np.int64))
        archive.writestr("features.npy", features.getvalue())
    return path


def test_npz_declaring_a_huge_array_names_the_field(tmp_path: Path) -> None:
    path = _npz_with_header(tmp_path / "liar.npz", (1_000_000, 1_000_000), bytes(64))
    for args in (["validate"], ["convert", "-o", str(tmp_path / "o.json")]):
        line = one_error_line(run_cli(args[0], str(path), *args[1:], timeout=60))
        assert "adjacency_matrix declares shape (1000000, 1000000)" in line


def test_compressed_npz_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        header = io.BytesIO()
        n = 4000
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f4", "fortran_order": False, "shape": (n, n)}
        )
        archive.writestr("adjacency_matrix.npy", header.getvalue() + bytes(4 * n * n))
        archive.writestr("features.npy", b"\x93NUMPY\x01\x00v\x00" + b" " * 117 + b"\n")
    assert path.stat().st_size < 1_000_000
    line = one_error_line(
        run_cli("convert", str(path), "-o", str(tmp_path / "o.json"), env={"ATTRGRAPH_MAX_INPUT_MB": "20"})
    )
    assert "unpacks to 61 MiB" in line


def test_pt_whose_pickle_inflates_is_refused_before_torch(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00." + bytes(60 << 20))
        archive.writestr("archive/version", "3\n")
    line = one_error_line(run_cli("validate", str(path), env={"ATTRGRAPH_MAX_INPUT_MB": "20"}))
    assert "unpacks to" in line and "data.pkl" in line


def test_out_of_range_ctx_idx_and_layer_are_refused_by_render(tmp_path: Path, graph_doc: dict) -> None:
    doc = json.loads(json.dumps(graph_doc))
    doc["nodes"][0]["ctx_idx"] = 10_000_000
    path = _write(tmp_path / "ctx.json", doc)
    line = one_error_line(run_cli("render", str(path), "-o", str(tmp_path / "o.svg")))
    assert "ctx_idx 10000000 is outside the prompt's 11 tokens" in line
    assert not (tmp_path / "o.svg").exists()
    validated = run_cli("validate", str(path))
    assert validated.returncode == 1 and b"nodes.ctx-idx" in validated.stdout


def test_long_prompt_is_clipped_in_the_svg_title(tmp_path: Path, graph_doc: dict) -> None:
    doc = json.loads(json.dumps(graph_doc))
    doc["metadata"]["prompt"] = "x" * 2_000_000
    path = _write(tmp_path / "long.json", doc)
    out = tmp_path / "o.svg"
    result = run_cli("render", str(path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size < 200_000
    title = out.read_text().split("<title>", 1)[1].split("</title>", 1)[0]
    assert len(title) <= 300


# ---- exit 3 crashes that are now one clear line ------------------------------------------------------------
@pytest.mark.parametrize(
    "name, body, words",
    [
        ("deep", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
        ("bigint", b'{"metadata": {"x": ' + b"9" * 5000 + b'}, "nodes": [], "links": []}', "digits"),
        ("surrogate", b'{"metadata": {"prompt": "\\ud800"}, "nodes": [], "links": []}', "surrogate"),
    ],
)
def test_unparsable_json_is_one_line_everywhere(tmp_path: Path, name: str, body: bytes, words: str) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(body)
    messages = set()
    for args in (
        ["validate"],
        ["convert", "-o", str(tmp_path / "o.json")],
        ["render", "-o", str(tmp_path / "o.svg")],
    ):
        line = one_error_line(run_cli(args[0], str(path), *args[1:]))
        assert words in line, line
        messages.add(line.split(": ", 2)[-1])
    assert len(messages) == 1, messages  # one explanation, whichever command reads the file


def test_huge_layer_string(tmp_path: Path, graph_doc: dict) -> None:
    doc = json.loads(json.dumps(graph_doc))
    doc["nodes"][0]["layer"] = "99999999999999999999"
    path = _write(tmp_path / "layer.json", doc)
    validated = run_cli("validate", str(path))
    assert validated.returncode == 1 and b"nodes.impossible-layer" in validated.stdout, validated.stderr
    for args in (["convert", "-o", str(tmp_path / "o.json")], ["render", "-o", str(tmp_path / "o.svg")]):
        assert "out of range" in one_error_line(run_cli(args[0], str(path), *args[1:]))


def test_prompt_tokens_null(tmp_path: Path, graph_doc: dict) -> None:
    doc = json.loads(json.dumps(graph_doc))
    doc["metadata"]["prompt_tokens"] = None
    path = _write(tmp_path / "null.json", doc)
    assert run_cli("validate", str(path)).returncode == 1
    assert "nothing written" in one_error_line(run_cli("convert", str(path), "-o", str(tmp_path / "o.json")))
    assert not (tmp_path / "o.json").exists()
    rendered = run_cli("render", str(path), "-o", str(tmp_path / "o.svg"))
    assert rendered.returncode == 0, rendered.stderr


def test_non_utf8_title_is_refused(tmp_path: Path, graph_json: Path) -> None:
    line = one_error_line(
        run_cli("render", str(graph_json), "-o", str(tmp_path / "o.html"), "--title", b"bad \xff")
    )
    assert "--title holds bytes that are not UTF-8" in line


def test_nan_json_is_explained_by_path(tmp_path: Path, graph_doc: dict) -> None:
    text = json.dumps(graph_doc).replace('"weight": ', '"weight": NaN, "w": ', 1)
    path = tmp_path / "nan.json"
    path.write_text(text)
    line = one_error_line(run_cli("convert", str(path), "-o", str(tmp_path / "o.json")))
    assert "links[0].weight is `NaN`" in line


def test_empty_graph_and_duplicate_keys_are_reported(tmp_path: Path) -> None:
    empty = _write(tmp_path / "empty.json", {"metadata": {}, "qParams": {}, "nodes": [], "links": []})
    result = run_cli("validate", str(empty))
    assert result.returncode == 1 and b"graph.no-logit" in result.stdout
    dup = tmp_path / "dup.json"
    dup.write_bytes(b'{"metadata": {}, "metadata": {}, "nodes": [], "links": []}')
    assert b"json.duplicate-key" in run_cli("validate", str(dup)).stdout


# ---- matrices: messages, and convert never writes what validate rejects ------------------------------------
def _matrix(path: Path, **changes) -> Path:
    from attrgraph_testing.synthetic import random_dense

    d = random_dense(n_layers=2, n_tokens=3, n_features=6, n_logits=2, seed=0)
    arrays = {
        "adjacency_matrix": d["adjacency"],
        "features": d["features"] % [2, 3, 100],
        "n_layers": np.array(2),
        "tokens": np.array(["a", "b", "c"]),
        "logit_probabilities": d["logit_probabilities"],
    }
    arrays.update(changes)
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "change, words",
    [
        ({"logit_probabilities": np.array([np.nan, 0.5], dtype=np.float32)}, "logit_probabilities hold NaN"),
        ({"logit_probabilities": np.array([2.0, 0.5], dtype=np.float32)}, "between 0 and 1"),
    ],
)
def test_bad_matrix_fields_are_named(tmp_path: Path, change: dict, words: str) -> None:
    path = _matrix(tmp_path / "m.npz", **change)
    line = one_error_line(run_cli("convert", str(path), "-o", str(tmp_path / "o.json")))
    assert words in line
    assert not (tmp_path / "o.json").exists()


def test_complex_matrix_warns_nothing(tmp_path: Path) -> None:
    from attrgraph_testing.synthetic import random_dense

    d = random_dense(n_layers=2, n_tokens=3, n_features=6, n_logits=2, seed=0)
    path = _matrix(tmp_path / "c.npz", adjacency_matrix=d["adjacency"].astype(np.complex64))
    assert "real numbers" in one_error_line(run_cli("convert", str(path), "-o", str(tmp_path / "o.json")))


# ---- batch -------------------------------------------------------------------------------------------------
def test_batch_report_name_is_reserved(tmp_path: Path) -> None:
    from attrgraph_cli.trace.batch import plan, read_batch

    batch = tmp_path / "b.jsonl"
    batch.write_text('{"prompt": "a b", "slug": "batch-report"}\n{"prompt": "batch report"}\n')
    items = plan(read_batch(batch), tmp_path)
    assert [i.json_path.name for i in items] == ["batch-report-2.json", "batch-report-3.json"]


def test_long_slug_is_refused_for_its_length(tmp_path: Path) -> None:
    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.trace.batch import read_batch

    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps({"prompt": "a", "slug": "a" * 300}) + "\n")
    with pytest.raises(AttrgraphError, match="300 characters long; at most 128"):
        read_batch(batch)


def test_invisible_prompt_is_empty() -> None:
    from attrgraph_cli.trace.engine import visible_text

    assert not visible_text("\x01\x02\u200b\u200c \t\ufeff")
    assert visible_text("\u200bTexas")


def test_matrix_pt_with_empty_prompt_and_odd_fields(tmp_path: Path) -> None:
    """Found by tests/cli/test_fuzz.py: an empty `prompt` array crashed every command (IndexError, exit 3)."""
    torch = pytest.importorskip("torch")
    from attrgraph_testing.synthetic import random_dense

    d = random_dense(n_layers=2, n_tokens=3, n_features=6, n_logits=2, seed=0)
    arrays = {
        "adjacency_matrix": d["adjacency"],
        "features": d["features"] % [2, 3, 100],
        "n_layers": np.array(2),
        "tokens": np.array(1 + 2j),
        "prompt": np.ones((0, 4), dtype=np.int64),
    }
    path = tmp_path / "m.pt"
    torch.save({k: v.tolist() for k, v in arrays.items()}, path)
    line = one_error_line(run_cli("convert", str(path), "-o", str(tmp_path / "o.json")))
    assert "prompt must be one string" in line
    for key, value, words in (
        ("n_layers", [], "n_layers must be one whole number"),
        ("logit_probabilities", ["a", "b"], "logit_probabilities must hold real numbers"),
        ("tokens", [["a"], ["b", "c"]], "tokens are not a list of strings"),
    ):
        changed = {k: v.tolist() for k, v in arrays.items() if k != "prompt"} | {key: value}
        torch.save(changed, path)
        assert words in one_error_line(run_cli("convert", str(path), "-o", str(tmp_path / "o.json")))


# ---- the older CLT-Forge layout, its thresholds, and .pt -> JSON without transformers ----------------------
@pytest.mark.trace
def test_older_clt_forge_layout_reads_as_an_unweighted_graph(clt_forge_pt: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    data = torch.load(clt_forge_pt, weights_only=True)
    dropped = ("adjacency_matrix", "full_adjacency_matrix", "selected_features", "activation_values")
    older = {k: v for k, v in data.items() if k not in dropped and k != "active_features"}
    path = tmp_path / "older.attribution_graph.pt"
    torch.save(older, path)
    out = tmp_path / "older.json"
    result = run_cli("convert", str(path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    doc = orjson.loads(out.read_bytes())
    info = doc["metadata"]["info"]
    assert info["edge_weights"] == "unweighted" and "Unweighted graph" in info["description"]
    assert {link["weight"] for link in doc["links"]} == {1.0}
    assert len(doc["links"]) == int((data["sparse_pruned_adj"] != 0).sum())  # every kept edge
    assert all(node["influence"] is None for node in doc["nodes"])
    # its intervention sweeps become records of the extension contract, as for the newer layout
    assert [r for r in doc["attrgraph"]["interventions"] if r["kind"] == "clt-forge"]
    svg = tmp_path / "older.svg"
    assert run_cli("render", str(out), "-o", str(svg)).returncode == 0
    assert "unweighted graph" in svg.read_text()


@pytest.mark.trace
def test_clt_forge_pruning_thresholds_are_told(clt_forge_pt: Path, tmp_path: Path) -> None:
    out = tmp_path / "sample.json"
    result = run_cli("convert", str(clt_forge_pt), "-o", str(out))
    assert result.returncode == 0, result.stderr
    meta = orjson.loads(out.read_bytes())["metadata"]
    settings = meta["info"]["pruning_settings"]
    assert (settings["node_threshold"], settings["edge_threshold"]) == (0.8, 0.85)
    assert meta["node_threshold"] == 0.8


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("feature_indices", ["a", "b"], "feature_indices"),
        ("n_layers", "abc", "n_layers is 'abc'"),
        ("token_string", "tensor", "token_string must be a list of strings"),
        ("sparse_pruned_adj", "huge sparse", "sparse_pruned_adj has shape (300000, 300000)"),
    ],
)
@pytest.mark.trace
def test_bad_clt_forge_fields_are_one_line(
    clt_forge_pt: Path, tmp_path: Path, key: str, value, words: str
) -> None:
    torch = pytest.importorskip("torch")
    data = torch.load(clt_forge_pt, weights_only=True)
    if value == "tensor":
        value = torch.arange(5)
    elif value == "huge sparse":
        value = torch.sparse_coo_tensor(torch.tensor([[0], [0]]), torch.tensor([1.0]), (300_000, 300_000))
    data[key] = value
    path = tmp_path / "bad.attribution_graph.pt"
    torch.save(data, path)
    assert words in one_error_line(run_cli("convert", str(path), "-o", str(tmp_path / "o.json")))


_NO_TRANSFORMERS = textwrap.dedent(
    """
    import sys
    from attrgraph_cli.cli import app
    try:
        app(args=["convert", sys.argv[1], "-o", sys.argv[2]], prog_name="attrgraph")
    except SystemExit as exc:
        assert not exc.code, exc.code
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "transformers")
    print("transformers modules:", len(loaded))
    """
)


@pytest.mark.trace
def test_pt_to_json_decodes_with_a_cached_tokenizer_without_transformers(tmp_path: Path) -> None:
    pytest.importorskip("circuit_tracer")
    from attrgraph_testing.ct_files import fake_hub, write_ct_pt

    hub = fake_hub(tmp_path / "hub")
    pt = tmp_path / "graph.pt"
    write_ct_pt(pt, 50)
    out = tmp_path / "graph.json"
    env = {**os.environ, "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _NO_TRANSFORMERS, str(pt), str(out)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "transformers modules: 0" in result.stdout
    meta = orjson.loads(out.read_bytes())["metadata"]
    assert meta["info"]["tokens_from"] == "tokenizer"
    assert meta["prompt_tokens"][:3] == ["[EOS]", "The", "capital"]  # ids 3, 4, 5 of the demo vocabulary


@pytest.mark.trace
def test_unknown_model_is_not_found_offline(tmp_path: Path) -> None:
    line = one_error_line(
        run_cli("trace", "hello", "--model", "does-not-exist", "-o", str(tmp_path / "g.json"))
    )
    assert "model 'does-not-exist' is not on disk" in line and "transcoder" not in line


@pytest.mark.trace
@pytest.mark.parametrize("prompt", ["\x01\x02\x03", "\u200b\u200c\u200d"])
def test_invisible_prompt_is_empty_through_trace(tmp_path: Path, prompt: str) -> None:
    line = one_error_line(run_cli("trace", prompt, "-o", str(tmp_path / "g.json"), "-q"))
    assert "the prompt is empty" in line


def test_pt_pickle_too_large_for_any_graph_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickle.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("archive/data.pkl", "w", force_zip64=True) as handle:
            handle.write(b"\x80\x02}q\x00.")
            for _ in range(17):
                handle.write(bytes(16 << 20))
        archive.writestr("archive/version", "3\n")
    line = one_error_line(run_cli("convert", str(path), "-o", str(tmp_path / "o.json")))
    assert "'archive/data.pkl' unpacks to 272 MiB" in line


def test_long_prompt_pdf_finishes_and_is_clipped(tmp_path: Path, graph_doc: dict) -> None:
    pytest.importorskip("weasyprint")
    doc = json.loads(json.dumps(graph_doc))
    doc["metadata"]["prompt"] = "word " * 1_000_000  # 5 MB: the PDF never finished before
    path = _write(tmp_path / "long.json", doc)
    out = tmp_path / "long.pdf"
    result = run_cli("render", str(path), "-o", str(out), timeout=300)
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert 100 < text.count("word") < 1000


_TORCH_BLOCKED = textwrap.dedent(
    """
    import sys
    sys.modules["torch"] = None  # any `import torch` now fails
    from attrgraph_cli.cli import app
    try:
        app(args=["convert", sys.argv[1], "-o", sys.argv[2]], prog_name="attrgraph")
    except SystemExit as exc:
        assert not exc.code, exc.code
    """
)


@pytest.mark.trace
def test_pt_files_read_without_torch_match_torch(clt_forge_pt: Path, tmp_path: Path, monkeypatch) -> None:
    """`.pt` files are read by `io.pt_numpy` without importing torch, to the same graph as torch.load."""
    pytest.importorskip("torch")
    from attrgraph_cli.io import load_graph, pt_numpy
    from attrgraph_cli.io.neuronpedia_json import graph_to_document
    from attrgraph_testing.ct_files import write_ct_pt

    ct_pt = tmp_path / "graph.pt"
    write_ct_pt(ct_pt, 60)
    for source in (clt_forge_pt, ct_pt):
        out = tmp_path / "out.json"
        result = subprocess.run(
            [sys.executable, "-c", _TORCH_BLOCKED, str(source), str(out)], capture_output=True
        )
        assert result.returncode == 0, result.stderr
        without_torch = graph_to_document(load_graph(source))

        def refuse(path):
            raise pt_numpy.Unsupported("forced")

        monkeypatch.setattr(pt_numpy, "load_pt_numpy", refuse)
        with_torch = graph_to_document(load_graph(source))
        monkeypatch.undo()
        assert orjson.dumps(without_torch) == orjson.dumps(with_torch)


@pytest.mark.trace
def test_sparse_or_huge_tensors_in_clt_forge_metadata_are_never_densified(
    clt_forge_pt: Path, tmp_path: Path
) -> None:
    """Found by tests/cli/test_fuzz.py: `n_layers` as a huge sparse tensor crashed (RuntimeError, exit 3)."""
    torch = pytest.importorskip("torch")
    data = torch.load(clt_forge_pt, weights_only=True)
    huge = torch.sparse_coo_tensor(torch.tensor([[0], [0]]), torch.tensor([1.0]), (300_000, 300_000))
    path = tmp_path / "c.attribution_graph.pt"
    torch.save({**data, "n_layers": huge}, path)
    line = one_error_line(run_cli("validate", str(path)))
    assert "n_layers is a tensor of shape (300000, 300000)" in line
    torch.save({**data, "n_layers": torch.tensor([12.5])}, path)
    assert "expected a whole number" in one_error_line(
        run_cli("convert", str(path), "-o", str(tmp_path / "o.json"))
    )
    torch.save({**data, "intervention_top_tokens": [{"x": huge}]}, path)
    out = tmp_path / "o.json"
    assert run_cli("convert", str(path), "-o", str(out)).returncode == 0
    # the tensor was not densified (the reader keeps a "not kept" stand-in), and an entry without
    # feature_info is not turned into an intervention record
    written = orjson.loads(out.read_bytes())
    assert "clt_forge_interventions" not in written
    assert not [r for r in written.get("attrgraph", {}).get("interventions", []) if r["kind"] == "clt-forge"]


@pytest.mark.parametrize(
    "extension, words",
    [
        ("a string", "attrgraph is a string, not an object"),
        ([1, 2], "attrgraph is an array, not an object"),
        ({"version": 1, "history": {"stage": "trace"}}, "attrgraph.history is an object, not an array"),
        ({"version": 1, "features": ["0_1"]}, "attrgraph.features is an array, not an object"),
        ({"version": 1, "supernodes": [1]}, "attrgraph.supernodes is an array, not an object"),
        ({"version": 1, "interventions": {"a": 1}}, "attrgraph.interventions is an object, not an array"),
    ],
)
@pytest.mark.parametrize("command", ["convert", "cluster"])
def test_extension_of_the_wrong_type_is_refused_not_replaced(
    tmp_path: Path, graph_doc: dict, extension, words: str, command: str
) -> None:
    """A stage used to replace an `attrgraph` value of the wrong type with its own (the file's content
    lost) or crash appending to it (`'dict' object has no attribute 'append'`)."""
    path = _write(tmp_path / "g.json", {**graph_doc, "attrgraph": extension})
    before = path.read_bytes()
    out = tmp_path / "out.json"
    line = one_error_line(run_cli(command, str(path), "-o", str(out)))
    assert words in line and "nothing was written" in line, line
    assert not out.exists() and path.read_bytes() == before
    _no_temp_files(tmp_path)


@pytest.mark.parametrize("command", ["autointerp", "intervene"])
def test_model_stages_refuse_a_bad_extension_before_loading_a_model(
    tmp_path: Path, graph_doc: dict, command: str
) -> None:
    """The check comes before the stage's work: no model is looked for (this graph names none, so a
    later check would fail on that instead)."""
    part = "interventions" if command == "intervene" else "features"
    doc = {**graph_doc, "attrgraph": {"version": 1, part: "oops"}}
    path = _write(tmp_path / "g.json", doc)
    feature = next(n["node_id"] for n in graph_doc["nodes"] if n["feature_type"] == "cross layer transcoder")
    args = ["--ablate", feature] if command == "intervene" else []
    line = one_error_line(run_cli(command, str(path), *args, "-o", str(tmp_path / "out.json")))
    assert f"attrgraph.{part} is a string, not an" in line, line
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    "supernodes, words",
    [
        ([["A", ["b"]]], "lists of strings"),  # a nested list was kept as the text "['b']"
        ([[" ", "x"]], "empty name"),  # was "cluster produced an invalid graph" (blaming cluster)
    ],
)
def test_kept_supernodes_need_string_members_and_a_name(
    tmp_path: Path, graph_doc: dict, supernodes: list, words: str
) -> None:
    doc = {**graph_doc, "qParams": {"supernodes": supernodes}}
    path = _write(tmp_path / "g.json", doc)
    line = one_error_line(run_cli("cluster", str(path), "-o", str(tmp_path / "out.json")))
    assert words in line and "--replace" in line, line
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("pins", [5, "abc", [1, "x"]])
def test_pins_cluster_cannot_extend_are_refused(tmp_path: Path, graph_doc: dict, pins) -> None:
    """`cluster` adds its features to qParams.pinnedIds; a value that is not a list of ids was replaced
    ("abc" became ["a", "b", "c"] plus the new pins)."""
    doc = {**graph_doc, "qParams": {"pinnedIds": pins}}
    path = _write(tmp_path / "g.json", doc)
    line = one_error_line(run_cli("cluster", str(path), "-o", str(tmp_path / "out.json")))
    assert "qParams.pinnedIds must be a list of node ids" in line, line
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    "command, option",
    [("cluster", "--seed"), ("cluster", "--max-size"), ("cluster", "--layer-band"), ("autointerp", "--seed")],
)
def test_integer_options_beyond_64_bits_are_named(
    tmp_path: Path, graph_json: Path, command: str, option: str
) -> None:
    """They used to fail as "unexpected ValueError: Overflow when unpacking long long" or as the graph
    holding "a value that JSON cannot represent" (the option, recorded in the output's settings)."""
    out = tmp_path / "out.json"
    line = one_error_line(run_cli(command, str(graph_json), option, str(10**23), "-o", str(out)))
    assert f"{option} {10**23} does not fit in 64 bits" in line, line
    assert not out.exists()


@pytest.mark.parametrize("command", ["cluster", "autointerp"])
def test_negative_seed_is_a_usage_error(tmp_path: Path, graph_json: Path, command: str) -> None:
    """It used to be "unexpected ValueError: expected non-negative integer" (numpy's seeding)."""
    result = run_cli(command, str(graph_json), "--seed", "-1", "-o", str(tmp_path / "out.json"))
    err = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in err and "unexpected" not in err, err
    assert "--seed" in err and "greater than or equal to 0" in err, err
