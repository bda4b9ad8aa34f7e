"""The autointerp stage: imports, dashboards, explainers and the score, written on the extension contract.

Labels go to `nodes[].clerp` (every node of a feature gets its feature's label); everything else to
`attrgraph.features["L_I"]` via `extension.set_feature`. Precedence of labels: a person's label (a clerp
with no machine provenance, or source "human") unless `overwrite`; then imported labels in the order the
sources were given; then the LLM's; then the heuristic's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrgraph_cli.autointerp.explain_heuristic import GraphContext, explain
from attrgraph_cli.autointerp.import_neuronpedia_api import is_neuronpedia_source
from attrgraph_cli.autointerp.imported import Imported, SourceError
from attrgraph_cli.autointerp.ranking import keep_earlier
from attrgraph_cli.autointerp.sources import SourceResult, read_source
from attrgraph_cli.autointerp.targets import Target, graph_targets
from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.extension import feature_key, features, set_feature
from attrgraph_cli.graph.ids import feature_number
from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.stages.provenance import NOT_RECORDED

MACHINE_SOURCES = {"heuristic", "llm", "neuronpedia", "feature-details", "clt-forge", "table", "graph"}
DEMO_MODEL = "attrgraph-demo"
SHOW_UNMATCHED = 5


@dataclass
class DashboardOptions:
    mode: str = "auto"  # auto | on | off
    corpus: Path | None = None
    corpus_tokens: int | None = None
    model: str | None = None
    transcoders: str | None = None
    device: str = "auto"
    dtype: str = "float32"
    batch_size: int = 64
    ctx_len: int = 64
    progress: bool = field(default=True, metadata=NOT_RECORDED)


@dataclass
class Options:
    """autointerp's options, declared once: the history record's settings are read off them."""

    sources: list[Path] = field(default_factory=list)
    source_set: str | None = None
    explainer: str = "heuristic"  # heuristic | llm | none
    overwrite: bool = False
    max_density: float | None = 0.25
    dashboards: DashboardOptions = field(default_factory=DashboardOptions)
    #: explain_llm.LLMSettings when explainer == "llm" (its model name is recorded, not the endpoint)
    llm: Any = field(default=None, metadata={"record": lambda llm: llm.model if llm is not None else None})
    seed: int = 0
    neuronpedia_details: bool = True  # `-l neuronpedia`: also activation examples, logits, density


@dataclass
class Report:
    """What the command prints after the stage (lines) and warns about, and the facts for the history
    record: `run_autointerp`'s result."""

    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Evidence:
    """What the labels are made from, per feature: imported entries, details, density, held-out tokens."""

    results: list[Any]
    imported: dict[tuple[int, int], list[Imported]]
    details: dict[tuple[int, int], Any]
    density: dict[tuple[int, int], Any]
    heldout: dict[tuple[int, int], Any]
    dash: Any


@dataclass
class _Labelled:
    """How the labelling went: labels by source, scores, features left unlabelled, earlier labels kept."""

    by_source: dict[str, int] = field(default_factory=dict)
    scores: list[float] = field(default_factory=list)
    unlabelled: list[tuple[int, int]] = field(default_factory=list)
    kept_earlier: dict[str, int] = field(default_factory=dict)


def recorded_model(graph: AttributionGraph) -> tuple[str | None, str | None]:
    """(model, transcoder set) the graph was traced with, from its trace record or metadata."""
    from attrgraph_cli.extension import history

    for record in reversed(history(graph)):
        if record.get("stage") == "trace" and isinstance(record.get("settings"), dict):
            settings = record["settings"]
            return settings.get("model"), settings.get("transcoder_set")
    info = graph.metadata.get("info")
    model = info.get("model") if isinstance(info, dict) else None
    return (model if isinstance(model, str) else None), None


