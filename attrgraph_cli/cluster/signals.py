"""The signals that say two features belong together, and the candidates they are computed for.

For each candidate feature: its signed incoming and outgoing edge profiles in this graph (each L2-normalised,
so their dot product is the mean of the two cosines), its signed effect on each target logit (through the
normalised signed graph), its layer and position, what it writes to the vocabulary (the top direct logits
of its decoder, from the feature dashboards `autointerp` stores) and the content words of its label when it
has one. `similarity` combines them into one matrix in [-1, 1]: the weighted mean of the structural signals
(the logit-effect cosine only with two or more target logits) and, for pairs where both features have a
dashboard, the vocabulary cosine; then labels as a bonus,
s += w_label * jaccard * (1 - s), where both features have a label (a shared label pulls two features
together; different heuristic labels do not push them apart). The weights are `SignalWeights`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from attrgraph_cli.extension import feature_key, features
from attrgraph_cli.graph.model import AttributionGraph, NodeKind

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
STOPWORDS = frozenset(
    "a an the of in on at to for and or but is are was were be been as by with from that this these those "
    "it its into about after before than then there their them they he she his her we you your our not no "
    "feature features token tokens word words text mention mentions related relating context contexts".split()
)


#: the logit-effect cosine is used when the graph has at least this many target logits
MIN_LOGITS_FOR_SIGNAL = 2


@dataclass(frozen=True)
class SignalWeights:
    """How much each signal counts in the combined similarity (label only where both features have one)."""

    edges: float = 0.6
    logits: float = 0.1
    layer: float = 0.1
    position: float = 0.05
    label: float = 0.25
    #: cosine of the features' top direct logits (only for pairs where both have a feature dashboard)
    vocabulary: float = 0.3
    #: how many of a dashboard's top logits make a feature's vocabulary vector
    vocabulary_top_k: int = 5
    #: layer proximity is exp(-|Δlayer| / layer_scale)
    layer_scale: float = 2.0


@dataclass
class Signals:
    """Per-candidate signals (rows follow `candidates`, indices into the graph's node table)."""

    candidates: np.ndarray
    profiles: sp.csr_matrix
    logit_effect: np.ndarray
    layer: np.ndarray
    position: np.ndarray
    words: list[frozenset[str]]
    labels: list[str]
    #: unit vectors over the tokens of the features' top direct logits (a zero row: no dashboard)
    vocabulary: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 0), dtype=np.float32))


def node_labels(graph: AttributionGraph) -> list[str]:
    """Each node's label: its clerp, else the `attrgraph.features` entry's label, else ""."""
    table = features(graph)
    nodes = graph.nodes
    out = [str(x) if x else "" for x in nodes.label.tolist()]
    if table:
        for i in np.flatnonzero(nodes.kind == NodeKind.FEATURE):
            if not out[i]:
                entry = table.get(feature_key(int(nodes.layer[i]), int(nodes.feature[i])), {})
                label = entry.get("label") if isinstance(entry, dict) else None
                out[i] = label if isinstance(label, str) else ""
    return out


def content_words(label: str) -> frozenset[str]:
    """Lower-cased words of a label; stop words, numbers and one-letter words left out."""
    words = (m.lower() for m in _WORD.findall(label))
    return frozenset(w for w in words if len(w) > 1 and not w.isdigit() and w not in STOPWORDS)


#: the word-start marks of subword vocabularies, so " Texas", "▁Texas" and "ĠTexas" are one token here
_TOKEN_MARKS = "▁Ġ"


def _token_key(token: str) -> str:
    return token.strip().lstrip(_TOKEN_MARKS).strip().lower()


def _top_logits(entry: object, top_k: int) -> list[tuple[str, float]]:
    """(token, weight) of a feature entry's top direct logits: `details.top_logits` with their values
    (`top_logit_values`), or with weights 1/(rank+1) when the values are missing or not numbers."""
    details = entry.get("details") if isinstance(entry, dict) else None
    if not isinstance(details, dict):
        return []
    tokens = details.get("top_logits")
    if not isinstance(tokens, list):
        return []
    values = details.get("top_logit_values")
    tokens = tokens[: max(top_k, 0)]
    ranked = not (
        isinstance(values, list)
        and len(values) >= len(tokens)
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in values[: len(tokens)]
        )
    )
    out: list[tuple[str, float]] = []
    for rank, token in enumerate(tokens):
        key = _token_key(token) if isinstance(token, str) else ""
        weight = 1.0 / (rank + 1) if ranked else max(float(values[rank]), 0.0)
        if key and weight > 0:
            out.append((key, weight))
    top = max((w for _t, w in out), default=0.0)
    return [(t, w / top) for t, w in out]  # in (0, 1]: no overflow in the norm, whatever the file says


def vocabulary_vectors(graph: AttributionGraph, candidates: np.ndarray, top_k: int = 5) -> sp.csr_matrix:
    """Unit vectors (one row per candidate) over the tokens of each feature's top direct logits, read from
    `attrgraph.features[...].details` (the dashboards `autointerp` stores); a zero row where there is none."""
    table = features(graph)
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    if table:
        layers, indices = graph.nodes.layer, graph.nodes.feature
        for r, i in enumerate(candidates.tolist()):
            entry = table.get(feature_key(int(layers[i]), int(indices[i])))
            for token, weight in _top_logits(entry, top_k):
                rows.append(r)
                cols.append(vocab.setdefault(token, len(vocab)))
                vals.append(weight)
    shape = (len(candidates), max(len(vocab), 1))
    matrix = sp.csr_matrix((np.asarray(vals, dtype=np.float64), (rows, cols)), shape=shape)
    matrix.sum_duplicates()  # two spellings of one token
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-300), 0.0))
    return sp.csr_matrix(scale @ matrix, dtype=np.float32)


