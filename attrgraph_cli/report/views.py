"""Typed views of the `attrgraph` extension parts, built once in Python for every renderer.

`report/semantics.py` says what a node means; this module says what each extension part shows:

- `labels`: the label summary (labelled features counted once per feature key, by source in name order,
  the mean score) and the labelled features in the report's ranking, dense ones flagged;
- `supernodes`: the set's groups (name, colour, members, origin, naming, one-line scores) and the collapsed
  graph (`report/subgraph.py`: tokens -> supernodes and pinned nodes -> target logit, links summed);
- `interventions`: each record's name and kind, and its sweep with one colour per series (`SERIES_COLORS`,
  at most `MAX_SERIES` series);
- `history`: the stages that made the file, oldest first, as lines;
- `links`: the graph's page on Neuronpedia and how its features' pages are named (`report/links.py`).

The viewer receives `Views.as_payload()` as `head.views` and its panels draw those; the PDF's sections
read the same dataclasses, so the two cannot disagree. Every string is cut (`clip.py`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from attrgraph_cli import extension
from attrgraph_cli.clip import MAX_LABEL, clip
from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.jsontypes import list_or_empty
from attrgraph_cli.report import semantics
from attrgraph_cli.report.links import NeuronpediaLinks, neuronpedia_links
from attrgraph_cli.report.semantics import PALETTE, Semantics, supernode_color
from attrgraph_cli.report.subgraph import collapse
from attrgraph_cli.report.text import clean_text

#: sweep series colours (one per token, in record order) and how many series a chart draws
SERIES_COLORS: list[str] = PALETTE["series"]
MAX_SERIES = len(SERIES_COLORS)
#: labelled features listed (viewer panel and PDF table; the summary counts all of them)
MAX_LABEL_ROWS = 60


def _finite(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _text(value: Any, limit: int = MAX_LABEL) -> str:
    return clip(clean_text(value if isinstance(value, str) else "" if value is None else str(value)), limit)


@dataclass
class LabelRow:
    """One labelled feature: its most important node, key, label, source, score, density, dense flag."""

    node: int
    key: str
    label: str
    source: str
    score: float | None
    density: float | None
    dense: bool
    #: the feature's page on Neuronpedia (None: Neuronpedia hosts none for this graph)
    url: str | None = None


@dataclass
class LabelSummary:
    """All labelled features of the graph (one per feature key), in the report's ranking."""

    count: int
    by_source: list[tuple[str, int]]
    mean_score: float | None
    n_scored: int
    score_methods: list[str]
    rows: list[LabelRow]
    dense_rows: list[LabelRow]

    @property
    def text(self) -> str:
        """The summary line, the same in the viewer and the PDF."""
        parts = ", ".join(f"{n} {s}" for s, n in self.by_source)
        out = f"{self.count} labelled features: {parts}"
        if self.mean_score is not None:
            out += f"; mean score {self.mean_score:.3f} over {self.n_scored}"
        return out


def label_summary(
    graph: AttributionGraph, sem: Semantics, links: NeuronpediaLinks | None = None
) -> LabelSummary | None:
    """The label view, or None when no feature of the graph has an `attrgraph.features` entry."""
    entries = extension.features(graph)
    if not entries:
        return None
    rows: list[LabelRow] = []
    seen: set[str] = set()
    for i in semantics.top_nodes(graph, len(graph.nodes), (NodeKind.FEATURE,)).tolist():
        key = sem.feature_key[i]
        if key is None or key in seen or not isinstance(entries.get(key), dict):
            continue
        seen.add(key)
        entry = entries[key]
        rows.append(
            LabelRow(
                node=i,
                key=_text(key, 40),
                label=_text(entry.get("label")),
                source=_text(entry.get("source") or "unknown", 40),
                score=_finite(entry.get("score")),
                density=sem.density[i],
                dense=bool(sem.dense[i]),
                url=links.node(graph, i) if links is not None else None,
            )
        )
    if not rows:
        return None
    by_source: dict[str, int] = {}
    for row in rows:
        by_source[row.source] = by_source.get(row.source, 0) + 1
    scores = [row.score for row in rows if row.score is not None]
    methods = {_text(entries[r.key].get("score_method"), 60) for r in rows if r.score is not None} - {""}
    return LabelSummary(
        count=len(rows),
        by_source=sorted(by_source.items()),
        mean_score=sum(scores) / len(scores) if scores else None,
        n_scored=len(scores),
        score_methods=sorted(methods),
        rows=[r for r in rows if not r.dense],
        dense_rows=[r for r in rows if r.dense],
    )