def run_autointerp(graph: AttributionGraph, opts: Options) -> Report:
    """Label the graph's features in place: gather the evidence (sources, dashboards), explain (heuristic,
    LLM), choose and score one label per feature. Returns what to print and the record's facts."""
    report = Report()
    targets = graph_targets(graph)
    if not targets:
        raise AttrgraphError("the graph has no feature nodes to label", exit_code=1)
    keys = list(targets)
    evidence = _gather(graph, opts, keys, report)
    results, details, heldout, dash = evidence.results, evidence.details, evidence.heldout, evidence.dash
    heuristic = _heuristic_labels(targets, keys, details)
    llm_labels, llm_errors, llm_facts = _llm(opts, keys, details, heuristic, report)
    done = _label(graph, opts, targets, evidence, llm_labels, llm_errors, heuristic)
    by_source, scores = done.by_source, done.scores
    unlabelled, kept_earlier = done.unlabelled, done.kept_earlier
    if len(unlabelled) == len(keys):
        if results:
            raise AttrgraphError(
                f"no feature was labelled (0 of {len(keys)}): the label sources held no usable label "
                f"({_held(results)}) and the heuristic found none in their details; pass --dashboards "
                "(with --corpus for a model other than the demo model) or a source with labels",
                exit_code=1,
            )
        raise AttrgraphError(
            f"no feature was labelled (0 of {len(keys)}): no label source and no dashboards; pass -l SOURCE, "
            "or --dashboards (with --corpus for a model other than the demo model)",
            exit_code=1,
        )
    if unlabelled:
        names = ", ".join(feature_key(*k) for k in unlabelled[:SHOW_UNMATCHED])
        report.warnings.append(
            f"{len(unlabelled)} of {len(keys)} features got no label (no source matched them and no "
            f"dashboard was computed; pass --dashboards or a source): {names}"
        )
    if kept_earlier:
        report.lines.append(
            "kept "
            + ", ".join(f"{n} {s}" for s, n in sorted(kept_earlier.items()))
            + " label(s) from an earlier run: they outrank this run's (--overwrite replaces them)"
        )
    from attrgraph_cli.autointerp.score import apply_baselines

    trivial = apply_baselines(graph, keys, heldout, details) if heldout else None
    n_dense = sum(1 for k in keys if (features(graph).get(feature_key(*k)) or {}).get("dense"))
    mean = sum(scores) / len(scores) if scores else None
    report.lines.append(_summary(len(keys), done, mean, trivial, n_dense, opts.max_density))
    facts: dict[str, Any] = {
        "features": len(keys),
        "labelled": len(keys) - len(unlabelled),
        "by_source": by_source,
        "sources": [
            {"name": r.path.name, "format": r.fmt, "entries": r.entries, "matched": len(r.matched)}
            | ({"source_set": r.source_set} if r.source_set else {})
            for r in results
        ],
        "mean_score": round(mean, 4) if mean is not None else None,
        "score_baselines": trivial,
        "dense": n_dense,
    }
    if dash is not None:
        facts["dashboards"] = {
            "tokens": dash.n_tokens,
            "contexts": dash.n_contexts,
            "seconds": round(dash.seconds, 3),
            "device": dash.device,
        }
    if llm_facts:
        facts["llm"] = llm_facts
    report.facts = facts
    return report


def _gather(graph: AttributionGraph, opts: Options, keys: list[tuple[int, int]], report: Report) -> _Evidence:
    """The label sources read and matched, then the dashboards (which replace imported details)."""
    version = graph.metadata.get("schema_version")
    numbers = {k: feature_number(k[0], k[1], version if isinstance(version, int) else 1) for k in keys}
    results = _read_sources(opts, numbers, graph, keys, report)
    imported: dict[tuple[int, int], list[Imported]] = {}
    for result in results:
        for key, item in result.matched.items():
            imported.setdefault(key, []).append(item)
    details = {k: next((i.details for i in imported.get(k, []) if i.details), None) for k in keys}
    density = {k: next((i.density for i in imported.get(k, []) if i.density is not None), None) for k in keys}
    dash = _dashboards(graph, opts.dashboards, keys, details, report, opts.seed)
    heldout = {}
    if dash is not None:
        for k in keys:
            details[k] = dash.details[k]
            density[k] = dash.density[k]
        heldout = dash.heldout
    return _Evidence(results, imported, details, density, heldout, dash)


