"""The shipped demo model: loads through circuit-tracer from the package's files and meets its card's bars."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from attrgraph_cli.demo_model.loader import WEIGHTS_DIR, DemoModelMissing, demo_model_dir
from attrgraph_testing.paths import REPO

METRICS = WEIGHTS_DIR / "metrics.json"


@pytest.fixture(scope="module")
def metrics() -> dict:
    return json.loads(METRICS.read_text())


@pytest.fixture(scope="module")
def model():
    pytest.importorskip("circuit_tracer")
    import torch

    from attrgraph_cli.demo_model import load_replacement_model

    torch.set_num_threads(1)
    return load_replacement_model()


def test_shipped_files_are_complete_and_small():
    folder = demo_model_dir()
    files = [p for p in folder.rglob("*") if p.is_file()]
    names = {str(p.relative_to(folder)) for p in files}
    expected = {"model.safetensors", "model_config.json", "tokenizer.json", "MODEL_CARD.md", "metrics.json"}
    assert expected <= names
    assert "transcoders/config.yaml" in names and "transcoders/layer_0.safetensors" in names
    assert sum(p.stat().st_size for p in files) <= 15 * 1024 * 1024


def test_package_data_patterns_ship_every_file():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = REPO / "attrgraph_cli"
    for path in WEIGHTS_DIR.rglob("*"):
        if path.is_file():
            rel = str(path.relative_to(package))
            assert any(fnmatch.fnmatch(rel, pat) for pat in patterns["attrgraph_cli"]), rel


def test_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(DemoModelMissing, match="make demo-model"):
        demo_model_dir(tmp_path)


@pytest.mark.trace
def test_loads_through_circuit_tracer(model):
    import torch
    from circuit_tracer.transcoder import TranscoderSet
    from circuit_tracer.transcoder.single_layer_transcoder import SingleLayerTranscoder

    assert isinstance(model.transcoders, TranscoderSet)
    assert len(model.transcoders) == model.cfg.n_layers
    assert all(isinstance(tc, SingleLayerTranscoder) for tc in model.transcoders)
    for tc in model.transcoders:
        assert tc.W_enc.dtype == torch.float32 and tc.W_dec.dtype == torch.float32
    assert model.feature_input_hook == "mlp.hook_in"
    assert model.tokenizer.bos_token_id == 2


@pytest.mark.trace
def test_accuracy_meets_the_bars_and_matches_the_card(model, metrics):
    from attrgraph_cli.demo_model.corpus import eval_sets
    from attrgraph_cli.demo_model.evaluate import accuracy_table

    table = accuracy_table(model, model.tokenizer, eval_sets())
    assert table["one_hop"]["accuracy"] >= 0.95
    assert table["two_hop"]["accuracy"] >= 0.80
    for name, row in table.items():
        assert abs(row["accuracy"] - metrics["accuracy"][name]["accuracy"]) <= 1.5 / row["n"], name


@pytest.mark.trace
def test_local_replacement_accuracy_matches_the_card(model, metrics):
    from attrgraph_cli.demo_model.corpus import eval_sets
    from attrgraph_cli.demo_model.evaluate import accuracy, replacement_accuracy

    sets = eval_sets()
    replaced = replacement_accuracy(model, model.tokenizer, sets)
    for name, value in replaced.items():
        assert abs(value - metrics["replacement_accuracy"][name]) <= 1.5 / len(sets[name]), name
    # the replacement hooks are gone afterwards: the plain model's accuracy is back
    assert accuracy(model, model.tokenizer, sets["antonym"]) == metrics["accuracy"]["antonym"]["accuracy"]


@pytest.mark.trace
def test_showcase_prompts_are_answered(model):
    from attrgraph_cli.demo_model.corpus import example_prompts
    from attrgraph_cli.demo_model.evaluate import predictions

    examples = example_prompts()
    assert predictions(model, model.tokenizer, examples) == [ex.answer for ex in examples]


@pytest.mark.trace
def test_transcoders_meet_the_bars_and_match_the_card(model, metrics):
    from attrgraph_cli.demo_model.evaluate import transcoder_quality

    rows = transcoder_quality(model, model.tokenizer)
    for row, card in zip(rows, metrics["transcoders"], strict=True):
        assert row["fve"] >= 0.8 and row["l0"] <= 32, row
        assert abs(row["fve"] - card["fve"]) < 0.01 and abs(row["l0"] - card["l0"]) < 0.5


def test_card_states_the_measured_numbers(metrics):
    card = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    for name, row in metrics["accuracy"].items():
        assert re.search(rf"`{name}`.*\| {row['accuracy']:.1%} \|", card), name
        assert re.search(rf"`{name}`.*\| {metrics['replacement_accuracy'][name]:.1%} \|$", card, re.M), name
    for row in metrics["transcoders"]:
        assert f"| {row['layer']} | {row['d_transcoder']} | {row['fve']:.3f} | {row['l0']:.1f} |" in card
    for row in metrics["graph_scores"]:
        assert f"{row['replacement_score']:.3f} | {row['completeness_score']:.3f} |" in card
    from attrgraph_cli.demo_model.card import verdict

    assert f"**{verdict(metrics['intermediate_step'])}**" in card


@pytest.mark.trace
@pytest.mark.slow
def test_graph_scores_and_edges_agree_with_interventions(model, metrics):
    """Dallas graph: scores as in the card; a feature's edge to the logit equals the effect of zeroing it."""
    import torch
    from circuit_tracer import attribute
    from circuit_tracer.graph import compute_graph_scores

    prompt = "The capital of the state containing Dallas is"
    graph = attribute(prompt, model, batch_size=256, verbose=False)
    replacement, completeness = compute_graph_scores(graph)
    card = next(row for row in metrics["graph_scores"] if row["prompt"] == prompt)
    assert abs(replacement - card["replacement_score"]) < 1e-3
    assert abs(completeness - card["completeness_score"]) < 1e-3

    n_logits = len(graph.logit_targets)
    n_features = len(graph.selected_features)
    edges = graph.adjacency_matrix[-n_logits, :n_features]  # top logit's row: direct effects of features
    node = int(edges.abs().argmax())
    layer, pos, feat = (int(v) for v in graph.active_features[graph.selected_features[node]])
    target = int(graph.logit_targets[0].vocab_idx)
    ids = graph.input_tokens
    with torch.no_grad():
        base = model(ids[None])[0, -1]
    new, _ = model.feature_intervention(
        ids,
        [(layer, pos, feat, 0.0)],
        constrained_layers=range(model.cfg.n_layers),
        freeze_attention=True,
        apply_activation_function=False,
    )
    delta = new[0, -1] - base
    effect = float(delta[target] - delta.mean())
    assert effect == pytest.approx(-float(edges[node]), abs=1e-4, rel=1e-3)


