"""Tracing: circuit-tracer attribution graphs from prompts (`attrgraph trace`).

`models` resolves and loads the model + transcoders, `engine` traces one prompt, `batch` runs many,
`progress` shows it, `metadata` records provenance, `export`/`writer` hand the result to io and validate.
Nothing here is imported by the light commands; torch and circuit-tracer load inside functions.
"""