def _heuristic_labels(
    targets: dict, keys: list[tuple[int, int]], details: dict
) -> dict[tuple[int, int], Any]:
    """The offline explainer's label for every feature with details (in its graph context)."""
    heuristic = {}
    for k in keys:
        if details[k]:
            context = GraphContext(tuple(targets[k].position_tokens), tuple(targets[k].output_tokens))
            found = explain(details[k], context)
            if found:
                heuristic[k] = found
    return heuristic


def _label(
    graph: AttributionGraph,
    opts: Options,
    targets: dict,
    evidence: _Evidence,
    llm_labels: dict,
    llm_errors: dict,
    heuristic: dict,
) -> _Labelled:
    """One label per feature (an earlier run's kept where it outranks this run's), scored, with its
    density and details, written to the graph and its `features` part."""
    existing = features(graph)
    done = _Labelled()
    for k, target in targets.items():
        old = existing.get(feature_key(*k), {})
        candidates = evidence.imported.get(k, [])
        entry = _choose(target, graph, old, candidates, llm_labels.get(k), heuristic.get(k), opts)
        current = str(graph.nodes.label[target.rows[0]])
        earlier = keep_earlier(entry, old, current, overwrite=opts.overwrite)
        if earlier is not None:
            done.kept_earlier[earlier["source"]] = done.kept_earlier.get(earlier["source"], 0) + 1
            entry = earlier
        if entry is None:
            done.unlabelled.append(k)
            continue
        if k in llm_errors:
            entry["llm_error"] = llm_errors[k]
        details, density = evidence.details[k], evidence.density[k]
        _score(entry, evidence.heldout.get(k), old, details)
        if entry.get("score") is not None:
            done.scores.append(entry["score"])
        if density is not None:
            entry["density"] = round(float(density), 6)
            if opts.max_density is not None:
                entry["dense"] = bool(density > opts.max_density)
        if details:
            entry["details"] = details
        set_feature(graph, k[0], k[1], entry)
        graph.nodes.label[target.rows] = entry["label"]
        done.by_source[entry["source"]] = done.by_source.get(entry["source"], 0) + 1
    return done


def _summary(
    n: int, done: _Labelled, mean: float | None, trivial: dict | None, n_dense: int, max_density
) -> str:
    """The command's summary line: how many labelled from where, the mean score beside trivial labels'."""
    return (
        f"{n - len(done.unlabelled)} of {n} features labelled ("
        + ", ".join(f"{c} {s}" for s, c in sorted(done.by_source.items()))
        + ")"
        + (f"; mean label score {mean:.3f} over {len(done.scores)}" if mean is not None else "")
        + (
            f" (trivial labels on the same features: the most common token "
            f"{trivial['most_common_token_label']!r} {trivial['most_common_token']:.3f}, "
            f"shuffled labels {trivial['shuffled']:.3f})"
            if trivial
            else ""
        )
        + (f"; {n_dense} dense (> {max_density:g})" if n_dense else "")
    )


def _read_sources(
    opts: Options,
    numbers: dict[tuple[int, int], int],
    graph: AttributionGraph,
    keys: list[tuple[int, int]],
    report: Report,
) -> list[SourceResult]:
    hint = " ".join(str(x) for x in (graph.scan, graph.info.get("transcoder_set", "")))
    results = []
    for path in opts.sources:
        if is_neuronpedia_source(path):
            results.append(_from_neuronpedia(graph, keys, opts, report))
            continue
        result = read_source(path, numbers, source_set=opts.source_set, graph_hint=hint)
        missing = result.unmatched(keys)
        if not result.matched:
            raise SourceError(
                f"{path}: matched 0 of {len(keys)} graph features ({result.fmt}, {result.entries:,} entries"
                + (f", source set {result.source_set!r}" if result.source_set else "")
                + f"; the graph has e.g. {', '.join(feature_key(*k) for k in keys[:3])})"
            )
        shown = ", ".join(feature_key(*k) for k in missing[:SHOW_UNMATCHED])
        report.lines.append(
            f"{path.name} ({result.fmt}"
            + (_set_note(result, opts.source_set) if len(result.sets) > 1 else "")
            + f"): matched {len(result.matched)} of {len(keys)} graph features"
            + (f"; unmatched: {shown}{', ...' if len(missing) > SHOW_UNMATCHED else ''}" if missing else "")
        )
        results.append(result)
    return results


