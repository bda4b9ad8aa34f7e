"""One prompt -> one attribution graph, on an already loaded model (`trace_prompt`).

The steps: check the prompt (empty, longer than the model's context) and the targets (each one vocabulary
token), run circuit-tracer's `attribute` with the user's options (progress and phase times captured), prune
and convert to an `AttributionGraph`, add provenance to the metadata and gather what the history record
will say. Checking and writing are the stage finish's (`trace.writer.write_outputs` calls
`stages.finish_stage`), so that a batch runner or a distributed worker can decide where results go.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from attrgraph_cli.defaults import DEFAULT_EDGE_THRESHOLD, DEFAULT_NODE_THRESHOLD
from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.models import LoadedModel
from attrgraph_cli.models.tokens import PromptError, target_token_id
from attrgraph_cli.trace.progress import TraceProgress

#: circuit-tracer CLI defaults (circuit_tracer/__main__.py), kept under the same names
DEFAULT_MAX_N_LOGITS = 10
DEFAULT_DESIRED_LOGIT_PROB = 0.95
DEFAULT_BATCH_SIZE = 256
DEFAULT_MAX_FEATURE_NODES = 7500


@dataclass(frozen=True)
class TraceOptions:
    """circuit-tracer's attribution and pruning settings (same names and defaults as its CLI)."""

    max_n_logits: int = DEFAULT_MAX_N_LOGITS
    desired_logit_prob: float = DEFAULT_DESIRED_LOGIT_PROB
    batch_size: int = DEFAULT_BATCH_SIZE
    max_feature_nodes: int | None = DEFAULT_MAX_FEATURE_NODES  # None or 0: every active feature
    offload: str | None = None  # "cpu" | "disk"
    node_threshold: float = DEFAULT_NODE_THRESHOLD
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD

    def check(self) -> None:
        if self.max_n_logits < 1:
            raise AttrgraphError("--max-n-logits must be at least 1")
        if not 0.0 < self.desired_logit_prob <= 1.0:
            raise AttrgraphError("--desired-logit-prob must be in (0, 1]")
        if self.batch_size < 1:
            raise AttrgraphError("--batch-size must be at least 1")
        if self.max_feature_nodes is not None and self.max_feature_nodes < 0:
            raise AttrgraphError("--max-feature-nodes must be >= 0 (0 means every active feature)")
        if self.offload not in (None, "cpu", "disk"):
            raise AttrgraphError(f"--offload must be cpu or disk, not {self.offload!r}")
        for name in ("node_threshold", "edge_threshold"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise AttrgraphError(f"--{name.replace('_', '-')} must be between 0 and 1, got {value}")


@dataclass(frozen=True)
class PromptJob:
    """One unit of work: a prompt, its slug and optional attribution targets (`minus`: logit differences)."""

    prompt: str
    slug: str | None = None
    targets: tuple[str, ...] = ()
    minus: tuple[str, ...] = ()

    def resolved_slug(self) -> str:
        return self.slug or slugify(self.prompt)


@dataclass
class TraceResult:
    graph: Any  # AttributionGraph
    raw: Any  # circuit_tracer Graph (unpruned)
    timings: dict[str, float] = field(default_factory=dict)
    #: the `trace` history record's settings and details (the writer adds the phase times)
    settings: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def slugify(prompt: str, max_len: int = 64) -> str:
    """A file-name-safe slug from the prompt: lowercase words joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", prompt.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_len:
            break
        slug = candidate
    return slug or "graph"


# ---- checks ---------------------------------------------------------------------------------------------
def visible_text(text: str) -> bool:
    """Whether `text` holds anything but whitespace, control and format (e.g. zero-width) characters."""
    import unicodedata

    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)


def tokenize_prompt(loaded: LoadedModel, prompt: str):
    """Token ids as circuit-tracer will see them (special token prepended); empty / over-long is an error."""
    if not visible_text(prompt):
        raise PromptError(
            "the prompt is empty" + (" (it holds only control or invisible characters)" if prompt else "")
        )
    ids = loaded.model.ensure_tokenized(prompt)
    if len(ids) < 2:  # nothing but the start token: the tokenizer dropped every character
        raise PromptError("the prompt is empty once tokenized (the tokenizer drops all its characters)")
    if loaded.n_ctx is not None and len(ids) > loaded.n_ctx:
        raise PromptError(
            f"the prompt is {len(ids)} tokens long (with the start token) but the model's context is "
            f"{loaded.n_ctx} tokens (n_ctx); shorten it"
        )
    return ids


def build_targets(loaded: LoadedModel, job: PromptJob, input_ids) -> tuple[Any, list[dict[str, Any]]]:
    """circuit-tracer's `attribution_targets` for the job, and a description for the metadata.

    - no targets: None (circuit-tracer picks the most likely logits);
    - `--target A [B ...]`: those tokens (`Sequence[str]`);
    - `--target A --minus B`: a custom target whose direction is unembed[A] - unembed[B], i.e. the logit
      difference; one `--minus` applies to every target, otherwise they pair up in order.
    """
    if not job.targets:
        if job.minus:
            raise PromptError("--minus needs a --target to subtract from")
        return None, []
    ids = [target_token_id(loaded, t) for t in job.targets]
    if not job.minus:
        return list(job.targets), [{"token": t, "vocab_id": i} for t, i in zip(job.targets, ids, strict=True)]
    if len(job.minus) not in (1, len(job.targets)):
        raise PromptError("give one --minus for all targets, or one --minus per --target")
    minus = list(job.minus) * (len(job.targets) if len(job.minus) == 1 else 1)
    minus_ids = [target_token_id(loaded, t, "--minus") for t in minus]

    import torch
    from circuit_tracer.attribution.targets import CustomTarget

    unembed = loaded.model.unembed_proj
    probs = _next_token_probabilities(loaded, input_ids)
    vocab_rows = _unembed_rows_are_vocab(loaded, unembed)
    targets, described = [], []
    for tok, tid, sub, sid in zip(job.targets, ids, minus, minus_ids, strict=True):
        if vocab_rows:  # (d_vocab, d_model): nnsight
            vec = unembed[tid] - unembed[sid]
        else:  # (d_model, d_vocab): TransformerLens
            vec = unembed[:, tid] - unembed[:, sid]
        weight = float(probs[tid]) if probs is not None else 1.0
        label = f"logit({tok})-logit({sub})"
        targets.append(CustomTarget(token_str=label, prob=weight, vec=vec.detach().to(torch.float32)))
        described.append(
            {
                "token": tok,
                "vocab_id": tid,
                "minus": sub,
                "minus_vocab_id": sid,
                "label": label,
                "weight": weight,
            }
        )
    return targets, described


def _unembed_rows_are_vocab(loaded: LoadedModel, unembed) -> bool:
    """Whether `unembed_proj` is (d_vocab, d_model) (nnsight), not (d_model, d_vocab) (TransformerLens)."""
    cfg = getattr(loaded.model, "cfg", None)
    d_model = getattr(cfg, "d_model", None) or getattr(
        getattr(loaded.model, "config", None), "hidden_size", None
    )
    if d_model and unembed.shape[0] != unembed.shape[1]:
        return int(unembed.shape[1]) == int(d_model)
    return loaded.backend == "nnsight"


def _next_token_probabilities(loaded: LoadedModel, input_ids):
    """Softmax over the next token (used to weight logit-difference targets like ordinary logits)."""
    import torch

    try:
        with torch.no_grad():
            logits = loaded.model(input_ids.unsqueeze(0))
        return torch.softmax(logits[0, -1].float(), dim=-1).cpu()
    except Exception:  # noqa: BLE001 - a backend without a plain forward: equal weights
        return None


# ---- the trace itself -----------------------------------------------------------------------------------
def trace_prompt(
    loaded: LoadedModel,
    job: PromptJob,
    options: TraceOptions,
    progress: TraceProgress | None = None,
) -> TraceResult:
    """Attribute, prune and convert one prompt (metadata and record facts included); bad input raises
    `AttrgraphError`. Nothing is checked or written here: that is the stage finish (`write_outputs`)."""
    from circuit_tracer import attribute

    from attrgraph_cli.graph.dense import from_circuit_tracer_graph
    from attrgraph_cli.trace.metadata import add_metadata, trace_record

    progress = progress or TraceProgress(quiet=True)
    options.check()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    input_ids = tokenize_prompt(loaded, job.prompt)
    attribution_targets, target_info = build_targets(loaded, job, input_ids)
    timings["prepare"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    try:
        with progress.ct_progress(timings):
            raw = attribute(
                input_ids,
                loaded.model,
                attribution_targets=attribution_targets,
                max_n_logits=options.max_n_logits,
                desired_logit_prob=options.desired_logit_prob,
                batch_size=options.batch_size,
                max_feature_nodes=options.max_feature_nodes or None,
                offload=options.offload,  # type: ignore[arg-type]
                verbose=True,
            )
    except Exception as exc:
        raise translate_runtime_error(exc) from exc
    timings["attribute"] = time.perf_counter() - t1
    raw.input_string = job.prompt  # the text as typed, not a decode of the ids (which adds the start token)

    t2 = time.perf_counter()
    with progress.step("Pruning and converting"):
        graph = from_circuit_tracer_graph(
            raw,
            tokenizer=loaded.tokenizer,
            slug=job.resolved_slug(),
            scan=loaded.scan,
            node_threshold=options.node_threshold,
            edge_threshold=options.edge_threshold,
        )
    timings["prune_convert"] = time.perf_counter() - t2
    add_metadata(graph, raw, loaded, job, options, target_info)
    settings, details = trace_record(graph, raw, loaded, job, options)
    return TraceResult(graph=graph, raw=raw, timings=timings, settings=settings, details=details)


def translate_runtime_error(exc: BaseException) -> BaseException:
    """CUDA out-of-memory and circuit-tracer's input errors become one-line `AttrgraphError`s."""
    import torch

    oom = getattr(torch.cuda, "OutOfMemoryError", ())
    if (oom and isinstance(exc, oom)) or "out of memory" in str(exc).lower():
        return AttrgraphError(
            "CUDA out of memory while attributing: try --offload cpu (or disk), a smaller --batch-size, "
            "or a smaller --max-feature-nodes"
        )
    if isinstance(exc, AttrgraphError):
        return exc
    if isinstance(exc, (ValueError, TypeError, AssertionError)) and str(exc):
        return PromptError(f"circuit-tracer rejected the input: {str(exc).splitlines()[0]}")
    return exc
