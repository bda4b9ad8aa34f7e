"""`cluster --rename OLD=NEW`: rename supernodes from the command line (the viewer's ✎, without a browser).

The name changes in `qParams.supernodes` (what Neuronpedia reads) and in `attrgraph.supernodes.groups`
(whose origin becomes "human" and naming "renamed"); members and scores stay.
"""

from __future__ import annotations

import copy

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.graph.model import AttributionGraph


def parse_renames(values: list[str]) -> list[tuple[str, str]]:
    """`OLD=NEW` pairs (split at the first `=`), refused when a side is empty or a name repeats."""
    pairs = []
    for value in values:
        old, sep, new = value.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise AttrgraphError(f"--rename {value!r}: use --rename 'OLD NAME=NEW NAME'")
        pairs.append((old, new))
    olds = [o for o, _ in pairs]
    if len(set(olds)) != len(olds):
        raise AttrgraphError("--rename names one supernode twice")
    return pairs


def rename_supernodes(graph: AttributionGraph, pairs: list[tuple[str, str]]) -> list[str]:
    """Rename in place; return one line per rename. Unknown or taken names are refused (nothing changes)."""
    from attrgraph_cli.extension import set_supernode_set, supernode_set

    names = [entry[0] for entry in graph.supernodes]
    mapping = dict(pairs)
    for old, _ in pairs:
        if old not in names:
            known = ", ".join(repr(n) for n in names[:10]) or "none"
            raise AttrgraphError(f"--rename: no supernode named {old!r} (the graph has: {known})")
    after = [mapping.get(n, n) for n in names]
    clash = {n for n in after if after.count(n) > 1}
    if clash:
        raise AttrgraphError(f"--rename: a supernode named {sorted(clash)[0]!r} already exists")
    ids = set(graph.nodes.ids.tolist())
    for _, new in pairs:  # a target such as `--ablate NAME` would not know which one is meant
        if new in ids:
            raise AttrgraphError(
                f"--rename: {new!r} is a node id of the graph; give the supernode another name"
            )
    graph.qparams["supernodes"] = [[mapping.get(e[0], e[0]), *e[1:]] for e in graph.supernodes]
    record = supernode_set(graph)
    groups = record.get("groups") if isinstance(record, dict) else None
    if isinstance(groups, list):
        record = copy.deepcopy(record)
        for group in record["groups"]:
            if isinstance(group, dict) and group.get("name") in mapping:
                group["name"] = mapping[group["name"]]
                group["origin"] = "human"
                group["naming"] = "renamed"
        set_supernode_set(graph, record)
    return [f"renamed supernode {old!r} to {new!r}" for old, new in pairs]
