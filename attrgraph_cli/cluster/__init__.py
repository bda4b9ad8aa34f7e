"""Automatic supernodes: signals of a feature, constrained hierarchical clustering, names, quality scores.

No torch here: everything is numpy/scipy (only the optional causal check loads a model).
"""

from attrgraph_cli.cluster.engine import ClusterOptions, ClusterResult, Supernode, cluster_graph

__all__ = ["ClusterOptions", "ClusterResult", "Supernode", "cluster_graph"]
