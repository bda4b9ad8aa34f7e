"""`cluster_graph`: candidates -> signals -> constrained hierarchical clustering -> names -> scores.

The graph is changed in place: new supernodes are appended to `qParams.supernodes` (their members are
pinned, as Neuronpedia shows supernodes of pinned nodes) and the set's metadata replaces
`attrgraph.supernodes`. Supernodes already in the file are kept (and their members left out of the
clustering) unless `replace` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from attrgraph_cli.cluster import agglomerate, coverage, grouping, naming, pairmodel, signals, units
from attrgraph_cli.cluster.influence import logit_effects, node_influence
from attrgraph_cli.cluster.quality import GROUPING_KEYS
from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.extension import set_supernode_set, supernode_set
from attrgraph_cli.graph.model import AttributionGraph, NodeKind

METHOD = (
    "fitted (graphs where >= 10% of the candidates repeat a feature at another position): feature "
    "units (a feature is one unit across its positions unless its positions' roles disagree), scipy "
    "average linkage on 1 - P(same supernode), P from a logistic model fitted on real gemma-2-2b "
    "graphs (layer proximity, position overlap, position overlap x position-free input cosine, "
    "direct-logit share, ...; fitted_weights.json), vocabulary cosine and label-word Jaccard added "
    "where present, cut at the fitted mean P; structural (otherwise): average linkage on 1 - weighted "
    "mean of signed edge-profile cosine, logit-effect cosine, layer and position proximity, vocabulary "
    "cosine, label-word Jaccard"
)


METHODS = ("auto", "fitted", "structural")
#: `auto` takes the fitted method when at least this share of the candidates repeat a feature seen at
#: another position: 19-25% on the real development graphs (43-52% with their references pinned), 5% on the
#: demo model's densest graph, 0.5% on the 1M-link random graph, 0 on the synthetic planted graphs
RECURRENCE_FOR_FITTED = 0.10
STRUCTURAL_MAX_SIZE = 10
#: above the development references' largest group (22 nodes: a feature at 11 positions counts 11)
FITTED_MAX_SIZE = 40
STRUCTURAL_MAX_DISTANCE = 0.5
#: the fitted method keeps the supernodes that, most influential first, carry this share of the grouped
#: influence; the rest are noise, left out (development graphs: 21-35 supernodes become 13-23, the
#: leave-one-graph-out pair-F1 moves by at most 0.01; docs/cluster-real-graphs.md); not with --only-pinned
FITTED_KEEP_INFLUENCE = 0.95


@dataclass
class ClusterOptions:
    """The knobs of `attrgraph cluster` (recorded in the supernode-set metadata)."""

    #: None: `STRUCTURAL_MAX_SIZE` or `FITTED_MAX_SIZE` nodes, by the method used
    max_size: int | None = None
    layer_band: int | None = None
    min_influence: float = 0.01
    max_features: int = 1000
    #: None: 0.5 (structural) or 1 - the fitted cut (`fitted_weights.json`)
    max_distance: float | None = None
    #: "auto": "fitted" when features recur at several positions (`RECURRENCE_FOR_FITTED`: a real
    #: transcoder graph), else "structural" (the similarity of `signals.similarity`, node by node)
    method: str = "auto"
    only_pinned: bool = False
    #: with `only_pinned`: every default candidate stays in the clustering as context (False: the pinned
    #: features are clustered alone, the control the benchmark compares against)
    pinned_context: bool = True
    replace: bool = False
    seed: int = 0
    random_controls: int = 5
    singletons: bool = True
    causal: bool = False
    model: str | None = None
    transcoders: str | None = None
    device: str = "auto"
    weights: signals.SignalWeights = field(default_factory=signals.SignalWeights)
    #: the fitted pair model; None: the one shipped in `fitted_weights.json`
    pair_weights: pairmodel.PairWeights | None = None
    #: positions of one feature stay one unit while their roles' cosine is at least this
    split_below: float = units.SPLIT_BELOW
    #: keep the supernodes that together carry this share of the grouped influence (most influential
    #: first); None: `FITTED_KEEP_INFLUENCE` (fitted) or 1, every supernode (structural, `only_pinned`)
    keep_influence: float | None = None

    def check(self) -> None:
        if self.method not in METHODS:
            raise AttrgraphError(f"--method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.max_size is not None and self.max_size < 2:
            raise AttrgraphError(
                f"--max-size must be at least 2 (a supernode groups features), got {self.max_size}"
            )
        if self.layer_band is not None and self.layer_band < 0:
            raise AttrgraphError(f"--layer-band must be 0 or more, got {self.layer_band}")
        if not 0.0 <= self.min_influence <= 1.0:
            raise AttrgraphError(f"--min-influence must be between 0 and 1, got {self.min_influence}")
        if self.max_features < 2:
            raise AttrgraphError(f"--max-features must be at least 2, got {self.max_features}")
        if self.max_distance is not None and not 0.0 <= self.max_distance <= 2.0:
            raise AttrgraphError(f"--max-distance must be between 0 and 2, got {self.max_distance}")
        if self.keep_influence is not None and not 0.0 < self.keep_influence <= 1.0:
            raise AttrgraphError(f"--keep-influence must be above 0 and at most 1, got {self.keep_influence}")

    def settings(self) -> dict[str, Any]:
        """Every option as recorded (declared once, above: `stages.record_settings`)."""
        from attrgraph_cli.stages.provenance import record_settings

        return record_settings(self)


@dataclass
class Supernode:
    name: str
    origin: str
    naming: str | None
    rows: np.ndarray
    scores: dict[str, Any] = field(default_factory=dict)


@dataclass
class ClusterResult:
    """What a run found: the new supernodes, those kept from the file, and the set-level scores."""

    new: list[Supernode]
    kept: list[Supernode]
    scores: dict[str, Any]
    n_candidates: int
    n_features: int
    loose: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _existing(graph: AttributionGraph, replace: bool) -> list[Supernode]:
    pins = graph.qparams.get("pinnedIds")
    if pins is not None and not (isinstance(pins, list) and all(isinstance(p, str) for p in pins)):
        # cluster adds its features to the pins: a value it cannot extend is not replaced
        raise AttrgraphError("qParams.pinnedIds must be a list of node ids (strings): fix it")
    if replace:
        return []
    groups = supernode_set(graph).get("groups")
    origin = {
        g["name"]: g
        for g in (groups if isinstance(groups, list) else [])
        if isinstance(g, dict) and isinstance(g.get("name"), str)
    }
    raw = graph.qparams.get("supernodes", [])
    if raw is not None and not (
        isinstance(raw, list) and all(isinstance(e, list) and all(isinstance(x, str) for x in e) for e in raw)
    ):
        raise AttrgraphError(
            "qParams.supernodes must be a list of [name, node_id, ...] lists of strings: "
            "fix it, or pass --replace"
        )
    seen: set[str] = set()
    kept = []
    for name, *members in graph.supernodes:
        if not name.strip():
            raise AttrgraphError(
                "qParams.supernodes has a supernode with an empty name: name it, or pass --replace"
            )
        if name in seen:
            raise AttrgraphError(
                f"qParams.supernodes has two supernodes named {name!r}: rename one, or pass --replace"
            )
        seen.add(name)
        rows = []
        for m in members:
            try:
                rows.append(graph.index_of(m))
            except KeyError:
                pass
        old = origin.get(name, {})
        scores, how, made_by = old.get("scores"), old.get("naming"), old.get("origin")
        kept.append(
            Supernode(  # metadata of the wrong type (a hand-edited file) is dropped, not trusted
                name,
                made_by if isinstance(made_by, str) else "human",
                how if isinstance(how, str) else None,
                np.asarray(rows, dtype=np.int64),
                dict(scores) if isinstance(scores, dict) else {},
            )
        )
    return kept


def _candidates(
    graph: AttributionGraph, influence: np.ndarray, kept: list[Supernode], opts: ClusterOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(candidate rows by decreasing influence, every feature row, which candidates may join a supernode).

    With `--only-pinned` only the pinned candidates may join one, but every candidate of the default run
    stays in the clustering as context (see `cluster_graph`)."""
    nodes = graph.nodes
    feats = np.flatnonzero(nodes.kind == NodeKind.FEATURE)
    if not len(feats):
        raise AttrgraphError("the graph has no feature nodes to cluster")
    pool = np.ones(len(nodes), dtype=bool)
    for s in kept:
        pool[s.rows] = False
    # which nodes may join a supernode: every one, or with --only-pinned the pinned ones
    groupable = np.full(len(nodes), not opts.only_pinned)
    if opts.only_pinned:
        for nid in graph.pinned_ids:
            try:
                groupable[graph.index_of(nid)] = True
            except KeyError:
                pass
        if not (pool & groupable)[feats].any():
            raise AttrgraphError(
                "--only-pinned: no pinned feature outside the existing supernodes (qParams.pinnedIds)"
            )
        if not opts.pinned_context:
            pool &= groupable
    if not pool[feats].any():  # the true reason, not "below the influence floor" (issue 23)
        raise AttrgraphError(
            f"every one of the {len(feats)} features is already in a kept supernode: nothing left to cluster "
            "(--replace starts over)"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        overflow = not np.isfinite(np.abs(graph.edges.weight).sum())
    if overflow or not np.isfinite(influence[feats]).all():
        raise AttrgraphError(
            "the graph's link weights overflow when summed (|weights| add up to more than a float can hold), "
            "so no feature's influence can be measured: nothing to cluster; check the links' weights"
        )
    top = float(influence[feats].max())
    relative = influence / top if top > 0 else np.zeros_like(influence)
    above = feats[pool[feats] & (relative[feats] >= opts.min_influence)]
    if not groupable[above].any():
        n_pool = int((pool & groupable)[feats].sum())
        which = "pinned features" if opts.only_pinned else "candidate features"
        raise AttrgraphError(
            f"all {n_pool} {which} are below the influence floor "
            f"(--min-influence {opts.min_influence:g} of the most influential feature): nothing to cluster"
            if top > 0
            else "no feature has any influence on the logits (every path to them weighs 0): nothing to do"
        )
    chosen = above[np.lexsort((above, -influence[above]))][: opts.max_features]
    if opts.only_pinned:  # pinned features past --max-features are still clustered (it caps the context)
        chosen = np.concatenate([chosen, np.setdiff1d(above[groupable[above]], chosen)])
    # a feature is one unit across positions: its other positions (in the pool) come with it
    fid = units.feature_ids(graph)
    whole = feats[pool[feats] & np.isin(fid[feats], fid[chosen])]
    extra = np.setdiff1d(whole, chosen)
    if len(extra) and len(chosen) + len(extra) <= max(opts.max_features, len(chosen)):
        chosen = np.concatenate([chosen, extra[np.lexsort((extra, -influence[extra]))]])
    return chosen, feats, groupable[chosen]


def _ratio(ours: float | None, base: float | None) -> float | None:
    if ours is None or base is None or base <= 0:
        return None
    return ours / base


@dataclass
class Prepared:
    """Everything `cluster_graph` computes before it groups: candidates, node signals, feature units."""

    adjacency: Any
    influence: np.ndarray
    cand: np.ndarray
    feats: np.ndarray
    labels: list[str]
    effects: np.ndarray
    sig: signals.Signals
    unit: np.ndarray
    n_units: int
    n_split: int
    usig: pairmodel.UnitSignals | None
    #: per candidate, whether it may join a supernode (False: context only, `--only-pinned`)
    groupable: np.ndarray


def prepare(
    graph: AttributionGraph, opts: ClusterOptions, kept: list[Supernode], with_unit_signals: bool = True
) -> Prepared:
    """Candidates (whole features), their node signals and their feature units with the units' signals
    (`usig`, None unless `with_unit_signals`: `unit_signals` computes them later)."""
    adjacency = graph.adjacency()
    adjacency.sum_duplicates()
    influence = node_influence(graph, adjacency)
    cand, feats, groupable = _candidates(graph, influence, kept, opts)
    labels = signals.node_labels(graph)
    effects = logit_effects(graph, adjacency)
    sig = signals.collect(graph, cand, adjacency, effects, labels, opts.weights.vocabulary_top_k)
    unit, n_units, n_split = units.units(graph, adjacency, cand, effects, opts.split_below)
    prep = Prepared(
        adjacency, influence, cand, feats, labels, effects, sig, unit, n_units, n_split, None, groupable
    )
    if with_unit_signals:
        prep.usig = unit_signals(graph, prep)
    return prep


def unit_signals(graph: AttributionGraph, prep: Prepared) -> pairmodel.UnitSignals:
    """The feature units' signals of `prep` (what the fitted pair model reads)."""
    sig = prep.sig
    return pairmodel.collect(
        prep.adjacency,
        prep.cand,
        prep.unit,
        prep.n_units,
        sig.layer,
        sig.position,
        prep.effects[prep.cand],
        sig.words,
        sig.vocabulary,
        units.source_classes(graph),
        graph.nodes.kind == NodeKind.LOGIT,
    )


def cluster_graph(graph: AttributionGraph, opts: ClusterOptions) -> ClusterResult:
    """Cluster `graph`'s features into supernodes and record them in the graph (in place)."""
    opts.check()
    kept = _existing(graph, opts.replace)
    prep = prepare(graph, opts, kept, with_unit_signals=False)
    adjacency, influence, cand, feats = prep.adjacency, prep.influence, prep.cand, prep.feats
    sig, unit, n_units = prep.sig, prep.unit, prep.n_units
    method = opts.method
    if method == "auto":
        repeats = (len(cand) - n_units) / max(len(cand), 1)
        method = "fitted" if repeats >= RECURRENCE_FOR_FITTED else "structural"
    if method == "fitted":
        model = pairmodel.scaled(opts.pair_weights or pairmodel.shipped_weights(), opts.weights)
        usig = unit_signals(graph, prep)
        sim = pairmodel.probability(usig, model)
        max_size = FITTED_MAX_SIZE if opts.max_size is None else opts.max_size
        max_distance = 1.0 - model.cut if opts.max_distance is None else opts.max_distance
        layer_of, size_of = usig.layer, usig.size
    else:  # every node its own unit, the issue-13 similarity
        unit, n_units = np.arange(len(cand)), len(cand)
        sim = signals.similarity(sig, opts.weights)
        max_size = STRUCTURAL_MAX_SIZE if opts.max_size is None else opts.max_size
        max_distance = STRUCTURAL_MAX_DISTANCE if opts.max_distance is None else opts.max_distance
        layer_of, size_of = sig.layer, None
    keep_share = opts.keep_influence
    if keep_share is None:  # with --only-pinned the pins are the researcher's choice: none is noise
        keep_share = FITTED_KEEP_INFLUENCE if method == "fitted" and not opts.only_pinned else 1.0
    opts = replace(
        opts, method=method, max_size=max_size, max_distance=max_distance, keep_influence=keep_share
    )
    unit_parts = agglomerate.constrained_groups(
        sim,
        layer_of,
        max_size=max_size,
        max_distance=max_distance,
        layer_band=opts.layer_band,
        seed=opts.seed,
        sizes=size_of,
    )
    unit_influence = np.bincount(unit, weights=influence[cand], minlength=n_units)
    floor = _singleton_floor(n_units, unit_parts, unit_influence, fallback=method == "fitted")
    # the noise rule reads the default run's supernodes (with --only-pinned: before they are cut to the pins)
    fitted = method == "fitted"
    alone = np.zeros(0, dtype=np.int64)
    if opts.singletons:
        positions = np.bincount(unit, minlength=n_units) if fitted else None
        alone = _alone(_loose_singletons(n_units, unit_parts, unit_influence, floor), positions)
    unit_parts, noise = _drop_noise(unit_parts, alone, unit_influence, keep_share)
    # --only-pinned: the unpinned candidates shaped the grouping; each supernode keeps its pinned members
    members = [np.flatnonzero((unit == u) & prep.groupable) for u in range(n_units)]
    unit_parts = [up for up in ([u for u in up if len(members[u])] for up in unit_parts) if len(up) > 1]
    unit_parts = [np.asarray(up, dtype=np.int64) for up in unit_parts]
    size_of = np.asarray([len(m) for m in members])
    loose_units = _loose_singletons(n_units, unit_parts, unit_influence, floor)
    loose_units = loose_units[(size_of[loose_units] > 0) & ~np.isin(loose_units, noise)]
    if opts.singletons:  # an influential feature that fits no group is a supernode of its own
        alone = _alone(loose_units, size_of if fitted else None)
        loose_units = np.setdiff1d(loose_units, alone)
        unit_parts += [np.asarray([u], dtype=np.int64) for u in alone]
    parts = [np.sort(np.concatenate([members[u] for u in up])) for up in unit_parts]
    loose = (
        np.sort(np.concatenate([members[u] for u in loose_units]))
        if len(loose_units)
        else np.zeros(0, dtype=np.int64)
    )
    parts.sort(key=lambda p: (-float(influence[cand[p]].sum()), int(cand[p].min())))
    new = _named_supernodes(graph, prep, parts, sim, unit, kept)
    loose = cand[loose]
    eligible = cand[prep.groupable]  # the candidates a supernode may hold (the controls draw from them)
    scores = _set_scores(graph, adjacency, influence, sig, parts, kept, new, eligible, feats, opts, loose)
    if opts.only_pinned:
        scores["context"] = int(len(cand))
    if opts.causal and new:
        _add_causal_scores(graph, new, scores, opts, eligible)
    _apply(graph, kept, new, scores, opts, loose)
    return ClusterResult(new, kept, scores, len(eligible), len(feats), loose)


def _named_supernodes(
    graph: AttributionGraph, prep: Any, parts: list[np.ndarray], sim: np.ndarray, unit: np.ndarray, kept: list
) -> list[Supernode]:
    """One named, described supernode per part (indices into the candidates), names unique among `kept`."""
    cand, sig, influence, labels = prep.cand, prep.sig, prep.influence, prep.labels
    total_influence = float(influence[prep.feats].sum()) or 1.0
    taken, tokens = {s.name for s in kept}, graph.prompt_tokens
    new: list[Supernode] = []
    for p in parts:
        rows = cand[p]
        name, how = naming.propose([labels[i] for i in rows], sig.layer[p], sig.position[p], tokens)
        within = _mean_within(sim, unit[p]) if len(p) > 1 else None
        description = {
            "size": int(len(rows)),
            "layers": [int(sig.layer[p].min()), int(sig.layer[p].max())],
            "positions": sorted({int(x) for x in sig.position[p]}),
            "influence_share": round(float(influence[rows].sum()) / total_influence, 6),
            "mean_similarity": round(within, 6) if within is not None else None,
        }
        new.append(Supernode(naming.unique(name, taken), "auto", how, rows, description))
    return new


def _add_causal_scores(
    graph: AttributionGraph, new: list[Supernode], scores: dict, opts: ClusterOptions, pool: np.ndarray
) -> None:
    """`--causal`: each new supernode scaled x-1 on the graph's model, beside its prediction and controls."""
    from attrgraph_cli.cluster.causal import causal_scores

    summary, per_group = causal_scores(
        graph,
        [(s.name, s.rows) for s in new],
        model=opts.model,
        transcoders=opts.transcoders,
        device=opts.device,
        seed=opts.seed,
        pool=pool,
    )
    scores["causal"] = summary
    for s, extra in zip(new, per_group, strict=True):
        s.scores["causal"] = extra


def _mean_within(prob: np.ndarray, unit_of: np.ndarray) -> float:
    """Mean P(same supernode) over the pairs of a supernode's nodes (1 for two nodes of one unit)."""
    sub = prob[np.ix_(unit_of, unit_of)].astype(np.float64)
    np.fill_diagonal(sub, 0.0)
    return float(sub.sum() / (len(unit_of) * (len(unit_of) - 1)))


def _grouped(n: int, parts: list[np.ndarray]) -> np.ndarray:
    """Mask of the n candidates (or units) that are in one of `parts`."""
    grouped = np.zeros(n, dtype=bool)
    for p in parts:
        grouped[p] = True
    return grouped


def _singleton_floor(n: int, parts: list[np.ndarray], influence: np.ndarray, fallback: bool) -> float | None:
    """The influence a candidate left alone needs to be kept (`_loose_singletons`): the median grouped
    candidate's (`influence`: per candidate, `parts`: the grouping); with nothing grouped, None, or with
    `fallback` the median of all (a lone feature unit may still be kept)."""
    grouped = _grouped(n, parts)
    if not grouped.any() and (not fallback or not n):
        return None
    return float(np.median(influence[grouped] if grouped.any() else influence))


def _alone(loose: np.ndarray, sizes: np.ndarray | None) -> np.ndarray:
    """Of the `loose` units, those that become supernodes of their own (`--singletons`): every one
    (structural: `sizes` None), or with the fitted method those of more than one node (a feature at
    several positions; one node alone is noise, only pinned)."""
    return np.asarray([u for u in loose if sizes is None or sizes[u] > 1], dtype=np.int64)


def _drop_noise(
    parts: list[np.ndarray], alone: np.ndarray, influence: np.ndarray, share: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """(`parts` kept, units of the supernodes dropped as noise). The supernodes (`parts`, groups of units,
    and the units in `alone`) are ranked by influence (`influence`: per unit); those that together carry
    `share` of their total are kept, the first always, the rest dropped."""
    groups = [*parts, *(np.asarray([u], dtype=np.int64) for u in alone)]
    if share >= 1.0 or len(groups) < 2:
        return parts, np.zeros(0, dtype=np.int64)
    weight = np.asarray([float(influence[g].sum()) for g in groups])
    order = np.argsort(-weight, kind="stable")
    total = float(weight.sum())
    if total <= 0.0:
        return parts, np.zeros(0, dtype=np.int64)
    reached = np.cumsum(weight[order]) / total
    n_keep = int(np.searchsorted(reached, share - 1e-12)) + 1
    dropped = set(order[n_keep:].tolist())
    kept = [g for i, g in enumerate(parts) if i not in dropped]
    noise = [g for i, g in enumerate(groups) if i in dropped]
    return kept, (np.concatenate(noise) if noise else np.zeros(0, dtype=np.int64))


def _loose_singletons(
    n: int, parts: list[np.ndarray], influence: np.ndarray, floor: float | None
) -> np.ndarray:
    """Indices (into the n candidates, `influence` their influence) of the candidates in no part whose
    influence reaches `floor`: influential features that fit no group. They become single-feature
    supernodes (or, with `singletons` off, are only pinned), as a researcher keeps an important feature on
    its own rather than dropping it."""
    if floor is None:
        return np.zeros(0, dtype=np.int64)
    alone = np.flatnonzero(~_grouped(n, parts))
    return alone[influence[alone] >= floor]


def _set_scores(
    graph, adjacency, influence, sig, parts, kept, new, cand, feats, opts, loose
) -> dict[str, Any]:
    n = len(graph.nodes)
    in_groups = np.zeros(n, dtype=bool)
    for s in (*kept, *new):
        in_groups[s.rows] = True
    in_groups &= graph.nodes.kind == NodeKind.FEATURE
    cov: dict[str, Any] = {
        "all_features": coverage.subgraph_scores(graph, np.ones(n, dtype=bool)),
        "supernodes": coverage.subgraph_scores(graph, in_groups),
        "features_in_supernodes": int(in_groups.sum()),
        "pinned_subgraph": coverage.subgraph_scores(graph, _pinned_mask(graph, in_groups, loose)),
        "features": int(len(feats)),
    }
    n_new = int(sum(len(p) for p in parts))
    if n_new and opts.random_controls:
        rng = np.random.default_rng(opts.seed)
        held = np.zeros(n, dtype=bool)
        for s in kept:
            held[s.rows] = True
        pool = cand  # the same candidate pool the supernodes were drawn from (kept members are not in it)
        draws = []
        for _ in range(opts.random_controls):
            mask = held.copy()
            mask[rng.choice(pool, size=min(n_new, len(pool)), replace=False)] = True
            draws.append(coverage.subgraph_scores(graph, mask))
        cov["random_control"] = {
            k: float(np.mean([d[k] for d in draws])) for k in ("replacement", "completeness")
        } | {"draws": len(draws), "pool": "candidates", "pool_size": int(len(pool)), "size": n_new}
    result: dict[str, Any] = {"coverage": cov, "candidates": int(len(cand)), "groups": len(new)}
    if parts:
        idx = np.concatenate(parts)
        ours = np.concatenate([np.full(len(p), g) for g, p in enumerate(parts)])
        nodes = sig.candidates[idx]
        profiles = sig.profiles[idx]
        base = agglomerate.baseline_groups(sig.layer[idx], sig.position[idx], len(parts))
        a = grouping.grouping_scores(adjacency, nodes, profiles, ours)
        b = grouping.grouping_scores(adjacency, nodes, profiles, base)
        best = grouping.best_contrast(profiles, len(parts), limit=grouping.CLI_EXHAUSTIVE_LIMIT)
        result["grouping"] = {
            "features": int(len(idx)),
            "ours": a,
            "baseline": b,
            "baseline_method": "linkage on (position, layer) only; same features, same number of groups",
            "same_as_baseline": grouping.same_partition(ours, base),
            # the ceiling: the best contrast of any grouping of these features into as many groups
            "best_possible": None
            if best is None
            else {"contrast": best["contrast"], "groupings_tried": best["groupings"]},
            "ratio": {k: _ratio(a.get(k), b.get(k)) for k in ("coupling_modularity", "within", "contrast")},
            "difference": {
                k: (a[k] - b[k]) if a.get(k) is not None and b.get(k) is not None else None
                for k in GROUPING_KEYS
            },
        }
    return result


def _pinned_mask(graph: AttributionGraph, in_groups: np.ndarray, loose: np.ndarray) -> np.ndarray:
    """Features of the pinned subgraph after the run: supernode members, loose singletons, earlier pins."""
    mask = in_groups.copy()
    mask[loose] = True
    for nid in graph.pinned_ids:
        try:
            mask[graph.index_of(nid)] = True
        except KeyError:
            pass
    return mask & (graph.nodes.kind == NodeKind.FEATURE)


def _apply(graph, kept, new, scores, opts, loose) -> None:
    ids = graph.nodes.ids
    entries = [list(s) for s in graph.supernodes] if not opts.replace else []
    entries += [[s.name, *map(str, ids[s.rows])] for s in new]
    graph.qparams["supernodes"] = entries
    pinned = list(graph.pinned_ids)
    have = set(pinned)
    for rows in [*(s.rows for s in new), loose]:
        for nid in map(str, ids[rows]):
            if nid not in have:
                have.add(nid)
                pinned.append(nid)
    graph.qparams["pinnedIds"] = pinned
    groups = [
        {"name": s.name, "origin": s.origin, "naming": s.naming, "scores": s.scores} for s in (*kept, *new)
    ]
    set_supernode_set(
        graph,
        {
            "method": METHOD,
            "settings": opts.settings(),
            "seed": opts.seed,
            "scores": scores,
            "groups": groups,
        },
    )