@dataclass
class Group:
    """A supernode of `qParams.supernodes`: name, colour, member ids, and its `attrgraph.supernodes` entry."""

    name: str
    color: str
    ids: list[str]
    origin: str
    naming: str
    scores: list[tuple[str, str]]


@dataclass
class CollapsedView:
    """The collapsed graph: per node its id (a supernode's is `supernode:K`), name, colour, member ids and
    supernode index (None: a single node); links `[source, target, summed weight]` between view nodes."""

    ids: list[str]
    names: list[str]
    colors: list[str]
    members: list[list[str]]
    supernode: list[int | None]
    links: list[tuple[int, int, float]]


@dataclass
class SupernodeView:
    groups: list[Group]
    collapsed: CollapsedView | None
    quality: list[tuple[str, str, str, str]] = field(default_factory=list)


def _group_scores(info: dict[str, Any]) -> list[tuple[str, str]]:
    from attrgraph_cli.cluster.quality import group_rows
    from attrgraph_cli.report.tables import cell, key_values

    rows = group_rows(info.get("scores"))
    return [(cell(k, 40), cell(v, 40)) for k, v in rows] if rows else key_values(info.get("scores"), 60)


def _quality(scores: Any) -> list[tuple[str, str, str, str]]:
    """`attrgraph cluster`'s quality table (ours vs baseline / control), when the scores have its shape."""
    from attrgraph_cli.cluster.quality import quality_rows
    from attrgraph_cli.report.tables import cell

    try:
        rows = quality_rows(scores) if isinstance(scores, dict) else []
    except (KeyError, TypeError, AttributeError, ValueError):
        return []
    return [(cell(a, 80), cell(b, 30), cell(c, 60), cell(d, 20)) for a, b, c, d in rows]


def collapsed_view(graph: AttributionGraph, sem: Semantics) -> CollapsedView | None:
    """`report.subgraph.collapse` as the viewer and the tests read it."""
    found = collapse(graph)
    if found is None:
        return None
    ids = graph.nodes.ids.tolist()
    view = found.graph
    names, colors = [], []
    for rows, sn in zip(found.members, found.supernode, strict=True):
        if sn is None:
            names.append(sem.display[rows[0]])
            colors.append(sem.color[rows[0]])
        else:
            names.append(clip(clean_text(graph.supernodes[sn][0]), MAX_LABEL))
            colors.append(supernode_color(sn))
    links = [
        (int(s), int(t), float(w))
        for s, t, w in zip(view.edges.source.tolist(), view.edges.target.tolist(), view.edges.weight.tolist(),
                           strict=True)
    ]  # fmt: skip
    return CollapsedView(
        ids=[str(i) for i in view.nodes.ids.tolist()],
        names=names,
        colors=colors,
        members=[[str(ids[i]) for i in rows] for rows in found.members],
        supernode=list(found.supernode),
        links=links,
    )


def supernode_view(graph: AttributionGraph, sem: Semantics) -> SupernodeView | None:
    meta = extension.supernode_set(graph)
    if not graph.supernodes and not meta and not graph.pinned_ids:
        return None
    listed = meta.get("groups") if isinstance(meta.get("groups"), list) else []
    by_name = {str(g["name"]): g for g in listed if isinstance(g, dict) and "name" in g}
    groups = []
    for k, (name, *members) in enumerate(graph.supernodes):
        info = by_name.get(name, {})
        groups.append(
            Group(
                name=_text(name, 120),
                color=supernode_color(k),
                ids=[str(m) for m in members],
                origin=_text(info.get("origin"), 20),
                naming=_text(info.get("naming"), 120),
                scores=_group_scores(info),
            )
        )
    quality = _quality(meta.get("scores"))
    return SupernodeView(groups=groups, collapsed=collapsed_view(graph, sem), quality=quality)


