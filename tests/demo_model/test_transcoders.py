"""Transcoder training and circuit-tracer's on-disk format: what we save is what circuit-tracer loads."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_package_import_stays_light():
    code = "import sys, attrgraph_cli.demo_model; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def activations():
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 16, generator=gen)
    y = torch.relu(x @ torch.randn(16, 16, generator=gen))  # a sparse-ish target an MLP could produce
    return x, y


@pytest.mark.trace
@pytest.mark.parametrize("quantile", [0.0, 0.2])
def test_saved_set_loads_in_circuit_tracer_and_encodes_the_same(tmp_path, activations, quantile):
    pytest.importorskip("circuit_tracer")
    import torch
    import yaml
    from circuit_tracer.transcoder.activation_functions import JumpReLU
    from circuit_tracer.utils.hf_utils import load_transcoders

    from attrgraph_cli.demo_model.transcoders import (
        TranscoderSettings,
        save_transcoder_set,
        train_transcoder,
        transcoder_stats,
    )

    x, y = activations
    settings = TranscoderSettings(
        d_transcoder=64, steps=300, batch_size=256, target_l0=6, threshold_quantile=quantile
    )
    ours = [train_transcoder(x, y, settings, log=lambda *_: None, layer=i) for i in range(2)]
    stats = transcoder_stats(ours[0], x, y)
    assert stats["fve"] > 0.5 and stats["l0"] < 20

    save_transcoder_set(ours, tmp_path, dtype=torch.float32)
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert config["model_kind"] == "transcoder_set" and config["feature_output_hook"] == "mlp.hook_out"
    config["transcoders"] = [str(tmp_path / name) for name in config["transcoders"]]
    theirs = load_transcoders(config, device=torch.device("cpu"), dtype=torch.float32, lazy_decoder=False)
    assert len(theirs) == 2
    loaded = theirs[0]
    assert isinstance(loaded.activation_function, JumpReLU) == (quantile > 0)
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode(x[:100]), ours[0].encode(x[:100]), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(loaded(x[:100]), ours[0](x[:100])[0], atol=1e-5, rtol=1e-5)


def test_oversampling_weights_draw_the_share_from_the_marked_rows(activations):
    import torch

    from attrgraph_cli.demo_model.transcoders import oversampling_weights

    marked = torch.zeros(1000, dtype=torch.bool)
    marked[:45] = True  # 4.5%: cities in the demo corpus
    weights = oversampling_weights(marked, 0.4)
    assert float(weights.sum()) == pytest.approx(1.0)
    assert float(weights[marked].sum()) == pytest.approx(0.4)
    drawn = torch.multinomial(weights, 20_000, replacement=True, generator=torch.Generator().manual_seed(0))
    assert abs(float(marked[drawn].float().mean()) - 0.4) < 0.02
    assert oversampling_weights(marked, 0.0) is None
    assert oversampling_weights(torch.zeros(10, dtype=torch.bool), 0.4) is None
    assert oversampling_weights(torch.ones(10, dtype=torch.bool), 0.4) is None


def test_oversampled_rows_are_reconstructed_better(activations):
    """Rows that are rare and unlike the rest are learnt when they are drawn more often."""
    import torch

    from attrgraph_cli.demo_model.transcoders import (
        TranscoderSettings,
        oversampling_weights,
        train_transcoder,
    )

    x, y = activations
    gen = torch.Generator().manual_seed(1)
    rare = torch.zeros(len(x), dtype=torch.bool)
    rare[:40] = True  # 1%: their own inputs and outputs
    x, y = x.clone(), y.clone()
    x[rare] = torch.randn(40, x.shape[1], generator=gen) * 3
    y[rare] = torch.randn(40, y.shape[1], generator=gen) * 3
    settings = TranscoderSettings(d_transcoder=64, steps=300, batch_size=256, target_l0=6)

    def rare_error(weights) -> float:
        tc = train_transcoder(x, y, settings, log=lambda *_: None, row_weights=weights)
        with torch.no_grad():
            y_hat = tc(x[rare])[0]
        return float(((y_hat - y[rare]).norm(dim=1) / y[rare].norm(dim=1)).mean())

    assert rare_error(oversampling_weights(rare, 0.4)) < 0.8 * rare_error(None)
