"""Supernodes: `qParams.supernodes` (members) with the `attrgraph.supernodes` metadata (method, seed,
settings, set-level scores; per group its origin, how it was named and its scores)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attrgraph_cli import extension
from attrgraph_cli.report.sections.context import ReportContext, Section
from attrgraph_cli.report.semantics import supernode_color
from attrgraph_cli.report.tables import NodeRow, cell, key_values, node_row


@dataclass
class Group:
    name: str
    colour: str
    members: list[NodeRow]
    missing: list[str]
    origin: str
    naming: str
    scores: list[tuple[str, str]]


@dataclass
class SupernodeSet:
    method: str
    seed: str
    settings: list[tuple[str, str]]
    scores: list[tuple[str, str]]
    groups: list[Group]
    quality: list[tuple[str, str, str, str]]


def build(report: ReportContext) -> SupernodeSet | None:
    graph = report.graph
    meta: dict[str, Any] = extension.supernode_set(graph)
    listed = meta.get("groups") if isinstance(meta.get("groups"), list) else []
    by_name = {str(g["name"]): g for g in listed if isinstance(g, dict) and "name" in g}
    if not graph.supernodes and not meta:
        return None
    index = {nid: i for i, nid in enumerate(graph.nodes.ids.tolist())}
    groups = []
    for k, (name, *members) in enumerate(graph.supernodes):
        info = by_name.get(name, {})
        groups.append(
            Group(
                name=cell(name, 120),
                colour=supernode_color(k),
                members=[node_row(graph, index[m], sem=report.sem) for m in members if m in index],
                missing=[cell(m, 40) for m in members if m not in index],
                origin=cell(info.get("origin", ""), 20),
                naming=cell(info.get("naming") or "", 120),
                scores=_group_scores(info.get("scores")),
            )
        )
    seed = meta.get("seed")
    quality = _quality(meta.get("scores"))
    return SupernodeSet(
        method=cell(meta.get("method", ""), 300),
        seed="" if seed is None else cell(seed, 30),
        settings=key_values(meta.get("settings"), 80),
        scores=[] if quality else key_values(meta.get("scores"), 80),
        groups=groups,
        quality=quality,
    )


def _quality(scores: Any) -> list[tuple[str, str, str, str]]:
    """`attrgraph cluster`'s quality table (ours vs baseline / control), when the scores have its shape."""
    from attrgraph_cli.cluster.quality import quality_rows

    try:
        rows = quality_rows(scores) if isinstance(scores, dict) else []
    except (KeyError, TypeError, AttributeError, ValueError):
        return []
    return [(cell(a, 80), cell(b, 30), cell(c, 60), cell(d, 20)) for a, b, c, d in rows]


def _group_scores(scores: Any) -> list[tuple[str, str]]:
    """A group's scores: cluster's short form when it has that shape, else every key."""
    from attrgraph_cli.cluster.quality import group_rows

    rows = group_rows(scores)
    return [(cell(k, 40), cell(v, 40)) for k, v in rows] if rows else key_values(scores, 60)


SECTION = Section("supernodes", "pdf_sections/supernodes.html.j2", build)
