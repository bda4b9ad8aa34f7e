"""Provenance of a traced graph, written where Neuronpedia and circuit-tracer look for it.

- `metadata.scan`, `slug`, `prompt`, `prompt_tokens`, `node_threshold`: the standard fields;
- `metadata.generation_settings`: circuit-tracer's attribution settings (+ targets, backend, device, dtype);
- `metadata.pruning_settings`: node and edge thresholds;
- `metadata.info`: `generator`, `create_time_ms`, `source_urls`;
- `attrgraph.history`: the stage record of every stage (the extension contract), here `trace`'s: model,
  transcoder set, versions, graph sizes (`trace_record`) and the wall time of every phase (added when the
  stage finish writes the record, `trace.writer`).
"""

from __future__ import annotations

import platform
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from attrgraph_cli import __version__
from attrgraph_cli.models import LoadedModel

GENERATOR_URL = "https://github.com/safety-research/circuit-tracer"


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def source_urls(transcoder_set: str) -> list[str]:
    """Hub URL of the transcoders when they came from the hub (a local folder has none)."""
    from attrgraph_cli.models import TRANSCODER_ALIASES

    ref = TRANSCODER_ALIASES.get(transcoder_set, transcoder_set)
    if ref.startswith(("/", ".", "~")) or "/" not in ref:
        return []
    if ref.startswith("hf://"):
        ref = ref[len("hf://") :]
    repo, _, revision = ref.partition("@")
    parts = repo.split("/")
    url = f"https://huggingface.co/{parts[0]}/{parts[1]}"
    if len(parts) > 2 or revision:
        url += f"/tree/{revision or 'main'}" + ("/" + "/".join(parts[2:]) if len(parts) > 2 else "")
    return [url]


def add_metadata(
    graph: Any,
    raw: Any,
    loaded: LoadedModel,
    job: Any,
    options: Any,
    target_info: list[dict[str, Any]],
) -> None:
    """Fill the metadata of a freshly traced `graph` (an `AttributionGraph`) in place."""
    meta = graph.metadata
    meta["slug"] = job.resolved_slug()
    meta["scan"] = loaded.scan
    meta["prompt"] = job.prompt
    meta["node_threshold"] = options.node_threshold
    n_active = int(raw.active_features.shape[0])
    meta["generation_settings"] = {
        "max_n_logits": options.max_n_logits,
        "desired_logit_prob": options.desired_logit_prob,
        "batch_size": options.batch_size,
        "max_feature_nodes": int(options.max_feature_nodes or n_active),
        "offload": options.offload,
        "attribution_targets": target_info or "salient logits",
        "backend": loaded.backend,
        "device": loaded.device,
        "dtype": loaded.dtype,
    }
    meta["pruning_settings"] = {
        "node_threshold": options.node_threshold,
        "edge_threshold": options.edge_threshold,
    }
    info = meta.setdefault("info", {})
    info["generator"] = {
        "name": "attrgraph (circuit-tracer)",
        "version": f"attrgraph {__version__}, circuit-tracer {package_version('circuit-tracer')}",
        "url": GENERATOR_URL,
    }
    info["create_time_ms"] = int(time.time() * 1000)
    urls = source_urls(loaded.transcoder_set)
    if urls:
        info["source_urls"] = urls


def trace_record(
    graph: Any, raw: Any, loaded: LoadedModel, job: Any, options: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `trace` history record's settings (the model, the `TraceOptions` as declared, the targets) and
    details (versions, model source, sizes); the phase times join the details when the record is written."""
    from attrgraph_cli.stages.provenance import record_settings

    settings = {
        "model": loaded.model_name,
        "transcoder_set": loaded.transcoder_set,
        "backend": loaded.backend,
        "device": loaded.device,
        "dtype": loaded.dtype,
        **record_settings(options),
        "targets": list(job.targets),
        "minus": list(job.minus),
    }
    n_active = int(raw.active_features.shape[0])
    n_selected = int(raw.selected_features.shape[0])
    details = {
        "circuit_tracer_version": package_version("circuit-tracer"),
        "torch_version": package_version("torch"),
        "transformer_lens_version": package_version("transformer-lens"),
        "python_version": platform.python_version(),
        "model": loaded.model_name,
        "model_source": loaded.describe,
        "transcoder_set": loaded.transcoder_set,
        "scan": loaded.scan,
        "backend": loaded.backend,
        "device": loaded.device,
        "dtype": loaded.dtype,
        "n_layers": loaded.n_layers,
        "n_tokens": int(len(raw.input_tokens)),
        "n_active_features": n_active,
        "n_attributed_features": n_selected,
        "n_logits": len(raw.logit_targets),
        "unpruned_nodes": int(raw.adjacency_matrix.shape[0]),
        "nodes": len(graph.nodes),
        "links": len(graph.edges),
    }
    return settings, details


def utc_now_at(epoch_s: float) -> str:
    """ISO 8601 UTC time of a Unix time (seconds)."""
    import datetime

    return datetime.datetime.fromtimestamp(epoch_s, datetime.timezone.utc).isoformat(timespec="seconds")
