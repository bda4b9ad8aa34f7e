"""Feature interventions on a graph's prompt through circuit-tracer's `ReplacementModel`.

Light modules (no torch): `spec` (parse and resolve `--set/--ablate/--scale/--swap-from/--sweep`), `predict`
(the graph's linearised prediction of a change), `plan` (JSONL/YAML plan files), `records` (the
`attrgraph.interventions` records and `--format json`), `clt_forge` (CLT-Forge's sweeps as records).
Heavy ones (torch inside): `model` (which model, and does it match the graph), `runner` (the measurements).
`api` is the small, stable Python entry point for other stages.
"""
