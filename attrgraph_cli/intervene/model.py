"""Which model a graph was traced with, and whether a loaded model is that model.

Resolution (`model_request`): `--model/--transcoders` when given; else the graph's recorded provenance
(the last `trace` record in `attrgraph.history`, migrated files included: model, transcoder set, backend,
dtype, and for the embedded demo model or a local folder, where it came from); else the embedded demo
model when the graph's scan is the demo model's; else an error asking for `--model`. A file may choose
only the embedded demo model or a local folder that exists here: a recorded hub name is an error asking
the user to pass it (`hub_refusal`), so a graph from a stranger cannot make a run download anything.

Checks (`check_match`, after loading and one forward pass): number of layers, feature indices within the
transcoders' width, logit tokens in the vocabulary and spelled the same, the prompt's tokens, and every
feature node's activation within `tolerance` of the recorded one. The first failure is one error line that
says what differs.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.safetext import printable

DEMO_NAMES = {"attrgraph-demo", "attrgraph-demo-transcoders"}


class ModelMismatch(AttrgraphError):
    """The loaded model is not the one the graph was traced with."""


def recorded_model(graph: AttributionGraph) -> dict[str, Any] | None:
    """The newest trace record's model facts (model, transcoders, backend, dtype, source), or None."""
    from attrgraph_cli.extension import history

    for record in reversed(history(graph)):
        if not isinstance(record, dict) or record.get("stage") != "trace":
            continue
        settings = record.get("settings") if isinstance(record.get("settings"), dict) else {}
        details = record.get("details") if isinstance(record.get("details"), dict) else {}
        merged = {**details, **settings}
        model = merged.get("model") or merged.get("model_name")
        transcoders = merged.get("transcoder_set") or merged.get("transcoders")
        if not model and not transcoders:
            continue
        source = merged.get("model_source") if isinstance(merged.get("model_source"), dict) else {}
        return {
            "model": str(model) if model else None,
            "transcoders": str(transcoders) if transcoders else None,
            "backend": str(merged.get("backend") or "transformerlens"),
            "dtype": str(merged.get("dtype") or "float32"),
            "source": str(source.get("source", "")),
            "path": str(source.get("path", "")) or None,
        }
    return None


def model_request(
    graph: AttributionGraph,
    *,
    model: str | None = None,
    transcoders: str | None = None,
    device: str = "auto",
    dtype: str | None = None,
    backend: str | None = None,
):
    """A `models.ModelRequest` for this graph, and a short description of where it came from."""
    from attrgraph_cli.models import ModelRequest

    if model is not None or transcoders is not None:
        req = ModelRequest(model, transcoders, backend or "transformerlens", device, dtype or "float32")
        return req, "--model/--transcoders"
    rec = recorded_model(graph)
    if rec is not None:
        kw = {"backend": backend or rec["backend"], "device": device, "dtype": dtype or rec["dtype"]}
        if rec["source"] == "embedded demo model" or rec["model"] in DEMO_NAMES:
            return ModelRequest(**kw), "the embedded demo model (recorded in the graph's trace record)"
        if rec["source"] == "local folder" and rec["path"]:
            from attrgraph_cli.models.local import LOCAL_MODEL_FILE

            if not (Path(rec["path"]) / LOCAL_MODEL_FILE).is_file():  # a local model folder, never a name
                raise AttrgraphError(
                    f"the graph was traced with the local model folder {rec['path']}, which is not on this "
                    "machine (no attrgraph-model.json there): pass --model FOLDER (and --transcoders)"
                )
            return ModelRequest(
                rec["path"], rec["transcoders"] if _is_path(rec["transcoders"]) else None, **kw
            ), (f"{rec['path']} (recorded in the graph's trace record)")
        raise AttrgraphError(hub_refusal(rec["model"], rec["transcoders"]))
    if graph.scan in DEMO_NAMES:
        req = ModelRequest(None, None, backend or "transformerlens", device, dtype or "float32")
        return req, f"the embedded demo model (the graph's scan is {graph.scan})"
    raise AttrgraphError(
        f"the graph records no model (no trace record in attrgraph.history, scan {graph.scan!r}): "
        "pass --model (and --transcoders)"
    )


def hub_refusal(model: str | None, transcoders: str | None) -> str:
    """The error for a graph whose history names a hub model: a file does not choose what is downloaded.

    What a file may name by itself: the embedded demo model, and a local model folder recorded by `trace`
    that exists on this machine. A hub name (`org/repo`, `gemma-2-2b`) must come from the user."""
    named = " ".join(
        f"{flag} {shlex.quote(printable(value))}"
        for flag, value in (("--model", model), ("--transcoders", transcoders))
        if value
    )
    return (
        f"the graph records the model {printable(model or transcoders)!r}, a hub name; a file does not "
        f"choose what is downloaded: name the model yourself ({named})"
    )


#: circuit-tracer's label of a logit-difference target (a `CustomTarget` from `trace --minus`)
DIFFERENCE_RE = re.compile(r"^logit\((?P<a>.+)\)-logit\((?P<b>.+)\)$", re.DOTALL)