def _set_note(result: SourceResult, wanted: str | None) -> str:
    """Which of a file's several source sets was imported, and why (never a silent pick)."""
    from attrgraph_cli.autointerp.import_neuronpedia import set_list

    why = "--source-set" if wanted is not None else "named by the graph's scan"
    return f", source set {result.source_set!r} ({why}) of {set_list(result.sets)}"


def _held(results: list[SourceResult]) -> str:
    """What the given sources held for the graph's features, for the 'nothing labelled' message."""
    parts = []
    for r in results:
        labels = sum(1 for item in r.matched.values() if item.label)
        details = sum(1 for item in r.matched.values() if item.details)
        parts.append(
            f"{r.path.name} ({r.fmt}, {r.entries:,} entries): {len(r.matched)} of the graph's features "
            f"matched, {labels} with a label, {details} with feature details"
        )
    return "; ".join(parts)


def _from_neuronpedia(
    graph: AttributionGraph, keys: list[tuple[int, int]], opts: Options, report: Report
) -> SourceResult:
    """`-l neuronpedia`: the graph's features from Neuronpedia's API (cached; see import_neuronpedia_api)."""
    from attrgraph_cli.autointerp.import_neuronpedia_api import NAME, fetch, to_imported

    got = fetch(graph.metadata, keys, source_set=opts.source_set, progress=opts.dashboards.progress)
    result = SourceResult(Path(NAME), "neuronpedia-api", len(keys), source_set=got.source_set)
    for key in keys:
        row = got.rows.get(key)
        if row is not None:
            result.matched[key] = to_imported(key, row, opts.neuronpedia_details)
    missing = [k for k in keys if got.rows.get(k) is None]
    unlabelled = [k for k, item in result.matched.items() if item.label is None]
    shown = ", ".join(feature_key(*k) for k in missing[:SHOW_UNMATCHED])
    report.lines.append(
        f"neuronpedia ({got.model}/{got.source_set} at {got.base}): {len(result.matched)} of {len(keys)} "
        f"features found, {len(missing)} not found"
        + (f" ({shown}{', ...' if len(missing) > SHOW_UNMATCHED else ''})" if missing else "")
        + (f", {len(unlabelled)} without an explanation" if unlabelled else "")
        + f"; {got.requests} request{'s' if got.requests != 1 else ''}, {got.cached} from the cache"
    )
    return result


def _dashboards(
    graph: AttributionGraph,
    dopts: DashboardOptions,
    keys: list[tuple[int, int]],
    details: dict[tuple[int, int], Any],
    report: Report,
    seed: int,
):
    if dopts.mode == "off":
        return None
    model_name, tc_name = recorded_model(graph)
    explicit = dopts.model is not None or dopts.transcoders is not None
    on_demo = not explicit and model_name in (None, DEMO_MODEL)
    if dopts.mode == "auto":
        if all(details[k] for k in keys):
            return None
        if not (explicit or dopts.corpus is not None or model_name == DEMO_MODEL):
            if model_name:
                report.warnings.append(
                    f"no dashboards: pass --dashboards --model {model_name!r} (and --corpus) to compute them"
                )
            return None
    from attrgraph_cli.autointerp.corpus import demo_documents, read_documents
    from attrgraph_cli.autointerp.dashboards import compute_dashboards
    from attrgraph_cli.models import ModelRequest, load_model

    if on_demo:
        request = ModelRequest(device=dopts.device, dtype=dopts.dtype)
    elif explicit:
        request = ModelRequest(dopts.model, dopts.transcoders, device=dopts.device, dtype=dopts.dtype)
    else:  # a file does not choose what is downloaded (issue 23): the user names a recorded hub model
        from attrgraph_cli.intervene.model import hub_refusal

        first = "dashboards need --corpus FILE; also " if dopts.corpus is None else ""
        raise AttrgraphError(first + hub_refusal(model_name, tc_name))
    if dopts.corpus is not None:
        documents = read_documents(dopts.corpus)
        max_tokens = dopts.corpus_tokens or 1_000_000
        corpus_name = dopts.corpus.name
    elif on_demo:
        max_tokens = dopts.corpus_tokens or 32_768
        documents = demo_documents(max_tokens)
        corpus_name = "demo corpus"
    else:
        raise AttrgraphError(
            f"dashboards for model {request.model or request.transcoders!r} need --corpus FILE"
        )
    import contextlib
    import sys

    with contextlib.redirect_stdout(sys.stderr):  # TransformerLens's "Moving model to device": not on stdout
        loaded = load_model(request)
    result = compute_dashboards(
        loaded.model,
        loaded.tokenizer,
        keys,
        documents,
        device=loaded.device,
        ctx_len=dopts.ctx_len,
        batch_size=dopts.batch_size,
        max_tokens=max_tokens,
        seed=seed,
        progress=dopts.progress,
    )
    report.lines.append(
        f"dashboards: {len(keys)} features over {result.n_tokens:,} tokens of the {corpus_name} "
        f"in {result.seconds:.1f} s on {result.device} "
        f"({result.n_tokens / max(result.seconds, 1e-9):,.0f} tokens/s)"
    )
    return result