def edge_profiles(adjacency: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """[incoming | outgoing] signed weights of `rows`, each half L2-normalised and scaled by 1/√2."""
    incoming = adjacency[rows]
    outgoing = adjacency.T.tocsr()[rows]
    return sp.csr_matrix(sp.hstack([unit_rows(incoming), unit_rows(outgoing)], format="csr") / np.sqrt(2.0))


def unit_rows(part: sp.spmatrix) -> sp.csr_matrix:
    """Each row divided by its L2 norm (an all-zero row stays zero). Rows are first divided by their
    largest |weight|, so weights near the float limits (1e300, 1e-300) neither overflow nor underflow
    when squared: the profile does not depend on the scale of the weights."""
    m = sp.csr_matrix(part, dtype=np.float64, copy=True)
    m.sum_duplicates()
    m.data[~np.isfinite(m.data)] = 0.0  # a non-finite weight carries no direction
    row = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    peak = abs(m).max(axis=1).toarray().ravel()
    m.data = np.divide(m.data, peak[row], out=np.zeros_like(m.data), where=peak[row] > 0)
    norms = np.sqrt(np.bincount(row, weights=m.data * m.data, minlength=m.shape[0]))
    m.data = np.divide(m.data, norms[row], out=np.zeros_like(m.data), where=norms[row] > 0)
    m.eliminate_zeros()
    return m


def collect(
    graph: AttributionGraph,
    candidates: np.ndarray,
    adjacency: sp.csr_matrix,
    effects: np.ndarray,
    labels: list[str],
    vocabulary_top_k: int = SignalWeights.vocabulary_top_k,
) -> Signals:
    """Gather the signals of `candidates`."""
    cand_labels = [labels[i] for i in candidates]
    return Signals(
        candidates=candidates,
        profiles=edge_profiles(adjacency, candidates),
        logit_effect=effects[candidates],
        layer=graph.nodes.layer[candidates].astype(np.int64),
        position=graph.nodes.position[candidates].astype(np.int64),
        words=[content_words(x) for x in cand_labels],
        labels=cand_labels,
        vocabulary=vocabulary_vectors(graph, candidates, vocabulary_top_k),
    )


def label_similarity(words: list[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(Jaccard similarity of content words, mask of pairs where both features have words)."""
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, ws in enumerate(words):
        for w in ws:
            rows.append(i)
            cols.append(vocab.setdefault(w, len(vocab)))
    n = len(words)
    has = np.array([bool(ws) for ws in words])
    if not vocab:
        return np.zeros((n, n), dtype=np.float32), np.zeros((n, n), dtype=bool)
    b = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, len(vocab)))
    inter = (b @ b.T).toarray()
    size = np.asarray(b.sum(axis=1)).ravel()
    union = size[:, None] + size[None, :] - inter
    return (inter / np.maximum(union, 1.0)).astype(np.float32), has[:, None] & has[None, :]


def gram(profiles: sp.csr_matrix) -> np.ndarray:
    """profiles @ profilesᵀ as a dense float32 matrix (sparse x sparse: profiles are mostly zeros)."""
    p32 = profiles.astype(np.float32)
    return (p32 @ p32.T).toarray()


def similarity(signals: Signals, weights: SignalWeights = SignalWeights()) -> np.ndarray:
    """Combined similarity (n x n, float32, in [-1, 1]): the weighted mean of the available signals."""
    f32 = np.float32
    total = gram(signals.profiles)  # the mean of the in- and out-cosines
    total *= f32(weights.edges)
    # with one target logit the cosine is only the sign of the effect, the same for nearly every pair: a
    # constant offset that carries no information but lowers every distance (more merging at a fixed cut)
    has_logits = signals.logit_effect.shape[1] >= MIN_LOGITS_FOR_SIGNAL
    if has_logits:
        norms = np.linalg.norm(signals.logit_effect, axis=1)
        unit = (signals.logit_effect / np.where(norms > 0, norms, 1.0)[:, None]).astype(np.float32)
        unit *= np.sqrt(f32(weights.logits))
        total += unit @ unit.T
    layer = signals.layer.astype(np.float32)
    scratch = np.subtract.outer(layer, layer)
    np.abs(scratch, out=scratch)
    scratch *= f32(-1.0 / weights.layer_scale)
    np.exp(scratch, out=scratch)
    scratch *= f32(weights.layer)
    total += scratch
    del scratch
    same = np.equal.outer(signals.position, signals.position)
    total[same] += f32(weights.position)
    del same
    denom = weights.edges + (weights.logits if has_logits else 0.0) + weights.layer + weights.position
    voc = signals.vocabulary
    has_vocab = np.zeros(len(total), dtype=bool)
    if weights.vocabulary > 0 and voc.shape[0] == len(total):
        has_vocab = np.asarray(voc.getnnz(axis=1) > 0).ravel()
    if has_vocab.any():  # the vocabulary cosine joins the mean only where both features have a dashboard
        both = np.logical_and.outer(has_vocab, has_vocab)
        total += f32(weights.vocabulary) * gram(voc)
        divisor = np.where(both, f32(denom + weights.vocabulary), f32(denom)).astype(np.float32)
        del both
        total /= divisor
        del divisor
    else:
        total /= f32(denom)
    np.clip(total, -1.0, 1.0, out=total)
    labels, both = label_similarity(signals.words)
    if both.any():  # labels only pull together (heuristic labels are noisy): s += w * jaccard * (1 - s)
        total += f32(weights.label) * labels * both * (f32(1.0) - total)
    return total
