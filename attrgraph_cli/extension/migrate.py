"""Bring a graph written before the extension contract to it, once, on load.

Older files (and older attrgraph versions) kept what is now under `attrgraph` elsewhere:

- `metadata.info.attrgraph.{trace,convert}`: one provenance dict per stage (keys differed per stage)
  -> `attrgraph.history` records;
- top-level `feature_details` (feature number / `layer_index` / node id -> Neuronpedia feature object)
  -> `attrgraph.features[...].details` (labels from the object's explanations when it has one);
- top-level `interventions` (`[{name, set: {node_id: value}, top_logits_before, top_logits_after}]`)
  -> `attrgraph.interventions` records;
- CLT-Forge's `intervention_top_tokens` (kept by its reader as `clt_forge_interventions`: per feature, a
  sweep of absolute values with the top tokens and the baseline token's probability)
  -> one `attrgraph.interventions` record of kind `clt-forge` per feature.

Every reader after `load_graph` sees only the contract: nothing else guesses shapes.
"""

from __future__ import annotations

import math
from typing import Any

from attrgraph_cli.graph import ids
from attrgraph_cli.graph.model import AttributionGraph, NodeKind


def migrate(graph: AttributionGraph) -> AttributionGraph:
    """Move legacy keys of `graph` into the `attrgraph` extension (in place; returns the graph)."""
    _migrate_info(graph)
    _migrate_feature_details(graph)
    _migrate_interventions(graph)
    _migrate_clt_forge(graph)
    return graph


# ---- provenance ---------------------------------------------------------------------------------


def _migrate_info(graph: AttributionGraph) -> None:
    from attrgraph_cli.extension.parts import append_history, history

    info = graph.metadata.get("info")
    old = info.get("attrgraph") if isinstance(info, dict) else None
    if not isinstance(old, dict):
        return
    known = {r.get("stage") for r in history(graph) if isinstance(r, dict)}
    for stage in ("trace", "convert"):  # the order in which they can have run
        record = old.get(stage)
        if isinstance(record, dict) and stage not in known:
            append_history(graph, _legacy_record(stage, record, info))
    # stage records that are not provenance (e.g. renamed error nodes) stay where they are
    rest = {k: v for k, v in old.items() if k not in ("trace", "convert")}
    if rest:
        info["attrgraph"] = rest
    else:
        del info["attrgraph"]


def _legacy_record(stage: str, record: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    import datetime

    version = record.get("attrgraph_version", record.get("version", "unknown"))
    settings = record.get("settings") if isinstance(record.get("settings"), dict) else {}
    started = record.get("time")
    if not isinstance(started, str):
        ms = info.get("create_time_ms")
        started = (
            datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).isoformat(timespec="seconds")
            if isinstance(ms, (int, float)) and math.isfinite(ms) and 0 <= ms < 1e14
            else ""
        )
    wall = record.get("wall_time_s")
    duration = sum(v for v in wall.values() if isinstance(v, (int, float))) if isinstance(wall, dict) else 0.0
    source = record.get("source")
    inputs = (
        [
            {
                "name": str(source),
                "role": "graph",
                "format": str(record.get("source_format", "")),
                "sha256": None,
            }
        ]
        if source
        else []
    )
    details = {
        k: v for k, v in record.items() if k not in ("settings", "version", "attrgraph_version", "time")
    }
    details["migrated_from"] = f"metadata.info.attrgraph.{stage}"
    return {
        "stage": stage,
        "attrgraph_version": str(version),
        "settings": settings,
        "inputs": inputs,
        "started": started,
        "duration_s": float(max(duration, 0.0)) if math.isfinite(duration) else 0.0,
        "details": details,
    }


# ---- feature details ----------------------------------------------------------------------------


