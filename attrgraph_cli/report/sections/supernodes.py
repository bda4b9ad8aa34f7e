"""Supernodes: `qParams.supernodes` (members) with the `attrgraph.supernodes` metadata (method, seed,
settings, set-level scores; per group its origin, how it was named and its scores), from the supernode view
(`report/views.py`) the viewer's Supernodes panel draws."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attrgraph_cli import extension
from attrgraph_cli.report.sections.context import ReportContext, Section
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
    view = report.views.supernodes
    if (not graph.supernodes and not meta) or view is None:
        return None
    index = {nid: i for i, nid in enumerate(graph.nodes.ids.tolist())}
    groups = [
        Group(
            name=group.name,
            colour=group.color,
            members=[
                node_row(graph, index[m], sem=report.sem, links=report.views.links)
                for m in group.ids
                if m in index
            ],
            missing=[cell(m, 40) for m in group.ids if m not in index],
            origin=group.origin,
            naming=group.naming,
            scores=group.scores,
        )
        for group in view.groups
    ]
    seed = meta.get("seed")
    return SupernodeSet(
        method=cell(meta.get("method", ""), 300),
        seed="" if seed is None else cell(seed, 30),
        settings=key_values(meta.get("settings"), 80),
        scores=[] if view.quality else key_values(meta.get("scores"), 80),
        groups=groups,
        quality=view.quality,
    )


SECTION = Section("supernodes", "pdf_sections/supernodes.html.j2", build)
