"""`attrgraph validate`: Neuronpedia schema checks plus the semantic checks the schema cannot express.

Other stages call `validate_document(doc)` or `validate_graph(graph)` and get a list of `Problem`s.
"""

from __future__ import annotations

from attrgraph_cli.validate.engine import validate_bytes, validate_document, validate_graph
from attrgraph_cli.validate.problems import Problem, ProblemSink

__all__ = ["Problem", "ProblemSink", "validate_bytes", "validate_document", "validate_graph"]
