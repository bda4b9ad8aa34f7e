"""Measure interventions on a graph's prompt with circuit-tracer's `feature_intervention(_generate)`.

One `Session` per graph and loaded model: it tokenizes the prompt, runs the baseline once (logits and
transcoder activations, checked against the graph), then measures any number of interventions, each one
circuit-tracer call (plus one `feature_intervention_generate` per side with `--generate`).

Swap (`--swap-from PROMPT`): the other prompt must have as many tokens as the graph's; at every (layer,
position) where the scope (a supernode, a node, or every feature node of the graph) has a feature, every
transcoder feature active on either prompt there is set to its activation on the other prompt: the scope's
features are switched off and the other prompt's features at the same places are written in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.intervene import predict as predict_mod
from attrgraph_cli.intervene.records import top_tokens
from attrgraph_cli.intervene.spec import ResolvedSpec, Resolver, Site, Spec, SpecError


@dataclass
class Settings:
    """circuit-tracer's intervention settings (its defaults) and what to report."""

    freeze_attention: bool = True
    direct: bool = False
    constrained_layers: tuple[int, int] | None = None  # [A, B): layers whose MLPs/transcoders are frozen
    generate: int = 0
    temperature: float = 0.0
    seed: int | None = None
    top_k: int = 10
    device: str = "auto"
    tolerance: float | None = None  # None: 1e-2 for float32 models, 1e-1 for 16-bit ones
    extra_targets: tuple[str, ...] = ()
    control_draws: int = 5

    def record(self, n_layers: int) -> dict[str, Any]:
        """The `settings` object of a record (device as resolved)."""
        layers = self.layer_range(n_layers)
        return {
            "freeze_attention": self.freeze_attention,
            "direct": self.direct,
            "constrained_layers": list(layers) if layers is not None else None,
            "generate": self.generate,
            "temperature": self.temperature,
            "seed": self.seed,
            "top_k": self.top_k,
            "device": self.device,
        }

    def layer_range(self, n_layers: int) -> range | None:
        if self.direct:
            return range(n_layers)
        if self.constrained_layers is not None:
            a, b = self.constrained_layers
            return range(a, b)
        return None


@dataclass
class Measurement:
    """Last-position logits of one run (and the generated text)."""

    logits: np.ndarray
    generated: str | None = None
    _top: dict[int, list] = field(default_factory=dict, repr=False)

    def top(self, tokenizer: Any, k: int) -> list[list[Any]]:
        """[[token, probability], ...] of the k most likely next tokens, computed once per k (the baseline's
        is in every record); each call returns its own copy, so records never share a list."""
        if k not in self._top:
            self._top[k] = top_tokens(tokenizer, self.logits, k)
        return [list(pair) for pair in self._top[k]]


@dataclass
class Target:
    token: str
    vocab_id: int
    node: str | None
    row: int | None  # row of the logit node in the graph
    weight: float = 0.0  # the graph's probability of this logit (0 for --target extras)
    minus_id: int | None = None  # logit-difference targets (`logit(A)-logit(B)`): B's vocabulary id


