"""The floor under dashboards: the bare forward pass plus the transcoder encoders over the same tokens.

Any dashboard needs at least this per corpus token: the model run up to the graph's last feature layer
reading the transcoder inputs, and each of those layers' encoders over every token (circuit-tracer's
`encode_layer`, all of the layer's features). `limit_seconds` times exactly that on the same contexts,
batched and padded as `compute_dashboards` batches them (no statistics, examples, logits or histograms).
"""

from __future__ import annotations

import time
from typing import Any


def limit_seconds(
    model: Any, features: list[tuple[int, int]], contexts: list[list[int]], device: str, batch_size: int = 64
) -> tuple[float, float]:
    """(wall, CPU) seconds of the forward pass (to the last feature layer, hooks reading the transcoder
    inputs) + the encoders; CPU time counts every thread of this process."""
    import torch

    layers = sorted({layer for layer, _ in features})
    hooks_names = {layer: f"blocks.{layer}.{model.feature_input_hook}" for layer in layers}
    captured: dict[int, Any] = {}

    def grab(acts: Any, hook: Any, layer: int) -> None:
        captured[layer] = acts

    hooks = [(name, lambda a, hook, layer=layer: grab(a, hook, layer)) for layer, name in hooks_names.items()]
    batches = []
    for start in range(0, len(contexts), batch_size):
        batch = contexts[start : start + batch_size]
        width = max(len(c) for c in batch)
        tokens = torch.zeros((len(batch), width), dtype=torch.long)
        for i, ids in enumerate(batch):
            tokens[i, : len(ids)] = torch.tensor(ids)
        batches.append(tokens.to(device))
    _sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    with torch.inference_mode(), model.hooks(hooks):
        for tokens in batches:
            model(tokens, stop_at_layer=max(layers) + 1)
            for layer in layers:
                x = captured[layer].reshape(-1, captured[layer].shape[-1])
                for at in range(0, x.shape[0], 4096):
                    model.transcoders.encode_layer(x[at : at + 4096], layer)
    _sync(device)
    return time.perf_counter() - start, time.process_time() - cpu


def _sync(device: str) -> None:
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
