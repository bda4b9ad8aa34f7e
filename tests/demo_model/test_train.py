"""`python -m attrgraph_cli.demo_model.train --smoke`: the whole pipeline on a tiny config, a few steps."""

from __future__ import annotations

import json

import pytest


@pytest.mark.trace
@pytest.mark.slow
def test_smoke_training_writes_loadable_files(tmp_path):
    pytest.importorskip("circuit_tracer")
    import torch

    from attrgraph_cli.demo_model import load_replacement_model, load_tokenizer
    from attrgraph_cli.demo_model.train import main

    main(["--smoke", "--out", str(tmp_path), "--threads", "1"])

    for name in ("model.safetensors", "model_config.json", "tokenizer.json", "MODEL_CARD.md", "metrics.json"):
        assert (tmp_path / name).is_file(), name
    config = (tmp_path / "transcoders" / "config.yaml").read_text()
    assert "model_kind: transcoder_set" in config and "feature_input_hook: mlp.hook_in" in config
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    keys = {
        "accuracy",
        "transcoders",
        "graph_scores",
        "intermediate_step",
        "city_lookup",
        "training",
        "files",
    }
    assert set(metrics) >= keys
    assert len(metrics["graph_scores"]) == 3

    model = load_replacement_model(folder=tmp_path)
    assert model.cfg.n_layers == 2 and model.cfg.d_model == 32
    tokenizer = load_tokenizer(tmp_path)
    ids = torch.tensor([[tokenizer.bos_token_id, *tokenizer("3 + 4 =", add_special_tokens=False).input_ids]])
    assert model(ids).shape == (1, 5, len(tokenizer))
