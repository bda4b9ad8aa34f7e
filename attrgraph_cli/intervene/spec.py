"""Intervention specs: parse `--set/--scale/--ablate/--swap-from/--sweep` text and resolve it on a graph.

Grammar (TARGET is a graph node id or a supernode name from `qParams.supernodes`, optionally followed by
`@POS`, `@A:B` (half-open), `@A:` or `@all` to act at other token positions than the node's own):

- `--set TARGET=VALUE` sets the feature(s) to VALUE (absolute, as circuit-tracer takes it);
  `--set TARGET=*M` sets them to M times their activation (the same as `--scale TARGET=*M`);
- `--scale TARGET=*M` (or `=M`): M times the activation; `--ablate TARGET`: set to 0;
- `--swap-from PROMPT` (optionally `--swap-scope TARGET`): see `runner.swap_sites`;
- `--sweep TARGET=A:B:STEP` (values) or `TARGET=*A:B:STEP` (multiples), B included.

Nothing here imports torch: resolution needs only the graph.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph, NodeKind

#: most values one sweep may take (a typo such as 0:1000:0.001 must not run for hours)
MAX_SWEEP_VALUES = 401
#: largest |VALUE| or |M| a spec may give: beyond it the residual stream overflows float32 inside the model
#: (a LayerNorm squares it) and the run ends in NaN logits; activations are O(1)-O(100)
MAX_MAGNITUDE = 1e6
KIND_NAMES = {
    NodeKind.EMBEDDING: "a token (embedding)",
    NodeKind.ERROR: "an error",
    NodeKind.LOGIT: "a logit",
}


class SpecError(AttrgraphError):
    """A spec that cannot be parsed or does not fit the graph (exit 2)."""


@dataclass(frozen=True)
class Spec:
    """One parsed spec, not yet resolved on a graph."""

    op: str  # set | scale | ablate | swap
    text: str  # as the user wrote it, with its flag
    target: str | None = None  # node id / supernode name (swap: the scope, None = every feature node)
    positions: str | None = None  # the text after `@`
    value: float | None = None
    multiple: float | None = None
    source_prompt: str | None = None


@dataclass(frozen=True)
class Site:
    """One transcoder feature at one position; `node` is its graph node id when it is one."""

    layer: int
    position: int
    feature: int
    node: str | None


@dataclass
class ResolvedSpec:
    """A spec with its graph nodes and the sites it changes."""

    spec: Spec
    nodes: list[str]
    supernode: str | None
    sites: list[Site]
    positions: list[int] | None = None

    def record(self) -> dict[str, Any]:
        """The spec as an `attrgraph.interventions[].spec[]` item."""
        s = self.spec
        return {
            "op": s.op,
            "nodes": list(self.nodes),
            "supernode": self.supernode,
            "value": s.value,
            "multiple": s.multiple,
            "positions": self.positions,
            "source_prompt": s.source_prompt,
            "text": s.text,
        }


@dataclass(frozen=True)
class SweepSpec:
    """`--sweep TARGET=A:B:STEP`: one intervention per value (or multiple)."""

    text: str
    target: str
    positions: str | None
    parameter: str  # value | multiple
    values: tuple[float, ...]
    source: str = ""  # where it was written (a plan file's line), named by errors found later

    def at(self, x: float) -> Spec:
        if self.parameter == "multiple":
            return Spec("scale", f"{self.text} ({x:g}x)", self.target, self.positions, multiple=x)
        return Spec("set", f"{self.text} (={x:g})", self.target, self.positions, value=x)


@dataclass
class Intervention:
    """Several specs applied together, with a name."""

    name: str
    specs: list[Spec] = field(default_factory=list)
    source: str = ""  # where it was written (a plan file's line), named by errors found later


# ---- parsing --------------------------------------------------------------------------------------------
def parse_number(text: str, where: str) -> float:
    """A finite float within +-`MAX_MAGNITUDE`, or a one-line error naming `where`."""
    try:
        value = float(text.strip())
    except ValueError:
        raise SpecError(f"{where}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise SpecError(f"{where}: {text.strip()!r} is not a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise SpecError(
            f"{where}: {text.strip()} is beyond +-{MAX_MAGNITUDE:g} (the model's activations would overflow)"
        )
    return value


def _split_assignment(text: str, flag: str) -> tuple[str, str]:
    target, sep, value = text.rpartition("=")
    if not sep or not target.strip():
        raise SpecError(
            f"{flag} {text!r}: expected TARGET=VALUE (a node id or supernode name, '=', a number)"
        )
    if not value.strip():
        raise SpecError(f"{flag} {text!r}: the value after '=' is missing")
    return target.strip(), value.strip()


def _split_positions(target: str) -> tuple[str, str | None]:
    """`NAME@SEL` -> (NAME, SEL); resolution retries the whole text as a name first."""
    name, sep, sel = target.rpartition("@")
    return (name, sel) if sep and name else (target, None)


def _split_kind(target: str) -> tuple[str | None, str]:
    """`node:ID` -> ("node", ID); `supernode:NAME` -> ("supernode", NAME); else (None, target)."""
    for kind in ("node", "supernode"):
        if target.startswith(f"{kind}:"):
            return kind, target[len(kind) + 1 :]
    return None, target


def parse_set(text: str) -> Spec:
    """`--set TARGET=VALUE` (absolute) or `TARGET=*M` (a multiple: the same as --scale)."""
    flag_text = f"--set {text}"
    target, value = _split_assignment(text, "--set")
    if value.startswith("*"):
        return Spec("scale", flag_text, target, multiple=parse_number(value[1:], flag_text))
    return Spec("set", flag_text, target, value=parse_number(value, flag_text))


def parse_scale(text: str) -> Spec:
    """`--scale TARGET=*M` or `TARGET=M`: M times the recorded activation."""
    flag_text = f"--scale {text}"
    target, value = _split_assignment(text, "--scale")
    return Spec("scale", flag_text, target, multiple=parse_number(value.removeprefix("*"), flag_text))


def parse_ablate(text: str) -> Spec:
    """`--ablate TARGET`: set to 0."""
    if not text.strip():
        raise SpecError("--ablate needs a node id or a supernode name")
    return Spec("ablate", f"--ablate {text}", text.strip(), value=0.0)


def parse_swap(prompt: str, scope: str | None = None) -> Spec:
    """`--swap-from PROMPT [--swap-scope TARGET]`."""
    if not prompt.strip():
        raise SpecError("--swap-from needs a prompt")
    text = f"--swap-from {prompt!r}" + (f" --swap-scope {scope}" if scope else "")
    return Spec("swap", text, scope.strip() if scope else None, source_prompt=prompt)


def parse_sweep(text: str) -> SweepSpec:
    """`--sweep TARGET=A:B:STEP` (absolute values) or `TARGET=*A:B:STEP` (multiples); B is included."""
    flag_text = f"--sweep {text}"
    target, rng = _split_assignment(text, "--sweep")
    parameter = "multiple" if rng.startswith("*") else "value"
    parts = rng.removeprefix("*").split(":")
    if len(parts) != 3:
        raise SpecError(f"{flag_text}: expected TARGET=START:STOP:STEP (or *START:STOP:STEP for multiples)")
    start, stop, step = (parse_number(p, flag_text) for p in parts)
    if step == 0 or (stop - start) / step < 0:
        raise SpecError(f"{flag_text}: STEP must be non-zero and go from START towards STOP")
    steps = (stop - start) / step  # finite: |START|, |STOP| <= 1e6, but a tiny STEP can make it huge
    if not steps < MAX_SWEEP_VALUES:
        raise SpecError(
            f"{flag_text}: too many values; at most {MAX_SWEEP_VALUES} per sweep (take a larger STEP)"
        )
    n = int(math.floor(steps + 1e-9)) + 1
    if n > MAX_SWEEP_VALUES:
        raise SpecError(f"{flag_text}: {n} values; at most {MAX_SWEEP_VALUES} per sweep (take a larger STEP)")
    values = tuple(round(start + i * step, 12) for i in range(n))
    return SweepSpec(flag_text, target, None, parameter, values)  # `@positions` stay in the target text


# ---- resolution on a graph ------------------------------------------------------------------------------
class Resolver:
    """Resolves targets (node ids, supernode names, `@positions`) against one graph."""

    def __init__(self, graph: AttributionGraph) -> None:
        self.graph = graph
        self.ids = graph.nodes.ids.tolist()
        self.index = {nid: i for i, nid in enumerate(self.ids)}
        self.supernodes: dict[str, list[str]] = {}
        #: names that several supernodes share: a target naming one of them is an error, never a merge
        self.duplicates: set[str] = set()
        for entry in graph.supernodes:
            if entry[0] in self.supernodes:
                self.duplicates.add(entry[0])
            self.supernodes.setdefault(entry[0], []).extend(entry[1:])
        self.n_positions = graph.n_positions

    # public ------------------------------------------------------------------------------------------
    def resolve(self, spec: Spec) -> ResolvedSpec:
        """Nodes and sites of `spec` (swap: the scope's nodes; its sites are found by the runner)."""
        if spec.op == "swap" and spec.target is None:
            feats = np.flatnonzero(self.graph.nodes.kind == NodeKind.FEATURE)
            return ResolvedSpec(spec, [self.ids[i] for i in feats], None, self._sites(feats.tolist(), None))
        name, sel, supernode, rows = self._lookup(spec)
        positions = self._positions(sel, spec) if sel is not None else None
        return ResolvedSpec(
            spec, [self.ids[i] for i in rows], supernode, self._sites(rows, positions), positions
        )

    def resolve_sweep(self, sweep: SweepSpec) -> tuple[str | None, list[str]]:
        """(supernode, node ids) of a sweep's target (checked once, before any model is loaded)."""
        resolved = self.resolve(sweep.at(sweep.values[0]))
        return resolved.supernode, resolved.nodes

    def node_rows(self, node_ids: list[str]) -> list[int]:
        return [self.index[n] for n in node_ids]

    # internals ---------------------------------------------------------------------------------------
    def _lookup(self, spec: Spec) -> tuple[str, str | None, str | None, list[int]]:
        """(name, positions, supernode, rows) of the target. `node:ID` and `supernode:NAME` say which one
        is meant where a supernode is named like a node id; such a clash without the prefix, or a name
        that several supernodes share, is an error (it used to resolve silently)."""
        target = spec.target or ""
        kind, bare = _split_kind(target)
        if kind is not None and self._known(bare, kind):
            target = bare
        else:
            kind = None
        candidates = [(target, spec.positions)]
        name, sel = _split_positions(target)
        if sel is not None:
            candidates.append((name, sel))
        for name, sel in candidates:
            is_node = name in self.index and kind != "supernode"
            is_supernode = name in self.supernodes and kind != "node"
            if is_node and is_supernode:
                raise SpecError(
                    f"{spec.text}: {name!r} is both a node id and a supernode name: write node:{name} or "
                    f"supernode:{name}"
                )
            if is_node:
                return name, sel, None, [self._feature_row(name, spec)]
            if is_supernode:
                return name, sel, name, self._supernode_rows(name, spec)
        folded = [s for s in self.supernodes if s.casefold() == name.casefold()] if kind != "node" else []
        if len(folded) == 1:
            return folded[0], sel, folded[0], self._supernode_rows(folded[0], spec)
        raise SpecError(f"{spec.text}: {self._unknown(target)}")

    def _known(self, text: str, kind: str) -> bool:
        name, _ = _split_positions(text)
        pool = self.index if kind == "node" else self.supernodes
        return text in pool or name in pool

    def _unknown(self, target: str) -> str:
        name, _ = _split_positions(target)
        pool = [*self.supernodes, *self.ids]
        close = difflib.get_close_matches(name, pool, n=3, cutoff=0.5)
        hint = f"; closest: {', '.join(close)}" if close else ""
        what = "no node or supernode" if self.supernodes else "no node (and the graph has no supernodes)"
        return f"{what} named {name!r} in the graph{hint}"

    def _feature_row(self, node_id: str, spec: Spec) -> int:
        row = self.index[node_id]
        kind = int(self.graph.nodes.kind[row])
        if kind != NodeKind.FEATURE:
            raise SpecError(
                f"{spec.text}: node {node_id} is {KIND_NAMES.get(kind, 'a non-feature')} node; only "
                "transcoder features can be set (errors, tokens and logits cannot)"
            )
        if int(self.graph.nodes.feature[row]) < 0:
            raise SpecError(f"{spec.text}: node {node_id} has no feature index")
        return row

    def _supernode_rows(self, name: str, spec: Spec) -> list[int]:
        if name in self.duplicates:
            raise SpecError(
                f"{spec.text}: {sum(e[0] == name for e in self.graph.supernodes)} supernodes are named "
                f"{name!r}: rename one in qParams.supernodes, or give the node ids"
            )
        members = self.supernodes[name]
        rows = [
            self.index[m]
            for m in members
            if m in self.index and int(self.graph.nodes.kind[self.index[m]]) == NodeKind.FEATURE
        ]
        if not rows:
            raise SpecError(
                f"{spec.text}: supernode {name!r} has no feature node of this graph among its members"
            )
        return list(dict.fromkeys(rows))

    def _positions(self, sel: str, spec: Spec) -> list[int]:
        n = self.n_positions
        sel = sel.strip()
        if sel in ("all", "*", ":"):
            return list(range(n))
        try:
            if ":" in sel:
                a, _, b = sel.partition(":")
                lo = int(a) if a.strip() else 0
                hi = int(b) if b.strip() else n
            else:
                lo = int(sel)
                hi = lo + 1
        except ValueError:
            raise SpecError(f"{spec.text}: position {sel!r} is not P, A:B, A: or all") from None
        if not 0 <= lo < hi <= n:  # checked before the range is made: @0:100000000000 costs nothing
            raise SpecError(f"{spec.text}: position {sel!r} is outside the prompt's 0..{n - 1}")
        return list(range(lo, hi))

    def _sites(self, rows: list[int], positions: list[int] | None) -> list[Site]:
        nodes = self.graph.nodes
        sites: dict[tuple[int, int, int], Site] = {}
        for row in rows:
            layer, feature = int(nodes.layer[row]), int(nodes.feature[row])
            for pos in positions if positions is not None else [int(nodes.position[row])]:
                node = f"{layer}_{feature}_{pos}"
                key = (layer, pos, feature)
                sites.setdefault(key, Site(layer, pos, feature, node if node in self.index else None))
        return list(sites.values())
