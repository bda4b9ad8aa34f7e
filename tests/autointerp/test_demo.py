"""`attrgraph autointerp` on the embedded demo model: dashboards over its corpus, heuristic labels, scores,
the Dallas graph's acceptance labels, validate and render (HTML and PDF read back with pdftotext)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from attrgraph_testing.demo_helpers import require_demo_model

demo_model = require_demo_model()

from attrgraph_testing.cli import CliResult, run_cli  # noqa: E402

pytestmark = [pytest.mark.trace, pytest.mark.xdist_group("trace")]

DALLAS = "The capital of the state containing Dallas is"


def cli(*args: object) -> CliResult:
    result = run_cli(*map(str, args))
    assert result.code == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("autointerp-demo")
    path = folder / "d.json"
    cli("trace", DALLAS, "-o", path, "--device", "cpu", "-q")
    result = cli("autointerp", path, "-o", path, "--corpus-tokens", "8192", "--device", "cpu", "-q")
    return path, json.loads(path.read_text()), result.stderr


def test_every_feature_node_gets_a_short_label_with_a_score(labelled):
    _path, doc, stderr = labelled
    features = [n for n in doc["nodes"] if n["feature_type"] == "cross layer transcoder"]
    assert features and all(n["clerp"] and len(n["clerp"].split()) <= 6 for n in features)
    entries = doc["attrgraph"]["features"]
    assert {f"{n['layer']}_{n['node_id'].split('_')[1]}" for n in features} == set(entries)
    for entry in entries.values():
        assert entry["source"] == "heuristic" and entry["explainer"].startswith("heuristic:")
        if entry["score"] is None:  # a rare feature (one city): no firing token in the held-out text, or
            # fewer than the minimum of positives ("too few examples", issue 26)
            detail = entry.get("score_detail")
            if detail is None:
                assert entry["density"] < 0.01
            else:
                assert detail["too_few_examples"] and detail["n_pos"] < detail["min_positives"]
        else:
            assert 0 <= entry["score"] <= 1 and entry["score_method"].startswith("detection-ba")
        assert 0 < entry["density"] < 1 and entry["dense"] is False
        det = entry["details"]
        assert det["examples_quantiles"][0]["quantile_name"] == "Top activations"
        assert len(det["top_logits"]) == 10 and len(det["bottom_logits"]) == 10
        assert sum(det["histogram"]["counts"]) == det["histogram"]["sampled"] > 0
        ex = det["examples_quantiles"][0]["examples"][0]
        assert max(ex["tokens_acts_list"]) == ex["tokens_acts_list"][ex["train_token_ind"]] > 0
    assert "dashboards:" in stderr and "features labelled" in stderr
    record = doc["attrgraph"]["history"][-1]
    assert record["stage"] == "autointerp" and record["details"]["dashboards"]["tokens"] >= 8192


def test_the_feature_driving_austin_reads_dallas_and_writes_texas(labelled):
    """The two-hop route in labels: the strongest feature into `Austin` sits on `Dallas`, is labelled by the
    token it fires on, and its dashboard's top logit is `Texas`; a say-Austin feature is among the top 3."""
    _path, doc, _ = labelled
    logit = next(
        n["node_id"] for n in doc["nodes"] if n["feature_type"] == "logit" and "Austin" in n["clerp"]
    )
    by_id = {n["node_id"]: n for n in doc["nodes"]}
    into = sorted(
        (
            link
            for link in doc["links"]
            if link["target"] == logit and by_id[link["source"]]["feature_type"] == "cross layer transcoder"
        ),
        key=lambda link: -link["weight"],
    )
    strongest = by_id[into[0]["source"]]
    dallas = doc["metadata"]["prompt_tokens"].index("Dallas")
    assert int(strongest["node_id"].split("_")[2]) == dallas and "Dallas" in strongest["clerp"]
    entry = doc["attrgraph"]["features"]["_".join(strongest["node_id"].split("_")[:2])]
    assert entry["details"]["top_logits"][0] == "Texas"
    top = [by_id[link["source"]]["clerp"] for link in into[:3]]
    assert any("say Austin" in label for label in top), top


def test_heuristic_beats_the_strongest_peak_baseline_on_this_graph(labelled):
    from attrgraph_cli.autointerp.dashboards import HeldOut  # noqa: F401 - the score's input type

    _path, doc, _ = labelled
    scores = [e["score"] for e in doc["attrgraph"]["features"].values() if e["score"] is not None]
    few = [
        e
        for e in doc["attrgraph"]["features"].values()
        if (e.get("score_detail") or {}).get("too_few_examples")
    ]
    assert len(scores) + len(few) >= len(doc["attrgraph"]["features"]) - 1  # 8,192 tokens: a few are rare
    assert sum(scores) / len(scores) > 0.6  # chance is 0.5


def test_validates_and_renders_with_labels(labelled, tmp_path):
    path, doc, _ = labelled
    cli("validate", path)
    html = tmp_path / "d.html"
    cli("render", path, "-o", html)
    assert html.stat().st_size > 0  # the payload is compressed: the browser test reads the labels back
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed")
    pdf = tmp_path / "d.pdf"
    cli("render", path, "-o", pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert "say Austin" in text.stdout


def test_a_corpus_file(tmp_path):
    path = tmp_path / "g.json"
    cli("trace", "The opposite of hot is", "-o", path, "--device", "cpu", "-q")
    corpus = tmp_path / "c.jsonl"
    lines = [
        "The opposite of hot is cold . The opposite of big is small",
        {"text": "The opposite of cold is hot"},
    ]
    corpus.write_text("\n".join(json.dumps(x) for x in lines * 40))
    result = cli("autointerp", path, "-o", path, "--corpus", corpus, "--device", "cpu", "-q")
    assert "c.jsonl" in result.stderr
    doc = json.loads(path.read_text())
    assert doc["attrgraph"]["history"][-1]["inputs"][-1] | {"sha256": None} == {
        "name": "c.jsonl",
        "role": "corpus",
        "bytes": corpus.stat().st_size,
        "sha256": None,
    }
    assert all(n["clerp"] for n in doc["nodes"] if n["feature_type"] == "cross layer transcoder")


@pytest.mark.gpu
def test_dashboards_on_the_gpu_agree_with_the_cpu():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    from attrgraph_cli.autointerp.corpus import demo_documents
    from attrgraph_cli.autointerp.dashboards import compute_dashboards

    features = [(0, 1), (1, 2), (2, 3), (3, 4)]
    out = {}
    for device in ("cpu", "cuda"):
        model = demo_model.load_replacement_model(device)
        run = compute_dashboards(
            model,
            model.tokenizer,
            features,
            demo_documents(2048),
            device=device,
            max_tokens=2048,
            progress=False,
        )
        out[device] = run
    for key in features:
        cpu, gpu = out["cpu"].details[key], out["cuda"].details[key]
        assert gpu["act_max"] == pytest.approx(cpu["act_max"], rel=1e-3, abs=1e-4)
        assert gpu["top_logits"][:3] == cpu["top_logits"][:3]
        assert out["cuda"].density[key] == pytest.approx(out["cpu"].density[key], abs=1e-3)
