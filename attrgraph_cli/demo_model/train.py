"""Retrain the embedded demo model from the seeded corpus: `python -m attrgraph_cli.demo_model.train`.

Steps: build the word-level tokenizer -> train the HookedTransformer -> collect MLP input/output
activations -> train one transcoder per layer -> save everything in circuit-tracer's formats ->
reload the files through `loader.load_replacement_model` and measure -> write metrics.json and
MODEL_CARD.md. Runs on CPU with 2 threads; everything is seeded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def collect_activations(model, tokenizer, n_batches: int, seed: int) -> tuple[list, list, torch.Tensor]:
    """MLP inputs and outputs of every layer on fresh corpus text, [BOS] position left out, and the
    token id of each row.

    The input is what circuit-tracer feeds a transcoder (`mlp.hook_in`): the output of `ln2`, *after*
    its scale and shift, i.e. `ln2(hook_resid_mid)` (not `ln2.hook_normalized`, which comes before them).
    """
    import torch

    from attrgraph_cli.demo_model.corpus import CorpusGenerator
    from attrgraph_cli.demo_model.lm import batch_tokens

    gen = CorpusGenerator(seed=seed)
    n_layers = model.cfg.n_layers
    xs: list[list] = [[] for _ in range(n_layers)]
    ys: list[list] = [[] for _ in range(n_layers)]
    ids: list = []

    def wanted(name: str) -> bool:
        return name.endswith("hook_resid_mid") or name.endswith("hook_mlp_out")

    with torch.no_grad():
        for _ in range(n_batches):
            tokens = batch_tokens(gen, tokenizer, 64, 32)
            _, cache = model.run_with_cache(tokens, names_filter=wanted)
            ids.append(tokens[:, 1:].flatten())
            for i in range(n_layers):
                mlp_in = model.blocks[i].ln2(cache[f"blocks.{i}.hook_resid_mid"])
                xs[i].append(mlp_in[:, 1:].flatten(0, 1))
                ys[i].append(cache[f"blocks.{i}.hook_mlp_out"][:, 1:].flatten(0, 1))
    return [torch.cat(x) for x in xs], [torch.cat(y) for y in ys], torch.cat(ids)


def measure(folder: Path, log=print) -> dict:
    """Every number of the model card, measured on the files in `folder` (as shipped)."""
    from attrgraph_cli.demo_model.city_lookup import city_lookup
    from attrgraph_cli.demo_model.corpus import eval_sets, example_prompts
    from attrgraph_cli.demo_model.evaluate import (
        accuracy_table,
        dead_fraction_curve,
        graph_scores,
        intermediate_step,
        replacement_accuracy,
        transcoder_quality,
    )
    from attrgraph_cli.demo_model.loader import load_replacement_model, load_tokenizer
    from attrgraph_cli.demo_model.mechanism import mechanism

    tokenizer = load_tokenizer(folder)
    model = load_replacement_model(folder=folder)
    metrics: dict = {"accuracy": accuracy_table(model, tokenizer, eval_sets())}
    log("accuracy: " + ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in metrics["accuracy"].items()))
    metrics["replacement_accuracy"] = replacement_accuracy(model, tokenizer, eval_sets())
    log(
        "with MLPs replaced: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics["replacement_accuracy"].items())
    )
    metrics["transcoders"] = transcoder_quality(model, tokenizer)
    for r in metrics["transcoders"]:
        log(f"transcoder L{r['layer']}: fve {r['fve']:.3f}  l0 {r['l0']:.1f}")
    metrics["dead_fraction_curve"] = dead_fraction_curve(model, tokenizer)
    metrics["graph_scores"] = [graph_scores(model, ex.prompt) for ex in example_prompts()[:3]]
    for row in metrics["graph_scores"]:
        scores = f"replacement {row['replacement_score']:.3f} completeness {row['completeness_score']:.3f}"
        log(f"graph {row['prompt']!r}: {scores}")
    metrics["intermediate_step"] = intermediate_step(model)
    log(f"intermediate step: {metrics['intermediate_step']['shows_intermediate']}")
    metrics["city_lookup"] = city_lookup(model)
    watch = tuple(
        (h["layer"], h["feature"]) for h in metrics["intermediate_step"]["intermediate_features"][:2]
    )
    metrics["mechanism"] = mechanism(model, watch=watch)
    rates = metrics["city_lookup"]["rates"].items()
    log("city lookup: " + ", ".join(f"{k} {'n/a' if v is None else f'{v:.2f}'}" for k, v in rates))
    return metrics


def main(argv: list[str] | None = None) -> None:
    """`make demo-model`: train the LM (or reuse it) and its transcoders, measure them, write the card."""
    args = _parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # progress lines show up even when redirected

    import torch

    from attrgraph_cli.demo_model.lm import city_token_ids
    from attrgraph_cli.demo_model.loader import TRANSCODER_DIR, WEIGHTS_DIR
    from attrgraph_cli.demo_model.tokenizer import build_tokenizer, save_tokenizer, wrap_fast
    from attrgraph_cli.demo_model.transcoders import (
        oversampling_weights,
        save_transcoder_set,
        train_transcoder,
    )

    torch.set_num_threads(args.threads)
    out: Path = args.out or WEIGHTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    lm_settings, tc_settings, n_act_batches = _settings(args)
    if args.measure_only:
        previous = json.loads((out / "metrics.json").read_text())
        metrics = measure(out)
        metrics["training"] = previous["training"]
        _write_metrics(out, metrics, files=previous["files"])
        return

    t0 = time.perf_counter()
    raw_tokenizer = build_tokenizer()
    save_tokenizer(raw_tokenizer, out)
    tokenizer = wrap_fast(raw_tokenizer)
    model, t_lm, lm_seconds_before = _language_model(args.reuse_lm, out, lm_settings, tokenizer)

    xs, ys, row_tokens = collect_activations(model, tokenizer, n_act_batches, seed=lm_settings.seed + 1)
    weights = oversampling_weights(torch.isin(row_tokens, city_token_ids(tokenizer)), tc_settings.city_share)
    transcoders = [
        train_transcoder(x, y, tc_settings, layer=i, row_weights=weights)
        for i, (x, y) in enumerate(zip(xs, ys, strict=True))
    ]
    save_transcoder_set(transcoders, out / TRANSCODER_DIR, dtype=torch.float32)
    t_train = time.perf_counter() - t0
    print(f"trained in {t_train:.0f}s (LM {t_lm:.0f}s); measuring the saved files")

    metrics = measure(out)
    metrics["training"] = {
        "lm": vars(lm_settings),
        "transcoders": vars(tc_settings),
        "activation_tokens_per_layer": int(xs[0].shape[0]),
        # with --reuse-lm the LM's time of the run that trained it is added, so totals stay comparable
        "train_seconds": round(t_train + (lm_seconds_before or 0), 1),
        "lm_seconds": round(t_lm, 1) if lm_seconds_before is None else lm_seconds_before,
        "lm_reused": bool(args.reuse_lm),
        "total_seconds": round(time.perf_counter() - t0 + (lm_seconds_before or 0), 1),
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    _write_metrics(out, metrics)
    print(f"done in {time.perf_counter() - t0:.0f}s -> {out}")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: weights/)")
    parser.add_argument("--lm-steps", type=int, default=None, help="override the LM's training steps")
    parser.add_argument("--tc-steps", type=int, default=None, help="override transcoder training steps")
    parser.add_argument(
        "--reuse-lm", action="store_true", help="keep the LM already in --out, retrain the transcoders"
    )
    parser.add_argument(
        "--measure-only", action="store_true", help="re-measure the files in --out, rewrite metrics and card"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny, fast configuration (tests only)")
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace) -> tuple[Any, Any, int]:
    """(LM settings, transcoder settings, activation batches): the defaults, `--smoke`'s tiny ones, and
    the `--lm-steps` / `--tc-steps` overrides."""
    from attrgraph_cli.demo_model.lm import LMSettings
    from attrgraph_cli.demo_model.transcoders import TranscoderSettings

    lm_settings, tc_settings, n_act_batches = LMSettings(), TranscoderSettings(), 60
    if args.smoke:
        lm_settings = LMSettings(n_layers=2, d_model=32, n_heads=2, d_mlp=64, steps=3, batch_size=4)
        tc_settings = TranscoderSettings(d_transcoder=64, steps=3, batch_size=64)
        n_act_batches = 1
    if args.lm_steps is not None:
        lm_settings.steps = args.lm_steps
    if args.tc_steps is not None:
        tc_settings.steps = args.tc_steps
    return lm_settings, tc_settings, n_act_batches


def _language_model(reuse: bool, out: Path, lm_settings: Any, tokenizer: Any) -> tuple[Any, float, Any]:
    """(model, seconds training it here, seconds of the run that trained a reused one): the LM in `out`
    with `--reuse-lm`, else a newly trained one saved there."""
    from safetensors.torch import save_file

    from attrgraph_cli.demo_model.lm import config_to_dict, train_lm
    from attrgraph_cli.demo_model.loader import CONFIG_FILE, MODEL_FILE, load_hooked_transformer

    if reuse:
        model = load_hooked_transformer(out)
        previous = json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").is_file() else {}
        return model, 0.0, previous.get("training", {}).get("lm_seconds")
    t0 = time.perf_counter()
    model = train_lm(lm_settings, tokenizer)
    t_lm = time.perf_counter() - t0
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / MODEL_FILE))
    (out / CONFIG_FILE).write_text(json.dumps(config_to_dict(model.cfg), indent=2) + "\n")
    return model, t_lm, None


def _write_metrics(out: Path, metrics: dict[str, Any], files: dict[str, int] | None = None) -> None:
    """`metrics.json` (with the shipped files' sizes, or `files` as given) and the model card."""
    from attrgraph_cli.demo_model.card import write_card

    if files is None:
        written = ("metrics.json", "MODEL_CARD.md")
        shipped = [p for p in sorted(out.rglob("*")) if p.is_file() and p.name not in written]
        files = {str(p.relative_to(out)): p.stat().st_size for p in shipped}
    metrics["files"] = files
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_card(metrics, out / "MODEL_CARD.md")


if __name__ == "__main__":
    main()