@dataclass
class Session:
    """A graph, its loaded model, and the baseline of its prompt."""

    graph: AttributionGraph
    loaded: Any
    settings: Settings
    input_ids: Any = None
    acts: np.ndarray | None = None  # (layers, positions, features) float32, baseline
    base: Measurement | None = None
    targets: list[Target] = field(default_factory=list)
    resolver: Resolver | None = None
    adjacency: Any = None
    _source_acts: dict[str, np.ndarray] = field(default_factory=dict)
    _target_adjacency: np.ndarray | None = None  # dense rows of `adjacency` at the targets (--direct)
    _dense_adjacency: Any = None  # `adjacency` dense on a small graph (the path sum), else itself

    # ---- set-up ------------------------------------------------------------------------------------
    def start(self) -> Session:
        """Tokenize, check the model against the graph, run and keep the baseline."""
        import torch

        from attrgraph_cli.intervene.model import check_activations, check_structure

        if not self.graph.prompt:
            raise AttrgraphError("the graph records no prompt (metadata.prompt): nothing to intervene on")
        model = self.loaded.model
        layers = self.settings.constrained_layers
        if layers is not None and layers[1] > self.loaded.n_layers:
            raise SpecError(
                f"--constrained-layers {layers[0]}:{layers[1]}: the model has {self.loaded.n_layers} layers"
            )
        self.input_ids = model.ensure_tokenized(self.graph.prompt)
        check_structure(self.graph, self.loaded, self.input_ids)
        with torch.no_grad():
            logits, acts = model.get_activations(self.input_ids)
        self.acts = acts.float().cpu().numpy()
        tolerance = self.settings.tolerance
        if tolerance is None:
            tolerance = 1e-2 if str(self.loaded.dtype) == "float32" else 1e-1
        check_activations(self.graph, self.acts, tolerance)
        self.base = Measurement(logits[0, -1].double().cpu().numpy())
        if self.settings.generate:
            self.base.generated = self._generate([])
        self.targets = self._targets()
        self.resolver = Resolver(self.graph)
        self.adjacency = predict_mod.per_unit_adjacency(self.graph)
        return self

    def _targets(self) -> list[Target]:
        from attrgraph_cli.models.tokens import target_token_id

        nodes = self.graph.nodes
        out: list[Target] = []
        from attrgraph_cli.intervene.model import logit_difference

        for row in predict_mod.logit_rows(self.graph):
            vid = int(nodes.feature[row])
            if vid < 0:
                continue
            prob = float(nodes.logit_probability[row])
            weight = prob if np.isfinite(prob) else 0.0
            pair = logit_difference(str(nodes.logit_token[row]))
            if pair is not None:
                a, b = (target_token_id(self.loaded, t, "the graph's logit-difference target") for t in pair)
                out.append(Target(str(nodes.logit_token[row]), a, str(nodes.ids[row]), int(row), weight, b))
                continue
            out.append(
                Target(self.loaded.tokenizer.decode([vid]), vid, str(nodes.ids[row]), int(row), weight)
            )
        seen = {t.vocab_id for t in out}
        for token in self.settings.extra_targets:
            vid = target_token_id(self.loaded, token)
            if vid not in seen:
                seen.add(vid)
                out.append(Target(self.loaded.tokenizer.decode([vid]), vid, None, None))
        return out

    # ---- values ------------------------------------------------------------------------------------
    def resolve(self, specs: list[Spec]) -> list[ResolvedSpec]:
        assert self.resolver is not None
        return [self.resolver.resolve(s) for s in specs]

    def values(self, resolved: list[ResolvedSpec]) -> list[tuple[Site, float]]:
        """(site, absolute value) pairs for circuit-tracer; later specs win on the same site."""
        assert self.acts is not None
        out: dict[tuple[int, int, int], tuple[Site, float]] = {}
        for r in resolved:
            spec = r.spec
            if spec.op == "swap":
                for site, value in self.swap_sites(r):
                    out[(site.layer, site.position, site.feature)] = (site, value)
                continue
            for site in r.sites:
                current = float(self.acts[site.layer, site.position, site.feature])
                value = current * spec.multiple if spec.op == "scale" else float(spec.value or 0.0)
                out[(site.layer, site.position, site.feature)] = (site, value)
        return list(out.values())

    def source_activations(self, prompt: str, spec_text: str) -> np.ndarray:
        """Transcoder activations of another prompt (cached), with the same number of tokens."""
        import torch

        if prompt not in self._source_acts:
            ids = self.loaded.model.ensure_tokenized(prompt)
            if len(ids) != len(self.input_ids):
                raise SpecError(
                    f"{spec_text}: the prompt has {len(ids)} tokens but the graph's has "
                    f"{len(self.input_ids)}; a swap writes activations position by position, "
                    "so the positions must line up"
                )
            with torch.no_grad():
                _, acts = self.loaded.model.get_activations(ids)
            self._source_acts[prompt] = acts.float().cpu().numpy()
        return self._source_acts[prompt]

    def swap_sites(self, resolved: ResolvedSpec) -> list[tuple[Site, float]]:
        """Every feature active on either prompt at the scope's (layer, position) places -> other value."""
        assert self.acts is not None and self.resolver is not None
        spec = resolved.spec
        source = self.source_activations(str(spec.source_prompt), spec.text)
        places = sorted({(s.layer, s.position) for s in resolved.sites})
        index = self.resolver.index
        out: list[tuple[Site, float]] = []
        for layer, pos in places:
            here, there = self.acts[layer, pos], source[layer, pos]
            for feat in np.flatnonzero((here != 0) | (there != 0)).tolist():
                node = f"{layer}_{feat}_{pos}"
                out.append((Site(layer, pos, feat, node if node in index else None), float(there[feat])))
        return out

    # ---- running -----------------------------------------------------------------------------------
    def _ct_interventions(self, values: list[tuple[Site, float]]) -> list[tuple[int, int, int, float]]:
        return [(s.layer, s.position, s.feature, v) for s, v in values]

    def run(self, values: list[tuple[Site, float]], *, generate: bool = True) -> Measurement:
        """One intervened forward pass (and generation, when asked and `generate`)."""
        import torch

        model, settings = self.loaded.model, self.settings
        interventions = self._ct_interventions(values)
        with torch.no_grad():
            logits, _ = model.feature_intervention(
                self.input_ids,
                interventions,
                constrained_layers=settings.layer_range(self.loaded.n_layers),
                freeze_attention=settings.freeze_attention,
                return_activations=False,
            )
        out = Measurement(logits[0, -1].double().cpu().numpy())
        if settings.generate and generate:
            out.generated = self._generate(interventions)
        return out

    def _generate(self, interventions: list[tuple[int, int, int, float]]) -> str:
        import torch

        model, s = self.loaded.model, self.settings
        if s.seed is not None:
            torch.manual_seed(s.seed)
        kwargs = {
            "max_new_tokens": s.generate,
            "do_sample": s.temperature > 0,
            "verbose": False,
        }
        if s.temperature > 0:
            kwargs["temperature"] = s.temperature
        prompt = self.graph.prompt
        text, _, _ = model.feature_intervention_generate(
            prompt,
            interventions,
            constrained_layers=s.layer_range(self.loaded.n_layers),
            freeze_attention=s.freeze_attention,
            return_activations=False,
            **kwargs,
        )
        text = str(text)
        return text[len(prompt) :] if text.startswith(prompt) else text

    # ---- predictions -------------------------------------------------------------------------------
    def predicted(self, values: list[tuple[Site, float]]) -> dict[int, float]:
        """Predicted demeaned-logit change per target row, from the graph's edges."""
        nodes = self.graph.nodes
        changes: dict[int, float] = {}
        for site, value in values:
            if site.node is None:
                continue
            row = self.resolver.index[site.node] if self.resolver else self.graph.index_of(site.node)
            recorded = float(nodes.activation[row])
            if int(nodes.kind[row]) == NodeKind.FEATURE and np.isfinite(recorded) and recorded != 0:
                changes[row] = value - recorded
        rows = [t.row for t in self.targets if t.row is not None]
        if self.settings.direct and rows:  # only the targets' rows of B: no sparse product per intervention
            if self._target_adjacency is None:
                self._target_adjacency = predict_mod.target_adjacency(self.adjacency, rows)
            pred = predict_mod.predict_direct(self._target_adjacency, changes)
            return dict(zip(rows, pred.tolist(), strict=True))
        if self._dense_adjacency is None:
            self._dense_adjacency = predict_mod.dense_adjacency(self.adjacency)
            if self._dense_adjacency is None:  # too large: the sparse matrix itself, from now on
                self._dense_adjacency = self.adjacency
        adjacency = self._dense_adjacency
        pred = predict_mod.predict(self.graph, changes, direct=self.settings.direct, adjacency=adjacency)
        return {t.row: float(pred[t.row]) for t in self.targets if t.row is not None}
