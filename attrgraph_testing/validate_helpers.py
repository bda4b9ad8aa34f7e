"""Documents for the validate tests: a small valid graph (and copies of it to break)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_testing.cli import CliResult, run_cli
from attrgraph_testing.synthetic import random_graph


def unique_graph(n_links: int, seed: int = 0) -> AttributionGraph:
    """`random_graph` without the node-id collisions it can produce (same layer, position and index)."""
    graph = random_graph(n_links=n_links, seed=seed)
    _, first = np.unique(graph.nodes.ids.astype(str), return_index=True)
    keep = np.zeros(len(graph.nodes), dtype=bool)
    keep[first] = True
    graph = graph.subgraph(keep)
    graph.metadata["info"] = {"generator": {"name": "attrgraph tests"}}
    return graph


_CACHE: dict[tuple[int, int], dict] = {}


def valid_document(n_links: int = 300, seed: int = 0) -> dict:
    """A fresh deep copy of a valid Neuronpedia graph document (no errors, no warnings)."""
    from attrgraph_cli.io.neuronpedia_json import graph_to_document

    key = (n_links, seed)
    if key not in _CACHE:
        _CACHE[key] = graph_to_document(unique_graph(n_links, seed))
    return copy.deepcopy(_CACHE[key])


def feature_details(index: int = 7) -> dict:
    return {
        "index": index,
        "examples_quantiles": [
            {
                "quantile_name": "Top",
                "examples": [{"tokens_acts_list": [0.0, 1.5, 0.2], "tokens": ["a", "b", "c"]}],
            }
        ],
        "top_logits": [" x", " y"],
        "bottom_logits": [" z"],
    }


def run(*args: str, cwd: Path | None = None) -> CliResult:
    """`attrgraph validate ARGS` in a fresh process (tracebacks not enabled), text output captured."""
    return run_cli("validate", *args, fresh=True, cwd=cwd, env={"ATTRGRAPH_DEBUG": ""}, timeout=300)
