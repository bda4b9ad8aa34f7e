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
                scores=key_values(info.get("scores"), 60),
            )
        )
    seed = meta.get("seed")
    return SupernodeSet(
        method=cell(meta.get("method", ""), 300),
        seed="" if seed is None else cell(seed, 30),
        settings=key_values(meta.get("settings"), 80),
        scores=key_values(meta.get("scores"), 80),
        groups=groups,
    )


SECTION = Section("supernodes", "pdf_sections/supernodes.html.j2", build)
