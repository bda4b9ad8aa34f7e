"""Graph file readers and writers. `load_graph(path)` reads any supported format; `save_graph` writes JSON.

Nothing here imports torch at import time: only the `.pt` readers do, when they are called.
"""

from __future__ import annotations

import os
from typing import Any

from attrgraph_cli.graph.model import AttributionGraph
from attrgraph_cli.graph.prune import DEFAULT_EDGE_THRESHOLD, DEFAULT_NODE_THRESHOLD
from attrgraph_cli.io.sniff import FORMATS, detect_format

__all__ = ["FORMATS", "detect_format", "load_graph", "save_graph"]


def load_graph(
    path: str | os.PathLike[str],
    *,
    node_threshold: float = DEFAULT_NODE_THRESHOLD,
    edge_threshold: float = DEFAULT_EDGE_THRESHOLD,
    trust_pickle: bool = False,
    **options: Any,
) -> AttributionGraph:
    """Read the graph at `path`, whatever its format (see `detect_format`).

    Unpruned inputs (circuit-tracer `.pt`, matrices) are pruned with `node_threshold` / `edge_threshold`;
    `.pt` files are unpickled only safely unless `trust_pickle`. Bad input raises `GraphFormatError` or
    `UnsafePickleError`, each with a one-line message. Legacy keys are moved into the `attrgraph`
    extension (`extension.migrate`), so every caller sees only the contract.
    """
    from attrgraph_cli.extension import migrate

    return migrate(_read_any(path, node_threshold, edge_threshold, trust_pickle, options))


def _read_any(
    path: str | os.PathLike[str],
    node_threshold: float,
    edge_threshold: float,
    trust_pickle: bool,
    options: dict[str, Any],
) -> AttributionGraph:
    fmt = detect_format(path)
    if fmt == "neuronpedia-json":
        from attrgraph_cli.io.neuronpedia_json import read_json

        return read_json(path)
    if fmt == "matrix-npz":
        from attrgraph_cli.io.matrix import read_matrix_npz

        return read_matrix_npz(path, node_threshold=node_threshold, edge_threshold=edge_threshold)
    if fmt == "matrix-pt":
        from attrgraph_cli.io.matrix import read_matrix_pt

        return read_matrix_pt(
            path, trust_pickle=trust_pickle, node_threshold=node_threshold, edge_threshold=edge_threshold
        )
    if fmt == "pdf-bundle":
        from attrgraph_cli.io.pdf_bundle import read_pdf_bundle

        return read_pdf_bundle(path)
    if fmt == "svg-bundle":
        from attrgraph_cli.io.svg_bundle import read_svg_bundle

        return read_svg_bundle(path)
    if fmt == "clt-forge-pt":
        from attrgraph_cli.io.clt_forge import read_clt_forge

        return read_clt_forge(path, trust_pickle=trust_pickle)
    from attrgraph_cli.io.circuit_tracer_pt import read_circuit_tracer_pt

    return read_circuit_tracer_pt(
        path,
        node_threshold=node_threshold,
        edge_threshold=edge_threshold,
        trust_pickle=trust_pickle,
        tokenizer=options.get("tokenizer"),
    )


def save_graph(graph: AttributionGraph, path: str | os.PathLike[str], *, indent: bool = False) -> None:
    """Write `graph` as Neuronpedia graph JSON (orjson), atomically."""
    from attrgraph_cli.io.neuronpedia_json import write_json

    write_json(graph, path, indent=indent)
