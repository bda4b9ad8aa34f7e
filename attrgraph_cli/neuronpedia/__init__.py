"""Neuronpedia: ids and page links (`ids`), a bounded client for its graph, feature and upload routes."""