def test_texas_evidence_counts_only_features_after_the_city_and_has_its_control(metrics):
    inter = metrics["intermediate_step"]
    assert all(h["position"] >= inter["city_position"] for h in inter["intermediate_features"])
    # matched draws and the influence control: tests/demo_model/test_card_controls.py
    controls = inter["controls"]
    assert len(controls["top_influence"]["features"]) == inter["n_intermediate_features"]  # same size
    assert {"intermediate_features", "control_features"} <= set(inter["flow_share"])
    card = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    assert f"p(`{inter['answer']}`) {controls['top_influence']['answer_probability']:.3f}" in card
    assert f"{inter['flow_share']['intermediate_features']:.1%} of the `{inter['city']}` embedding" in card


@pytest.mark.trace
def test_city_lookup_in_the_card_is_what_the_shipped_model_does(model, metrics):
    """The patches at the city's position, re-run: the card's rates, its control and its reading."""
    from attrgraph_cli.demo_model.card import lookup_reading
    from attrgraph_cli.demo_model.city_lookup import city_lookup

    look = city_lookup(model)
    assert look["n_cases"] == metrics["city_lookup"]["n_cases"] >= 90
    assert look["rates"] == pytest.approx(metrics["city_lookup"]["rates"])
    assert look["rates_held_out"] == pytest.approx(metrics["city_lookup"]["rates_held_out"])
    assert look["rates"]["full_swap_gives_partner"] >= 0.8  # the control: patching the position works at all
    dallas = look["dallas"]
    assert dallas["position"] == 7 and dallas["correct"] and dallas["partner"] == "Fresno"
    card = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    assert lookup_reading(look["rates"]) in card
    assert f"the embedding swap from `Fresno` gives `{dallas['embedding_swap_top']}`" in card


@pytest.mark.parametrize(
    ("embedding", "computation", "full", "expected"),
    [
        (1.0, 0.0, 1.0, "reads the city token itself"),
        (0.1, 0.9, 1.0, "reads what was computed at the city's position"),
        (0.5, 0.5, 1.0, "Both parts carry the answer in part"),
        (1.0, 0.0, 0.5, "the split tells nothing"),
        (1.0, 0.0, None, "the split tells nothing"),
    ],
)
def test_city_lookup_reading_follows_its_rule_and_its_control(embedding, computation, full, expected):
    from attrgraph_cli.demo_model.card import lookup_reading

    rates = {
        "embedding_swap_gives_partner": embedding,
        "computation_swap_gives_partner": computation,
        "full_swap_gives_partner": full,
    }
    assert expected in lookup_reading(rates)


def test_size_in_the_readme_is_the_shipped_size(metrics):
    total_mb = sum(metrics["files"].values()) / 1e6
    assert f"≈ {total_mb:.2f} MB" in (REPO / "README.md").read_text()


@pytest.mark.trace
def test_transcoders_are_trained_on_what_circuit_tracer_feeds_them(model):
    """The training activations are the replacement model's own `mlp.hook_in` / `mlp.hook_out`."""
    import torch

    from attrgraph_cli.demo_model.corpus import CorpusGenerator
    from attrgraph_cli.demo_model.lm import batch_tokens
    from attrgraph_cli.demo_model.loader import load_hooked_transformer
    from attrgraph_cli.demo_model.train import collect_activations

    xs, ys, _ = collect_activations(load_hooked_transformer(), model.tokenizer, 1, seed=5)
    tokens = batch_tokens(CorpusGenerator(seed=5), model.tokenizer, 64, 32)
    names = {f"blocks.{i}.mlp.hook_{w}" for i in range(model.cfg.n_layers) for w in ("in", "out")}
    _, cache = model.run_with_cache(tokens, names_filter=lambda n: n in names)
    for i in range(model.cfg.n_layers):
        torch.testing.assert_close(xs[i], cache[f"blocks.{i}.mlp.hook_in"][:, 1:].flatten(0, 1))
        torch.testing.assert_close(ys[i], cache[f"blocks.{i}.mlp.hook_out"][:, 1:].flatten(0, 1))
