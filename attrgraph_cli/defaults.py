"""Defaults shared by the CLI's option declarations and the library, defined once, in a module light
enough for the CLI to import at start (no numpy).

Pruning (circuit-tracer's defaults, `graph/prune.py`): `DEFAULT_NODE_THRESHOLD` is the cumulative node
influence kept, `DEFAULT_EDGE_THRESHOLD` the cumulative edge influence kept; a graph records the node one as
`metadata.node_threshold`. The viewer's node-influence slider (a display filter, not pruning) starts at
the graph's recorded value (`report.semantics.Thresholds.display_influence_threshold`,
`displayInfluenceThreshold` in the viewer; 1.0 when the graph records none).
"""

DEFAULT_NODE_THRESHOLD = 0.8
DEFAULT_EDGE_THRESHOLD = 0.98
