"""The embedded demo model: a tiny word-level language model with per-layer transcoders.

Light to import (no torch at import time). Use:

    from attrgraph_cli.demo_model import load_replacement_model, example_prompts
    model = load_replacement_model()               # circuit-tracer ReplacementModel, CPU, float32
    for ex in example_prompts(): print(ex.prompt, "->", ex.answer)

`corpus` holds the seeded generator and evaluation sets; `train` retrains (`make demo-model`).
"""

from __future__ import annotations

from attrgraph_cli.demo_model.corpus import Example, eval_sets, example_prompts
from attrgraph_cli.demo_model.loader import (
    DEMO_MODEL_NAME,
    DemoModelMissing,
    demo_model_dir,
    load_hooked_transformer,
    load_replacement_model,
    load_tokenizer,
    load_transcoders,
)

__all__ = [
    "DEMO_MODEL_NAME",
    "DemoModelMissing",
    "Example",
    "demo_model_dir",
    "eval_sets",
    "example_prompts",
    "load_hooked_transformer",
    "load_replacement_model",
    "load_tokenizer",
    "load_transcoders",
]
