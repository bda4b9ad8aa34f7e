"""Per-layer transcoders (MLP input -> MLP output) trained on the demo model's activations.

Each transcoder is a ReLU dictionary `f = relu(W_enc x + b_enc)`, `y_hat = f W_dec + b_dec`, trained with
a normalised reconstruction loss plus an L1 penalty on `f * ||W_dec row||` whose coefficient is steered
towards a target mean L0 during the first 80% of the steps (then frozen), so one setting fits every
layer. Optionally (`threshold_quantile > 0`) a per-feature JumpReLU threshold then zeroes the weakest
activations. The files are written in circuit-tracer's transcoder-set format, so its own loader reads them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn


@dataclass
class TranscoderSettings:
    d_transcoder: int = 512
    steps: int = 4000
    batch_size: int = 1024
    lr: float = 3e-3
    l1: float = 3e-3  # starting L1 coefficient; adapted during training towards `target_l0`
    target_l0: float = 16.0
    threshold_quantile: float = 0.0  # per-feature JumpReLU threshold: this quantile of its nonzero acts
    seed: int = 0
    # Share of each batch drawn from city positions (4.5% of the text). The region lookup happens there;
    # at their natural rate the dictionary codes the 134 cities combinatorially instead of by region.
    city_share: float = 0.4


class Transcoder(nn.Module):
    """A ReLU (optionally JumpReLU after thresholding) transcoder for one layer."""

    def __init__(self, d_model: int, d_transcoder: int) -> None:
        super().__init__()
        self.W_enc = nn.Parameter(torch.empty(d_transcoder, d_model))
        self.b_enc = nn.Parameter(torch.zeros(d_transcoder))
        self.W_dec = nn.Parameter(torch.empty(d_transcoder, d_model))
        self.b_dec = nn.Parameter(torch.zeros(d_model))
        self.register_buffer("threshold", torch.zeros(d_transcoder))
        nn.init.kaiming_uniform_(self.W_dec)
        with torch.no_grad():
            self.W_dec /= self.W_dec.norm(dim=1, keepdim=True)
            self.W_enc.copy_(self.W_dec * 0.5)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = x @ self.W_enc.T + self.b_enc
        return pre * (pre > self.threshold)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.encode(x)
        return f @ self.W_dec + self.b_dec, f


def fve(y: torch.Tensor, y_hat: torch.Tensor) -> float:
    """Fraction of variance explained: 1 - |y - y_hat|^2 / |y - mean(y)|^2 (summed over tokens and dims)."""
    resid = (y - y_hat).pow(2).sum()
    total = (y - y.mean(0)).pow(2).sum()
    return float(1 - resid / total)


def train_transcoder(
    x: torch.Tensor,
    y: torch.Tensor,
    settings: TranscoderSettings,
    log=print,
    layer: int = 0,
    row_weights: torch.Tensor | None = None,
) -> Transcoder:
    """Fit one transcoder on activations `x` (MLP inputs) -> `y` (MLP outputs), rows are tokens.

    Batches draw rows uniformly, or in proportion to `row_weights` when given.
    """
    gen = torch.Generator().manual_seed(settings.seed + layer)
    torch.manual_seed(settings.seed + layer)
    tc = Transcoder(x.shape[1], settings.d_transcoder)
    with torch.no_grad():
        tc.b_dec.copy_(y.mean(0))
    y_var = (y - y.mean(0)).pow(2).sum(1).mean()
    opt = torch.optim.Adam(tc.parameters(), lr=settings.lr)
    n = x.shape[0]
    l1 = settings.l1
    start = time.perf_counter()
    for step in range(settings.steps):
        if row_weights is None:
            idx = torch.randint(0, n, (settings.batch_size,), generator=gen)
        else:
            idx = torch.multinomial(row_weights, settings.batch_size, replacement=True, generator=gen)
        xb, yb = x[idx], y[idx]
        y_hat, f = tc(xb)
        mse = (y_hat - yb).pow(2).sum(1).mean() / y_var
        sparsity = (f * tc.W_dec.norm(dim=1)).sum(1).mean()
        loss = mse + l1 * sparsity
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step < 0.8 * settings.steps:  # steer the penalty towards the target L0, then hold it
            l0_now = (f > 0).float().sum(1).mean().item()
            l1 *= 1.01 if l0_now > settings.target_l0 else 1 / 1.01
        if step % 500 == 0 or step == settings.steps - 1:
            l0 = (f > 0).float().sum(1).mean().item()
            log(
                f"transcoder L{layer} step {step:5d}  nmse {mse.item():.3f}  L0 {l0:.1f}  l1 {l1:.2e}  "
                f"{time.perf_counter() - start:.0f}s"
            )
    if settings.threshold_quantile > 0:
        set_thresholds(tc, x, settings.threshold_quantile)
    return tc


def oversampling_weights(marked: torch.Tensor, share: float) -> torch.Tensor | None:
    """Row weights that draw `share` of each batch from the `marked` rows, the rest from the others
    (None, i.e. uniform, when `share` is 0 or either side is empty)."""
    n_marked = int(marked.sum())
    if share <= 0 or n_marked == 0 or n_marked == len(marked):
        return None
    return torch.where(marked, share / n_marked, (1 - share) / (len(marked) - n_marked))


@torch.no_grad()
def set_thresholds(tc: Transcoder, x: torch.Tensor, quantile: float) -> None:
    """Per-feature threshold = `quantile` of that feature's nonzero activations on `x` (JumpReLU)."""
    pre = (x[:50_000] @ tc.W_enc.T + tc.b_enc).clamp(min=0)
    thresholds = torch.zeros_like(tc.threshold)
    for j in range(pre.shape[1]):
        vals = pre[:, j][pre[:, j] > 0]
        if vals.numel() > 10:
            thresholds[j] = torch.quantile(vals, quantile)
    tc.threshold.copy_(thresholds)


