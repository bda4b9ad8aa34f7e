"""The attribution-graph data model, node-id conventions and pruning."""

from attrgraph_cli.graph.model import AttributionGraph, EdgeList, NodeKind, NodeTable

__all__ = ["AttributionGraph", "EdgeList", "NodeKind", "NodeTable"]
