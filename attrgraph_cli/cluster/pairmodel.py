"""How likely two feature units are to belong to one supernode: a logistic model over graph-only signals.

Per unit (`units.units`: a feature across its positions): its signed incoming and outgoing edge profiles
(sums of its nodes' rows), the same with |weights|, its signed effects on the target logits, its mean
layer and its set of positions. Per pair of units the model reads the cosines of those profiles, the
logit-effect cosine, the layer proximity exp(-|Δlayer| / 2), the Jaccard overlap of the position sets and
whether both touch the last position, and returns P(same supernode) = sigmoid(b + Σ w·signal). The weights
are fitted (`benchmarks/fit_cluster.py`) on the development graphs of `../shared/data/groupings` and ship in
`fitted_weights.json`. Labels and dashboards (absent from those graphs) are added afterwards with fixed
weights: a shared label pulls two units together (p += w · Jaccard · (1 - p)); the vocabulary cosine
joins as a weighted mean where both units have a dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

import numpy as np
import scipy.sparse as sp

from attrgraph_cli.cluster.signals import SignalWeights, gram, label_similarity, unit_rows

#: the fitted signals, in the order of the weight vector (the intercept is separate)
SIGNALS = (
    "in",
    "out",
    "in_abs",
    "out_abs",
    "in_free",
    "logits",
    "say",
    "layer",
    "position",
    "last",
    "position_in",
)
WEIGHTS_FILE = "fitted_weights.json"


@dataclass
class UnitSignals:
    """Per-unit signals (row u describes unit u)."""

    incoming: sp.csr_matrix
    outgoing: sp.csr_matrix
    incoming_abs: sp.csr_matrix
    outgoing_abs: sp.csr_matrix
    #: incoming profile with the sources taken position-free (a feature's nodes, a token's embeddings)
    incoming_free: sp.csr_matrix
    effects: np.ndarray
    #: share of the unit's |outgoing| weight that goes straight to a target logit
    say: np.ndarray
    layer: np.ndarray
    positions: sp.csr_matrix  # unit x position, 0/1
    last: np.ndarray  # touches the last position
    size: np.ndarray  # nodes in the unit
    words: list[frozenset[str]]
    vocabulary: sp.csr_matrix


def collect(
    adjacency: sp.csr_matrix,
    rows: np.ndarray,
    unit: np.ndarray,
    n_units: int,
    layer: np.ndarray,
    position: np.ndarray,
    effects: np.ndarray,
    words: list[frozenset[str]],
    vocabulary: sp.csr_matrix,
    source_class: np.ndarray,
    is_logit: np.ndarray,
) -> UnitSignals:
    """Unit signals from the candidate rows (`layer`, `position`, `words`, `vocabulary`: per row;
    `source_class`: a position-free class id per graph node, `is_logit`: a mask of the graph's nodes)."""
    member = sp.csr_matrix((np.ones(len(rows)), (unit, np.arange(len(rows)))), shape=(n_units, len(rows)))
    inc_rows = adjacency[rows]
    out_rows = adjacency.T.tocsr()[rows]
    size = np.asarray(member.sum(axis=1)).ravel()
    n_pos = int(position.max()) + 1 if len(position) else 1
    at = sp.csr_matrix((np.ones(len(rows)), (unit, position)), shape=(n_units, n_pos))
    at.data[:] = 1.0
    first = np.zeros(n_units, dtype=np.int64)
    first[unit[::-1]] = np.arange(len(rows))[::-1]
    unit_words: list[frozenset[str]] = [frozenset()] * n_units
    for r, u in enumerate(unit.tolist()):
        unit_words[u] = unit_words[u] | words[r]
    n_nodes = adjacency.shape[0]
    collapse = sp.csr_matrix(
        (np.ones(n_nodes), (np.arange(n_nodes), source_class)), shape=(n_nodes, int(source_class.max()) + 1)
    )
    out_abs = member @ abs(out_rows)
    total_out = np.asarray(out_abs.sum(axis=1)).ravel()
    to_logits = np.asarray(out_abs[:, np.flatnonzero(is_logit)].sum(axis=1)).ravel()
    eff = np.nan_to_num(member @ np.asarray(effects, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return UnitSignals(
        incoming=unit_rows(member @ inc_rows),
        outgoing=unit_rows(member @ out_rows),
        incoming_abs=unit_rows(member @ abs(inc_rows)),
        outgoing_abs=unit_rows(out_abs),
        incoming_free=unit_rows(member @ inc_rows @ collapse),
        effects=eff,
        say=np.divide(to_logits, total_out, out=np.zeros(n_units), where=total_out > 0),
        layer=(member @ layer.astype(np.float64)) / np.maximum(size, 1.0),
        positions=at,
        last=np.asarray(at[:, n_pos - 1].toarray()).ravel() > 0,
        size=size,
        words=unit_words,
        vocabulary=unit_rows(member @ vocabulary) if vocabulary.shape[0] == len(rows) else vocabulary,
    )


def signal_matrices(sig: UnitSignals) -> Iterator[tuple[str, np.ndarray]]:
    """(name, n x n float32 matrix) for each fitted signal, standardised over the graph's pairs of units
    (`standardise`), one at a time (memory: one matrix each)."""
    for name, m in _raw_signal_matrices(sig):
        yield name, standardise(m)


def standardise(m: np.ndarray) -> np.ndarray:
    """`m` (in place) minus the mean of its off-diagonal entries, divided by their standard deviation (left
    unscaled when that is ~0): the weights then say how unusual a pair is *in this graph*, so they carry
    over between graphs whose edges are sparser or denser than the development graphs'."""
    n = len(m)
    if n < 2:
        return m
    diag = np.diagonal(m).astype(np.float64)
    total = float(m.sum(dtype=np.float64)) - float(diag.sum())
    squares = float(np.einsum("ij,ij->", m, m, dtype=np.float64)) - float((diag * diag).sum())
    count = n * (n - 1)
    mean = total / count
    std = np.sqrt(max(squares / count - mean * mean, 0.0))
    m -= np.float32(mean)
    if std > 1e-6:
        m /= np.float32(std)
    return m


def _raw_signal_matrices(sig: UnitSignals) -> Iterator[tuple[str, np.ndarray]]:
    f32 = np.float32
    yield "in", gram(sig.incoming)
    yield "out", gram(sig.outgoing)
    yield "in_abs", gram(sig.incoming_abs)
    yield "out_abs", gram(sig.outgoing_abs)
    in_free = gram(sig.incoming_free)
    yield "in_free", in_free.copy()
    norms = np.linalg.norm(sig.effects, axis=1) if sig.effects.size else np.zeros(len(sig.size))
    unit = (sig.effects / np.where(norms > 0, norms, 1.0)[:, None]).astype(f32)
    yield "logits", unit @ unit.T
    say = np.sqrt(np.clip(sig.say, 0.0, 1.0)).astype(f32)
    yield "say", np.multiply.outer(say, say)
    lay = sig.layer.astype(f32)
    m = np.subtract.outer(lay, lay)
    np.abs(m, out=m)
    m *= f32(-0.5)
    np.exp(m, out=m)
    yield "layer", m
    del m
    inter = gram(sig.positions)
    count = np.asarray(sig.positions.sum(axis=1), dtype=f32).ravel()
    inter /= np.maximum(count[:, None] + count[None, :] - inter, f32(1.0))
    yield "position", inter.copy()
    last = sig.last.astype(f32)
    yield "last", np.multiply.outer(last, last)
    inter *= in_free  # at the same positions *and* reading the same things
    del in_free
    yield "position_in", inter


@dataclass(frozen=True)
class PairWeights:
    """The logistic model (fitted) and the fixed weights of the signals it was not fitted on."""

    intercept: float
    weights: tuple[float, ...]
    #: supernodes are cut where the average P(same supernode) inside would fall below this
    cut: float = 0.5
    label: float = 0.25
    vocabulary: float = 0.3


@lru_cache(maxsize=1)
def shipped_weights() -> PairWeights:
    """The weights in `fitted_weights.json` (fitted on all three development graphs)."""
    raw = json.loads(resources.files("attrgraph_cli.cluster").joinpath(WEIGHTS_FILE).read_text("utf-8"))
    return from_dict(raw["all"])


def from_dict(raw: dict) -> PairWeights:
    w = raw["weights"]
    return PairWeights(
        intercept=float(raw["intercept"]),
        weights=tuple(float(w[name]) for name in SIGNALS),
        cut=float(raw.get("cut", 0.5)),
    )


#: the `SignalWeights` family of each fitted signal: the family's weight divided by its default scales it
FAMILY = {
    "in": "edges",
    "out": "edges",
    "in_abs": "edges",
    "out_abs": "edges",
    "in_free": "edges",
    "logits": "logits",
    "say": "logits",
    "layer": "layer",
    "position": "position",
    "last": "position",
    "position_in": "edges",
}


def scaled(weights: PairWeights, family: SignalWeights) -> PairWeights:
    """`weights` with each fitted signal scaled by its family's weight in `family` relative to the default
    (the defaults give the fitted model; a family at 0 is off), and the label / vocabulary add-ons taken
    from `family`."""
    default = SignalWeights()
    factor = [getattr(family, FAMILY[s]) / getattr(default, FAMILY[s]) for s in SIGNALS]
    return replace(
        weights,
        weights=tuple(w * f for w, f in zip(weights.weights, factor, strict=True)),
        label=family.label,
        vocabulary=family.vocabulary,
    )


def probability(sig: UnitSignals, weights: PairWeights) -> np.ndarray:
    """P(same supernode) for every pair of units (n x n float32; the diagonal is 1)."""
    n = len(sig.size)
    total = np.full((n, n), np.float32(weights.intercept), dtype=np.float32)
    for (_name, m), w in zip(signal_matrices(sig), weights.weights, strict=True):
        if w:
            m *= np.float32(w)
            total += m
        del m
    np.negative(total, out=total)
    np.exp(np.minimum(total, np.float32(60.0)), out=total)
    total += np.float32(1.0)
    np.reciprocal(total, out=total)
    voc = sig.vocabulary
    if weights.vocabulary > 0 and voc.shape[0] == n and voc.nnz:
        has = np.asarray(voc.getnnz(axis=1) > 0).ravel()
        both = np.logical_and.outer(has, has)
        mixed = (total + np.float32(weights.vocabulary) * gram(voc)) / np.float32(1.0 + weights.vocabulary)
        total[both] = np.clip(mixed[both], 0.0, 1.0)
        del mixed, both
    labels, both = label_similarity(sig.words)
    if both.any():
        total += np.float32(weights.label) * labels * both * (np.float32(1.0) - total)
    np.fill_diagonal(total, 1.0)
    return total