def _migrate_feature_details(graph: AttributionGraph) -> None:
    from attrgraph_cli.extension.parts import feature_key, writable_part

    details = graph.extra.get("feature_details")
    if not isinstance(details, dict):
        return
    version = graph.metadata.get("schema_version", 1)
    version = version if isinstance(version, int) else None
    nodes = graph.nodes
    features = writable_part(graph, "features")
    moved: set[str] = set()
    for nid, kind, layer, index, clerp in zip(
        nodes.ids.tolist(),
        nodes.kind.tolist(),
        nodes.layer.tolist(),
        nodes.feature.tolist(),
        nodes.label.tolist(),
        strict=True,
    ):
        if kind != NodeKind.FEATURE or index < 0:
            continue
        fkey = feature_key(layer, index)
        for cand in (str(ids.feature_number(layer, index, version)), str(nid), fkey, f"{layer}-{index}"):
            detail = details.get(cand)
            if isinstance(detail, dict):
                moved.add(cand)
                if fkey not in features:
                    features[fkey] = _feature_entry(layer, index, detail, str(clerp))
                break
    leftover = {k: v for k, v in details.items() if k not in moved}
    if leftover:  # details of features that are not nodes of this graph: kept, but out of the way
        graph.extra["feature_details"] = leftover
    else:
        del graph.extra["feature_details"]


def _feature_entry(layer: int, index: int, detail: dict[str, Any], clerp: str) -> dict[str, Any]:
    explanations = detail.get("explanations")
    label = ""
    if isinstance(explanations, list):
        label = next(
            (str(e["description"]) for e in explanations if isinstance(e, dict) and e.get("description")), ""
        )
    quantiles = detail.get("examples_quantiles")
    clean = {
        "index": detail.get("index", index) if isinstance(detail.get("index"), (int, float)) else index,
        "examples_quantiles": _clean_quantiles(quantiles),
    }
    for key in ("top_logits", "bottom_logits"):
        if isinstance(detail.get(key), list):
            clean[key] = [str(t) for t in detail[key]]
    density = detail.get("frac_nonzero", detail.get("density", detail.get("act_density")))
    density = float(density) if isinstance(density, (int, float)) and 0 <= density <= 1 else None
    return {
        "layer": int(layer),
        "index": int(index),
        "label": clerp or label,
        "source": "graph" if clerp else "feature-details",
        "explainer": None,
        "density": density,
        "details": clean,
    }