def _llm(opts: Options, keys, details, heuristic, report: Report):
    if opts.explainer != "llm":
        return {}, {}, None
    from attrgraph_cli.autointerp.explain_llm import explain_all

    items = {k: details[k] for k in keys if details[k]}
    run = explain_all(items, opts.llm)
    facts = run.summary() | {"endpoint_model": opts.llm.model}
    if run.errors:
        reasons = "; ".join(f"{n}x {r}" for r, n in facts["errors"].items())
        report.warnings.append(
            f"llm endpoint failed for {len(run.errors)} of {len(items)} features ({reasons}); "
            "they keep their heuristic labels"
        )
    report.lines.append(
        f"llm: {len(run.labels)} labels ({run.cached} from the cache, {run.requests} requests)"
    )
    return run.labels, run.errors, facts


def _choose(
    target: Target,
    graph: AttributionGraph,
    old: dict[str, Any],
    imported: list[Imported],
    llm_label: str | None,
    heuristic: Any,
    opts: Options,
) -> dict[str, Any] | None:
    current = str(graph.nodes.label[target.rows[0]]).strip()
    # a person's label: recorded as such, a clerp with no machine provenance, or a machine label edited since
    human = current and (
        old.get("source") == "human"
        or old.get("source") not in MACHINE_SOURCES
        or current != old.get("label")
    )
    if human and not opts.overwrite:
        return {"label": current, "source": "human", "explainer": None}
    for item in imported:
        if item.label:
            return {
                "label": item.label,
                "source": item.source,
                "explainer": item.explainer,
                "source_file": item.source_file,
            }
    if llm_label:
        return {"label": llm_label, "source": "llm", "explainer": f"llm:{opts.llm.model}"}
    if heuristic is not None:
        return {"label": heuristic.label, "source": "heuristic", "explainer": f"heuristic:{heuristic.rule}"}
    if old.get("label") and current == old.get("label"):
        return {k: v for k, v in old.items() if k not in ("layer", "index")}
    return None


def _score(entry: dict[str, Any], heldout: Any, old: dict[str, Any], details: Any = None) -> None:
    from attrgraph_cli.autointerp.score import METHOD, score_label

    if heldout is not None:
        top = details.get("top_logits") if isinstance(details, dict) else None
        found = score_label(entry["label"], heldout, top)
        # below the minimum of held-out positives: no number, "too few examples" in the detail
        entry["score"] = round(found.score, 4) if found and not found.too_few else None
        entry["score_method"] = METHOD if found else None
        if found:
            entry["score_detail"] = found.detail()
    elif old.get("label") == entry["label"] and old.get("score") is not None:
        for name in ("score", "score_method", "score_detail"):
            if name in old:
                entry[name] = old[name]
    else:
        entry["score"] = None
