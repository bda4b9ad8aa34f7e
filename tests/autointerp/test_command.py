"""`attrgraph autointerp` without a model: importers, the heuristic explainer, the score, the command."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from attrgraph_cli.autointerp.dashboards import HeldOut
from attrgraph_cli.autointerp.explain_heuristic import GraphContext, explain, strongest_peak_label
from attrgraph_cli.autointerp.imported import SourceError
from attrgraph_cli.autointerp.score import Simulator, score_label
from attrgraph_cli.autointerp.sources import read_source
from attrgraph_cli.autointerp.targets import graph_targets
from attrgraph_cli.graph.ids import feature_number
from attrgraph_cli.io import load_graph, save_graph
from attrgraph_cli.validate.engine import validate_graph
from attrgraph_testing.autointerp_fixtures import city_details, details, example, say_details, write_sources
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.synthetic import random_graph


@pytest.fixture()
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "g.json"
    graph = random_graph(n_links=300, seed=4)
    graph.nodes.label[graph.nodes.kind == 1] = ""  # as Neuronpedia serves graphs: no clerps
    save_graph(graph, path)
    return path


@pytest.fixture()
def keys(graph_file: Path) -> list[tuple[int, int]]:
    return list(graph_targets(load_graph(graph_file)))


@pytest.fixture()
def sources(tmp_path: Path, keys) -> dict[str, Path]:
    return write_sources(tmp_path / "sources", keys)


def run(*args: object) -> CliResult:
    return run_cli("autointerp", *map(str, args))


def numbers(keys):
    return {k: feature_number(*k) for k in keys}


# ---- the heuristic explainer ----------------------------------------------------------------------------
def test_heuristic_shared_peak_tokens():
    found = explain(city_details(1))
    assert found.rule == "shared-peak-token"
    assert found.label == "Dallas, Houston"


def test_heuristic_consistent_next_token_beats_a_frequent_peak_token():
    found = explain(say_details(1))
    assert "say Austin" in found.label and found.rule.startswith(("next-token", "top-logits"))
    assert strongest_peak_label(say_details(1)).label == "is"  # the baseline


def test_heuristic_graph_context_orders_and_qualifies():
    doc = details(
        1,
        [
            example(["a", "Houston"], 1, 5.0),
            example(["b", "Dallas"], 1, 4.9),
            example(["c", "Dallas"], 1, 4.8),
        ],
    )
    assert explain(doc).label == "Dallas, Houston"
    assert explain(doc, GraphContext(position_tokens=("Houston",))).label == "Houston, Dallas"


def test_heuristic_labels_have_at_most_six_words_and_none_without_examples():
    doc = details(1, [example(["x", "one two three four five six seven eight"], 1)])
    assert len(explain(doc).label.split()) <= 6
    assert explain(details(1, [])) is None
    assert explain(details(1, [example(["a", "b"], 0, act=0.0)])) is None


# ---- the score ------------------------------------------------------------------------------------------
def test_simulator_reads_current_and_following_tokens():
    sim = Simulator.from_label("is → say Austin, Tokyo")
    assert sim.current == {"is"} and sim.following == {"austin", "tokyo"}
    assert sim.predicts(" Austin", "") is False and sim.predicts("was", " Austin") is True
    assert Simulator.from_label("Dallas, Houston").predicts("\u2581Dallas", ".")


def test_score_is_balanced_accuracy_on_held_out_tokens():
    held = HeldOut(
        positives=[("is", "Austin")] * 3 + [("is", "Paris")], negatives=[("is", "cold")] + [(".", "x")] * 3
    )
    assert score_label("say Austin", held).score == pytest.approx((0.75 + 1.0) / 2)
    assert score_label("is", held).score == pytest.approx((1.0 + 0.75) / 2)
    assert score_label("nothing here", held).score == pytest.approx(0.5)
    assert score_label("say Austin", HeldOut(positives=[], negatives=[("a", "b")])) is None


# ---- importers --------------------------------------------------------------------------------------------
def test_neuronpedia_export_prefers_np_max_act_logits_then_newest(sources, keys):
    result = read_source(sources["neuronpedia"], numbers(keys), source_set="clt-hp")
    assert result.fmt == "neuronpedia-explanations" and result.source_set == "clt-hp"
    assert len(result.matched) == len(keys) - 1
    item = result.matched[keys[0]]
    assert item.label == f"np {keys[0][1]}" and item.source == "neuronpedia"
    assert item.explainer.startswith("np_max-act-logits")
    other = read_source(sources["neuronpedia"], numbers(keys), source_set="gemmascope-transcoder-16k")
    assert other.matched[keys[0]].label == f"gs {keys[0][1]}"


def test_neuronpedia_export_with_several_source_sets_needs_a_choice(sources, keys):
    with pytest.raises(SourceError, match="--source-set"):
        read_source(sources["neuronpedia"], numbers(keys))
    assert (
        read_source(sources["neuronpedia"], numbers(keys), graph_hint="gemma-2-2b clt-hp").source_set
        == "clt-hp"
    )
    assert read_source(sources["neuronpedia-array"], numbers(keys)).source_set == "clt-hp"
    with pytest.raises(SourceError, match="not in this export"):
        read_source(sources["neuronpedia"], numbers(keys), source_set="nope")


def test_feature_details_folder_by_feature_number(sources, keys):
    result = read_source(sources["details"], numbers(keys))
    assert result.fmt == "feature-details" and len(result.matched) == len(keys) - 1
    item = result.matched[keys[1]]
    assert item.label is None and item.details["examples_quantiles"][0]["examples"]
    assert item.details["index"] == keys[1][1]


def test_clt_forge_folder_with_frequencies(sources, keys):
    result = read_source(sources["clt-forge"], numbers(keys))
    assert result.fmt == "clt-forge" and len(result.matched) == len(keys) - 1
    item = result.matched[keys[0]]
    assert item.label == f"clt {keys[0][1]}" and item.density in (0.5, 0.01)
    ex = item.details["examples_quantiles"][0]["examples"][0]
    assert ex["tokens"][ex["train_token_ind"]] == "Dallas" and max(ex["tokens_acts_list"]) == 3.5


@pytest.mark.parametrize("name", ["table", "tsv"])
def test_tables(sources, keys, name):
    result = read_source(sources[name], numbers(keys))
    assert result.fmt == "table" and len(result.matched) == len(keys) - 1
    assert result.matched[keys[0]].label.endswith(str(keys[0][1]))


# ---- the command ------------------------------------------------------------------------------------------
def test_import_then_heuristic_on_imported_details(tmp_path, graph_file, sources, keys):
    out = tmp_path / "out.json"
    result = run(graph_file, "-l", sources["table"], "-l", sources["details"], "-o", out)
    assert result.code == 0, result.stderr
    assert "labels.csv (table): matched" in result.stderr and "unmatched: " in result.stderr
    graph = load_graph(out)
    assert not [p for p in validate_graph(graph) if p.severity == "error"]
    feats = graph.extra["attrgraph"]["features"]
    first = feats[f"{keys[0][0]}_{keys[0][1]}"]
    assert (
        first["source"] == "table"
        and first["label"] == f"csv {keys[0][1]}"
        and first["source_file"] == "labels.csv"
    )
    assert first["details"]["examples_quantiles"]  # details from the second source
    last = f"{keys[-1][0]}_{keys[-1][1]}"
    assert last not in feats  # matched by no source, no dashboard
    assert "got no label" in result.stderr
    targets = graph_targets(graph)
    assert all(graph.nodes.label[r] == f"csv {keys[0][1]}" for r in targets[keys[0]].rows)
    record = graph.extra["attrgraph"]["history"][-1]
    assert record["stage"] == "autointerp" and record["details"]["sources"][0]["matched"] == len(keys) - 1


def test_heuristic_only_on_imported_details(tmp_path, graph_file, sources, keys):
    out = tmp_path / "out.json"
    result = run(graph_file, "-l", sources["details"], "-o", out, "--max-density", "0.2")
    assert result.code == 0, result.stderr
    feats = load_graph(out).extra["attrgraph"]["features"]
    labels = {v["label"] for v in feats.values()}
    assert "Dallas, Houston" in labels and any("say Austin" in label for label in labels)
    assert all(v["source"] == "heuristic" and v["score"] is None for v in feats.values())


def test_person_labels_are_kept_unless_overwrite(tmp_path, graph_file, sources, keys):
    graph = load_graph(graph_file)
    row = graph_targets(graph)[keys[0]].rows[0]
    graph.nodes.label[row] = "my own label"
    save_graph(graph, graph_file)
    out = tmp_path / "out.json"
    assert run(graph_file, "-l", sources["table"], "-o", out).code == 0
    entry = load_graph(out).extra["attrgraph"]["features"][f"{keys[0][0]}_{keys[0][1]}"]
    assert entry["label"] == "my own label" and entry["source"] == "human"
    # a rerun keeps it (source "human" now), --overwrite replaces it
    assert run(out, "-l", sources["table"], "-o", out).code == 0
    assert (
        load_graph(out).extra["attrgraph"]["features"][f"{keys[0][0]}_{keys[0][1]}"]["label"]
        == "my own label"
    )
    assert run(out, "-l", sources["table"], "-o", out, "--overwrite").code == 0
    assert (
        load_graph(out)
        .extra["attrgraph"]["features"][f"{keys[0][0]}_{keys[0][1]}"]["label"]
        .startswith("csv")
    )
    # a machine label edited in the viewer (clerp changed, entry still says table) counts as a person's
    graph = load_graph(out)
    graph.nodes.label[graph_targets(graph)[keys[1]].rows] = "edited by hand"
    save_graph(graph, out)
    assert run(out, "-l", sources["table"], "-o", out).code == 0
    assert load_graph(out).extra["attrgraph"]["features"][f"{keys[1][0]}_{keys[1][1]}"]["source"] == "human"


def _bad_sources(tmp_path: Path, keys) -> dict[str, tuple[Path, str]]:
    none = tmp_path / "none.csv"
    none.write_text("layer,feature,label\n99,1,a\n99,2,b\n")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('[{"layer": "1-x", "index": "2", "description": "a"}, {"lay')
    truncated = tmp_path / "trunc.jsonl.gz"
    truncated.write_bytes(gzip.compress(b'{"layer": "1-x", "index": "2", "description": "a"}\n' * 50)[:-30])
    bad_line = tmp_path / "bad.jsonl"
    bad_line.write_text('{"layer": "1-x", "index": "2", "description": "a"}\n{"layer": \n')
    odd = tmp_path / "odd.json"
    odd.write_text('{"hello": 1}')
    folder = tmp_path / "empty"
    folder.mkdir()
    return {
        "no-match": (none, "matched 0 of"),
        "corrupt": (corrupt, "corrupt or truncated JSON"),
        "truncated-gzip": (truncated, "corrupt or truncated gzip"),
        "bad-line": (bad_line, "line 2"),
        "unknown-shape": (odd, "no known label shape"),
        "empty-folder": (folder, "no feature files"),
    }


@pytest.mark.parametrize(
    "case", ["no-match", "corrupt", "truncated-gzip", "bad-line", "unknown-shape", "empty-folder"]
)
def test_bad_sources_are_one_line_exit_1_and_nothing_written(tmp_path, graph_file, keys, case):
    path, expected = _bad_sources(tmp_path, keys)[case]
    out = tmp_path / "out.json"
    out.write_text("previous")
    result = run(graph_file, "-l", path, "-o", out)
    assert result.code == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error: ") and expected in lines[0], lines
    assert "Traceback" not in result.stderr
    assert out.read_text() == "previous"


def test_no_match_names_the_count(tmp_path, graph_file, keys):
    path, _ = _bad_sources(tmp_path, keys)["no-match"]
    result = run(graph_file, "-l", path, "-o", tmp_path / "o.json")
    assert f"matched 0 of {len(keys)} graph features (table, 2 entries" in result.stderr


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--explainer", "magic"], "unknown --explainer"),
        (["--explainer", "llm"], "needs --endpoint"),
        (["-l", "/nonexistent/labels.csv"], "does not exist"),
        (["--corpus", "/nonexistent/corpus.txt"], "not a readable file"),
    ],
)
def test_bad_options_exit_2(tmp_path, graph_file, args, expected):
    result = run(graph_file, "-o", tmp_path / "o.json", *args)
    assert result.code == 2 and expected in result.stderr and not (tmp_path / "o.json").exists()


def test_a_graph_without_features_is_refused(tmp_path):
    graph = random_graph(n_links=300, seed=4)
    keep = graph.nodes.kind != 1
    doc = json.loads(json.dumps({"x": 1}))
    assert doc  # keep ruff quiet about json
    from attrgraph_cli.graph.model import AttributionGraph, EdgeList

    index = {int(i): n for n, i in enumerate(keep.nonzero()[0])}
    mask = [
        int(s) in index and int(t) in index
        for s, t in zip(graph.edges.source, graph.edges.target, strict=True)
    ]
    edges = graph.edges.take(mask)
    stripped = AttributionGraph(
        graph.nodes.take(keep),
        EdgeList.from_arrays(
            [index[int(s)] for s in edges.source], [index[int(t)] for t in edges.target], edges.weight
        ),
        graph.metadata,
        graph.qparams,
    )
    path = tmp_path / "nofeat.json"
    save_graph(stripped, path)
    result = run(path, "-o", tmp_path / "o.json", "--no-dashboards")
    assert result.code == 1 and "no feature nodes" in result.stderr


def test_pdf_labels_section_with_scores_and_dense_features_apart(tmp_path, graph_file, sources, keys):
    pytest.importorskip("weasyprint")
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed")
    out = tmp_path / "out.json"
    args = ["-l", sources["table"], "-l", sources["clt-forge"], "--max-density", "0.25"]
    assert run(graph_file, *args, "-o", out).code == 0
    graph = load_graph(out)
    entries = graph.extra["attrgraph"]["features"]
    sparse = next(k for k, e in entries.items() if not e["dense"])
    entries[sparse]["score"] = 0.8125
    entries[sparse]["score_method"] = "detection-ba:lexical-simulator:heldout-v1"
    dense = [e["label"] for e in entries.values() if e["dense"]]
    assert dense
    save_graph(graph, out)
    pdf = tmp_path / "out.pdf"
    result = run_cli("render", out, "-o", pdf, "--top", "3")
    assert result.code == 0, result.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    section = text[text.index("Labels") :]
    assert "labelled features" in section and "table" in section
    assert entries[sparse]["label"] in section and "0.812" in section
    apart = section[section.index("Dense features") :]
    assert all(label in apart for label in dense[:3])
    assert entries[sparse]["label"] not in apart.split("Feature details")[0]


def test_corpus_files(tmp_path):
    from attrgraph_cli.autointerp.corpus import demo_documents, read_documents
    from attrgraph_cli.errors import AttrgraphError

    good = tmp_path / "c.jsonl"
    good.write_text('{"text": "one two"}\n"three four"\n\n{"content": "five"}\n')
    assert list(read_documents(good)) == ["one two", "three four", "five"]
    text = tmp_path / "c.txt"
    text.write_text("first doc\n\nsecond doc\n")
    assert list(read_documents(text)) == ["first doc", "second doc"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": \n')
    with pytest.raises(AttrgraphError, match="line 2: not JSON"):
        list(read_documents(bad))
    keyless = tmp_path / "keyless.jsonl"
    keyless.write_text('{"body": "x"}\n')
    with pytest.raises(AttrgraphError, match="line 1: a record needs"):
        list(read_documents(keyless))
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(AttrgraphError, match="not UTF-8"):
        list(read_documents(binary))
    docs = list(demo_documents(500))
    assert docs == list(demo_documents(500)) and sum(len(d.split()) for d in docs) >= 500  # seeded


def test_nothing_to_label_from_is_exit_1_and_a_foreign_model_needs_a_corpus(tmp_path, graph_file):
    graph = load_graph(graph_file)
    graph.metadata.setdefault("info", {})["model"] = "gemma-2-2b"
    save_graph(graph, graph_file)
    out = tmp_path / "o.json"
    result = run(graph_file, "-o", out)
    assert result.code == 1 and "no feature was labelled (0 of" in result.stderr and not out.exists()
    result = run(graph_file, "-o", out, "--dashboards")
    assert result.code == 2 and "need --corpus FILE" in result.stderr and not out.exists()
