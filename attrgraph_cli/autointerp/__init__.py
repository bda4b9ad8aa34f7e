"""`attrgraph autointerp`: labels, feature dashboards and a label-quality score for a graph's features.

One module per job:
- `targets`: the graph's features (layer, index), their prompt positions and graph neighbours;
- `sources` sniffs a label source by content and dispatches to one importer per format
  (`import_neuronpedia`, `import_details`, `import_clt_forge`, `import_table`);
- `corpus` reads the text a dashboard is computed over; `dashboards` (torch) streams it through a model
  and its transcoders, recording only the graph's features, in Neuronpedia's feature-details shape;
- `examples` reads feature-details objects (peaks, next tokens) for the explainers and the scorer;
- `explain_heuristic` (offline, deterministic) and `explain_llm` (an OpenAI-compatible endpoint) write labels;
- `score`: the label-quality score (detection balanced accuracy of a lexical simulator on held-out tokens);
- `stage`: the stage function that puts it together on the extension contract.

Nothing here imports torch at module level; only `dashboards` uses it, inside its functions.
"""