@dataclass
class Series:
    token: str
    p: list[float | None]
    color: str


@dataclass
class Sweep:
    parameter: str
    values: list[float | None]
    series: list[Series]


def sweep_view(sweep: Any) -> Sweep | None:
    """A record's sweep with its colours (at most `MAX_SERIES` series), or None when it has no data."""
    if not isinstance(sweep, dict):
        return None
    values, raw = sweep.get("values"), sweep.get("series")
    if not isinstance(values, list) or not values or not isinstance(raw, list):
        return None
    series = [s for s in raw if isinstance(s, dict)][:MAX_SERIES]
    if not series:
        return None
    return Sweep(
        parameter=_text(sweep.get("parameter") or "value", 80),
        values=[_finite(v) for v in values],
        series=[
            Series(
                token=_text(s.get("token", ""), 80),
                p=[_finite(p) for p in (s.get("p") if isinstance(s.get("p"), list) else [])],
                color=SERIES_COLORS[k],
            )
            for k, s in enumerate(series)
        ],
    )


@dataclass
class TargetView:
    """A target logit of a record: its token, the predicted and the measured change, p before and after."""

    token: str
    predicted: float | None
    measured: float | None
    p_before: float | None
    p_after: float | None
    flag: str | None = None  # "sign" / "magnitude": measured and predicted disagree (intervene.agreement)


@dataclass
class CheckView:
    """A `--check-supernodes` result: supernode, op, measured and predicted effect, influence rank, and the
    random same-size control's mean |effect|."""

    supernode: str
    op: str
    effect: float | None
    predicted: float | None
    influence_rank: int | None
    control: float | None


@dataclass
class InterventionSummary:
    """One intervention record as the viewer's panel draws it (the PDF's section lays out the same fields)."""

    name: str
    kind: str
    model: str
    spec: list[str]
    nodes: list[str]
    targets: list[TargetView]
    top_before: list[tuple[str, float]]
    top_after: list[tuple[str, float]]
    generated_before: str | None
    generated_after: str | None
    sweep: Sweep | None
    check: CheckView | None
    #: what measured and predicted compare: mode, Δ's units, partial coverage, tolerance, summary
    notes: list[str] = field(default_factory=list)


#: targets and top logits listed per record
MAX_TARGETS = 30
MAX_TOP = 10


def _pairs(value: Any) -> list[tuple[str, float]]:
    out = []
    for item in list_or_empty(value)[:MAX_TOP]:
        if isinstance(item, list) and len(item) == 2 and _finite(item[1]) is not None:
            out.append((_text(item[0], 80), float(item[1])))
    return out


def _check(check: Any) -> CheckView | None:
    if not isinstance(check, dict) or check.get("supernode") is None:
        return None
    control = check.get("control") if isinstance(check.get("control"), dict) else {}
    rank = check.get("influence_rank")
    return CheckView(
        supernode=_text(check["supernode"], 120),
        op=_text(check.get("op"), 20),
        effect=_finite(check.get("effect")),
        predicted=_finite(check.get("predicted_effect")),
        influence_rank=rank if isinstance(rank, int) and not isinstance(rank, bool) else None,
        control=_finite(control.get("mean_abs_effect")),
    )


def _generated(value: Any) -> str | None:
    return None if value is None else _text(value)


def intervention_view(record: dict[str, Any], number: int) -> InterventionSummary:
    """One record (number: its place among the records, from 1) with every field checked and cut."""
    spec = [e for e in list_or_empty(record.get("spec")) if isinstance(e, dict)]
    targets = [t for t in list_or_empty(record.get("targets")) if isinstance(t, dict)][:MAX_TARGETS]
    return InterventionSummary(
        name=_text(record.get("name") or f"Intervention {number}", 120),
        kind=_text(record.get("kind"), 30),
        model=_text(record.get("model"), 120),
        spec=[_text(e.get("text") or e.get("op") or "") for e in spec],
        nodes=[_text(n, 200) for e in spec for n in list_or_empty(e.get("nodes"))],
        targets=[
            TargetView(
                token=_text(t.get("token", ""), 80),
                predicted=_finite(t.get("predicted_delta")),
                measured=_finite(t.get("measured_delta")),
                p_before=_finite(t.get("p_before")),
                p_after=_finite(t.get("p_after")),
                flag=t.get("flag") if t.get("flag") in ("sign", "magnitude") else None,
            )
            for t in targets
        ],
        top_before=_pairs(record.get("top_before")),
        top_after=_pairs(record.get("top_after")),
        generated_before=_generated(record.get("generated_before")),
        generated_after=_generated(record.get("generated_after")),
        sweep=sweep_view(record.get("sweep")),
        check=_check(record.get("check")),
        notes=_prediction_notes(record.get("prediction")),
    )