def _clean_quantiles(quantiles: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(quantiles, list):
        return out
    for q in quantiles:
        if not isinstance(q, dict) or not isinstance(q.get("examples"), list):
            continue
        examples = []
        for ex in q["examples"]:
            if isinstance(ex, dict) and isinstance(ex.get("tokens"), list):
                acts = ex.get("tokens_acts_list") if isinstance(ex.get("tokens_acts_list"), list) else []
                examples.append(
                    {
                        "tokens": [str(t) for t in ex["tokens"]],
                        "tokens_acts_list": [
                            float(a) if isinstance(a, (int, float)) and math.isfinite(a) else 0.0
                            for a in acts
                        ],
                    }
                )
        out.append({"quantile_name": str(q.get("quantile_name", "")), "examples": examples})
    return out


# ---- interventions ------------------------------------------------------------------------------


def _migrate_interventions(graph: AttributionGraph) -> None:
    from attrgraph_cli.extension.parts import append_intervention

    raw = graph.extra.get("interventions")
    if raw is None:
        return
    entries = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    for n, entry in enumerate(entries, start=1):
        if isinstance(entry, dict):
            append_intervention(graph, _intervention_record(entry, n))
    del graph.extra["interventions"]


def _intervention_record(entry: dict[str, Any], n: int) -> dict[str, Any]:
    setting = entry.get("set", entry.get("interventions", entry.get("features")))
    spec = []
    if isinstance(setting, dict):
        for node_id, value in setting.items():
            number = float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
            spec.append({"op": "set", "nodes": [str(node_id)], "value": number, "text": f"{node_id}={value}"})
    elif isinstance(setting, list):
        for item in setting:
            if isinstance(item, dict):
                node_id = item.get("id", item.get("node", item.get("feature", "")))
                value = item.get("value", item.get("set"))
            elif isinstance(item, (list, tuple)) and len(item) >= 2:
                node_id, value = item[0], item[-1]
            else:
                continue
            number = float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
            spec.append({"op": "set", "nodes": [str(node_id)], "value": number, "text": f"{node_id}={value}"})
    record: dict[str, Any] = {
        "name": str(entry.get("name") or entry.get("description") or f"Intervention {n}"),
        "kind": "intervention",
        "spec": spec,
        "settings": {},
        "model": None,
        "targets": [],
        "top_before": _pairs(entry.get("top_logits_before", entry.get("before"))),
        "top_after": _pairs(entry.get("top_logits_after", entry.get("after"))),
    }
    return record


def _pairs(value: Any) -> list[list[Any]]:
    if isinstance(value, dict):
        value = list(value.items())
    out: list[list[Any]] = []
    if not isinstance(value, list):
        return out
    for item in value:
        if isinstance(item, (list, tuple)) and len(item) >= 2 and isinstance(item[1], (int, float)):
            if math.isfinite(item[1]):
                out.append([str(item[0]), float(item[1])])
        elif isinstance(item, dict):
            token = item.get("token", item.get("text", ""))
            prob = next((item[k] for k in ("probability", "prob", "p") if k in item), None)
            if isinstance(prob, (int, float)) and math.isfinite(prob):
                out.append([str(token), float(prob)])
    return out


# ---- CLT-Forge intervention sweeps --------------------------------------------------------------


def _migrate_clt_forge(graph: AttributionGraph) -> None:
    from attrgraph_cli.extension.parts import append_intervention

    raw = graph.extra.get("clt_forge_interventions")
    if raw is None:
        return
    nodes = graph.nodes
    logit_rows = [
        i
        for i, (k, f) in enumerate(zip(nodes.kind.tolist(), nodes.feature.tolist(), strict=True))
        if k == NodeKind.LOGIT and f >= 0
    ]
    logit_tokens = {int(nodes.feature[i]): str(nodes.logit_token[i]) for i in logit_rows}
    logit_ids = {int(nodes.feature[i]): str(nodes.ids[i]) for i in logit_rows}
    node_ids = set(graph.nodes.ids.tolist())
    for entry in raw if isinstance(raw, list) else []:
        record = _clt_forge_record(entry, logit_tokens, logit_ids, node_ids, graph.scan or None)
        if record is not None:
            append_intervention(graph, record)
    del graph.extra["clt_forge_interventions"]


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def _prob(x: Any) -> float | None:
    v = _finite(x)
    return None if v is None else min(max(v, 0.0), 1.0)


def _clt_forge_record(
    entry: Any, tokens: dict[int, str], logits: dict[int, str], node_ids: set[str], model: str | None
) -> dict[str, Any] | None:
    info = entry.get("feature_info") if isinstance(entry, dict) else None
    runs = entry.get("interventions") if isinstance(entry, dict) else None
    if not isinstance(info, dict) or not isinstance(runs, list):
        return None
    layer, pos, index = (info.get(k) for k in ("layer", "position", "feature_idx"))
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (layer, pos, index)):
        return None
    node = f"{layer}_{index}_{pos}"
    runs = [r for r in runs if isinstance(r, dict) and _finite(r.get("intervention_value")) is not None]
    if not runs:
        return None
    values = [_finite(r["intervention_value"]) for r in runs]
    tops = []
    for r in runs:
        toks, probs = r.get("tokens"), r.get("probabilities")
        pairs = []
        if isinstance(toks, list) and isinstance(probs, list):
            pairs = [[str(t), p] for t, p in zip(toks, map(_prob, probs), strict=False) if p is not None]
        tops.append(pairs)
    base_id = runs[0].get("baseline_token")
    base_id = int(base_id) if isinstance(base_id, int) and not isinstance(base_id, bool) else None
    token = tokens.get(base_id, f"<token {base_id}>") if base_id is not None else "<baseline token>"
    p_before = _prob(runs[0].get("baseline_prob_original"))
    series = [_prob(r.get("baseline_prob_after_intervention")) for r in runs]
    return {
        "name": f"CLT-Forge: layer {layer} feature {index} at position {pos}",
        "kind": "clt-forge",
        "spec": [
            {
                "op": "set",
                "nodes": [node] if node in node_ids else [],
                "supernode": None,
                "value": None,
                "multiple": None,
                "positions": [pos],
                "source_prompt": None,
                "text": f"{node}=" + ",".join(f"{v:g}" for v in values),
            }
        ],
        "settings": {},
        "model": model,
        "targets": [
            {
                "token": token,
                "node": logits.get(base_id) if base_id is not None else None,
                "p_before": p_before,
                "p_after": series[0],
            }
        ],
        "top_before": [],
        "top_after": tops[0],
        "sweep": {
            "parameter": "value",
            "values": values,
            "series": [{"token": token, "p": series}],
            "top": tops,
        },
        "source": "CLT-Forge intervention_top_tokens",
    }