@torch.no_grad()
def transcoder_stats(tc, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """FVE, mean L0 and the fraction of features never active, on held-out activations."""
    f = tc.encode(x)
    y_hat = tc.decode(f) if hasattr(tc, "decode") else f @ tc.W_dec + tc.b_dec
    active = f > 0
    return {
        "fve": fve(y.float(), y_hat.float()),
        "l0": float(active.float().sum(1).mean()),
        "dead_fraction": float((~active.any(0)).float().mean()),
    }


def save_transcoder_set(transcoders: list[Transcoder], folder: Path, dtype: torch.dtype) -> None:
    """Write `config.yaml` + `layer_{i}.safetensors` in circuit-tracer's transcoder-set format."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    jump = any(bool((tc.threshold > 0).any()) for tc in transcoders)
    for i, tc in enumerate(transcoders):
        tensors = {
            "W_enc": tc.W_enc.detach(),
            "W_dec": tc.W_dec.detach(),
            "b_enc": tc.b_enc.detach(),
            "b_dec": tc.b_dec.detach(),
        }
        if jump:  # circuit-tracer picks JumpReLU when this key is present, plain ReLU otherwise
            tensors["activation_function.threshold"] = tc.threshold.detach()
        save_file(
            {k: v.to(dtype).contiguous() for k, v in tensors.items()}, str(folder / f"layer_{i}.safetensors")
        )
    lines = [
        "# circuit-tracer transcoder set (per-layer transcoders of the attrgraph demo model)",
        "model_name: attrgraph-demo",
        "model_kind: transcoder_set",
        "feature_input_hook: mlp.hook_in",
        "feature_output_hook: mlp.hook_out",
        "scan: attrgraph-demo-transcoders",
        "transcoders:",
        *[f"  - layer_{i}.safetensors" for i in range(len(transcoders))],
    ]
    (folder / "config.yaml").write_text("\n".join(lines) + "\n")