def logit_difference(token: str) -> tuple[str, str] | None:
    """`logit( Austin)-logit( Dallas)` -> (" Austin", " Dallas"); None for an ordinary token."""
    match = DIFFERENCE_RE.match(token)
    return (match.group("a"), match.group("b")) if match else None


def _is_path(ref: str | None) -> bool:
    return bool(ref) and Path(str(ref)).exists()


def d_transcoder(model: Any) -> int | None:
    """Width of the transcoders (features per layer), when the model says."""
    tcs = model.transcoders
    width = getattr(tcs, "d_transcoder", None)
    if width is None:
        try:
            width = next(iter(tcs)).d_transcoder
        except (TypeError, StopIteration, AttributeError):
            return None
    return int(width)


def check_structure(graph: AttributionGraph, loaded: Any, input_ids: Any) -> None:
    """Layers, feature widths, vocabulary and prompt tokens of the graph against the loaded model."""
    nodes = graph.nodes
    model, tok = loaded.model, loaded.tokenizer
    n_layers = loaded.n_layers
    feats = nodes.kind == NodeKind.FEATURE
    if feats.any() and int(nodes.layer[feats].max()) >= n_layers:
        raise ModelMismatch(
            f"the graph has features in layer {int(nodes.layer[feats].max())} but the model has {n_layers} "
            "layers: it is not the model the graph was traced with (pass --model)"
        )
    logits = np.flatnonzero(nodes.kind == NodeKind.LOGIT)
    logit_layers = {int(nodes.layer[i]) for i in logits}
    if logit_layers and logit_layers != {n_layers + 1}:
        raise ModelMismatch(
            f"the graph's logit nodes sit at layer {min(logit_layers)}, i.e. a {min(logit_layers) - 1}-layer "
            f"model, but the model has {n_layers} layers (pass --model)"
        )
    width = d_transcoder(model)
    if width is not None and feats.any() and int(nodes.feature[feats].max()) >= width:
        row = int(np.flatnonzero(feats)[np.argmax(nodes.feature[feats])])
        raise ModelMismatch(
            f"node {nodes.ids[row]} is feature {int(nodes.feature[row])} but the model's transcoders have "
            f"{width} features per layer (pass --model/--transcoders)"
        )
    d_vocab = int(
        model.unembed_proj.shape[-1] if loaded.backend != "nnsight" else model.unembed_proj.shape[0]
    )
    for row in logits:
        vid, token = int(nodes.feature[row]), str(nodes.logit_token[row])
        if vid < 0 or logit_difference(token) is not None:  # a difference target has a virtual id
            continue
        if vid >= d_vocab:
            raise ModelMismatch(
                f"logit node {nodes.ids[row]} is vocabulary id {vid} but the model's vocabulary has "
                f"{d_vocab} tokens (pass --model)"
            )
        spelled = tok.decode([vid])
        if token and spelled != token:
            raise ModelMismatch(
                f"logit node {nodes.ids[row]}: vocabulary id {vid} is {spelled!r} for this model's tokenizer "
                f"but {token!r} in the graph (a different vocabulary; pass --model)"
            )
    recorded = graph.prompt_tokens
    if recorded:
        spelled_prompt = [tok.decode([int(i)]) for i in input_ids.tolist()]
        if len(spelled_prompt) != len(recorded) or spelled_prompt != recorded:
            first = next(
                (i for i, (a, b) in enumerate(zip(spelled_prompt, recorded, strict=False)) if a != b),
                min(len(spelled_prompt), len(recorded)),
            )
            raise ModelMismatch(
                f"the prompt tokenizes to {len(spelled_prompt)} tokens with this model but the graph has "
                f"{len(recorded)}; first difference at position {first} "
                f"({_at(spelled_prompt, first)} vs {_at(recorded, first)}): a different tokenizer "
                "(pass --model)"
            )


def _at(tokens: list[str], i: int) -> str:
    return repr(tokens[i]) if i < len(tokens) else "nothing"


def check_activations(graph: AttributionGraph, acts: np.ndarray, tolerance: float) -> float:
    """Every feature node's activation in `acts` (layers, positions, features) against the recorded one.

    Allowed difference: `tolerance * max(1, |recorded|)`. Returns the largest relative difference seen."""
    nodes = graph.nodes
    rows = np.flatnonzero((nodes.kind == NodeKind.FEATURE) & np.isfinite(nodes.activation))
    if not len(rows):
        return 0.0
    layer, pos, feat = nodes.layer[rows], nodes.position[rows], nodes.feature[rows]
    if int(pos.max()) >= acts.shape[1]:
        raise ModelMismatch(
            f"the graph has nodes at position {int(pos.max())} but the prompt has {acts.shape[1]} tokens"
        )
    measured = acts[layer, pos, feat].astype(np.float64)
    recorded = nodes.activation[rows]
    rel = np.abs(measured - recorded) / np.maximum(1.0, np.abs(recorded))
    worst = int(np.argmax(rel))
    if rel[worst] > tolerance:
        row = rows[worst]
        raise ModelMismatch(
            f"node {nodes.ids[row]} has activation {measured[worst]:.6g} with this model but "
            f"{recorded[worst]:.6g} in the graph (relative difference {rel[worst]:.2g} > --tolerance "
            f"{tolerance:g}): not the model the graph was traced with, or a different dtype/device"
        )
    return float(rel.max())