def _prediction_notes(pred: Any) -> list[str]:
    from attrgraph_cli.intervene.table import prediction_lines

    return [_text(line, 300) for line in prediction_lines(pred)] if isinstance(pred, dict) else []


def intervention_views(graph: AttributionGraph) -> list[InterventionSummary]:
    records = [r for r in extension.interventions(graph) if isinstance(r, dict)]
    return [intervention_view(r, n) for n, r in enumerate(records, start=1)]


@dataclass
class Stage:
    """One `attrgraph.history` record in words: `head` (stage · version · started · duration), its settings
    (`key=value, ...`, values as compact JSON) and inputs (`name (role) sha256:…`)."""

    stage: str
    head: str
    settings: str
    inputs: str


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)


def _input(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    digest = item.get("sha256")
    role = f" ({_text(item['role'], 40)})" if item.get("role") else ""
    digest_text = f" sha256:{digest[:12]}" if isinstance(digest, str) else ""
    return _text(item.get("name") or "?", 200) + role + digest_text


def history_view(graph: AttributionGraph) -> list[Stage]:
    """The stages that made the file, oldest first."""
    out = []
    for record in extension.history(graph):
        if not isinstance(record, dict):
            continue
        duration = _finite(record.get("duration_s"))
        parts = [
            _text(record.get("stage") or "?", 40),
            "attrgraph " + _text(record["attrgraph_version"], 40) if record.get("attrgraph_version") else "",
            _text(record.get("started"), 40),
            f"{duration:.2f} s" if duration is not None else "",
        ]
        settings = record.get("settings") if isinstance(record.get("settings"), dict) else {}
        inputs = record.get("inputs") if isinstance(record.get("inputs"), list) else []
        out.append(
            Stage(
                stage=_text(record.get("stage"), 40),
                head=" \u00b7 ".join(p for p in parts if p),
                settings=_text(", ".join(f"{k}={_compact(v)}" for k, v in settings.items())),
                inputs=_text(", ".join(t for t in map(_input, inputs) if t)),
            )
        )
    return out


@dataclass
class Views:
    labels: LabelSummary | None
    supernodes: SupernodeView | None
    interventions: list[InterventionSummary]
    history: list[Stage]
    links: NeuronpediaLinks

    def as_payload(self) -> dict[str, Any]:
        """The `head.views` object of the viewer payload."""
        labels = None
        if self.labels is not None:
            labels = asdict(self.labels)
            labels["text"] = self.labels.text
            labels["rows"] = labels["rows"][:MAX_LABEL_ROWS]
            labels["dense_rows"] = labels["dense_rows"][:MAX_LABEL_ROWS]
        return {
            "labels": labels,
            "supernodes": asdict(self.supernodes) if self.supernodes is not None else None,
            "interventions": [asdict(v) for v in self.interventions],
            "history": [asdict(s) for s in self.history],
            "links": self.links.as_payload(),
            "series": {"colors": SERIES_COLORS, "max": MAX_SERIES},
        }


def compute(graph: AttributionGraph, sem: Semantics | None = None) -> Views:
    """Every view of the graph (`sem`: the graph's semantics when already computed)."""
    sem = sem if sem is not None else semantics.compute(graph)
    links = neuronpedia_links(graph)
    return Views(
        labels=label_summary(graph, sem, links),
        supernodes=supernode_view(graph, sem),
        interventions=intervention_views(graph),
        history=history_view(graph),
        links=links,
    )
