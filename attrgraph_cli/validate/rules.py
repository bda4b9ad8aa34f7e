"""The catalogue of validate's rules: id, default level, one-line description and help text.

SARIF writes it as `tool.driver.rules`; the JUnit and Code Quality reports take their names from it.
A rule a check reports that is not listed here (a newer check) still gets a generic entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from attrgraph_cli.extension import PARTS
from attrgraph_cli.validate.problems import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    level: Severity
    short: str
    help: str


def _r(rule_id: str, level: Severity, short: str, help_text: str) -> Rule:
    return Rule(rule_id, level, short, help_text)


_NEURONPEDIA = "Neuronpedia's graph schema (schemas/neuronpedia-graph.schema.json)"
RULES: tuple[Rule, ...] = (
    _r("json.non-standard-number", "error", "NaN or Infinity in the JSON text",
       "NaN, Infinity and -Infinity are not JSON: browsers' JSON.parse and Neuronpedia reject the whole "
       "file. Write null or a finite number (Python: json.dump(..., allow_nan=False) finds them)."),
    _r("json.duplicate-key", "warning", "A key appears twice in one JSON object",
       "Every JSON reader silently keeps only the last value of a repeated key, so the first is lost. "
       "Checked in files up to 4 MiB."),
    _r("schema.type", "error", "A value has the wrong JSON type",
       f"The value's type differs from the one {_NEURONPEDIA} requires (e.g. a string where a number goes)."),
    _r("schema.required", "error", "A required field is missing",
       f"{_NEURONPEDIA} requires this field; the position is that of the object that lacks it."),
    _r("schema.additional", "error", "A field the schema does not allow",
       f"{_NEURONPEDIA} does not allow this field here (additionalProperties is false)."),
    _r("schema.length", "error", "An array has the wrong number of items",
       f"{_NEURONPEDIA} fixes this array's length (minItems / maxItems)."),
    _r("schema.prefixItems", "error", "A tuple item has the wrong type",
       "Tuples such as qk_tracing_results' [q_node_id, k_node_id, attribution] have a type per item; "
       "draft-07 validators (Neuronpedia's included) silently skip this check."),
    _r("graph.no-logit", "error", "The graph has no logit node",
       'A graph needs at least one node with feature_type "logit": there is nothing to attribute to.'),
    _r("nodes.duplicate-id", "error", "Two nodes share a node_id",
       "node_id identifies a node for links, pins and supernodes: each must be unique in the graph."),
    _r("nodes.ctx-idx", "error", "ctx_idx is outside the prompt",
       "A node's ctx_idx is its token position: 0 <= ctx_idx < len(metadata.prompt_tokens)."),
    _r("nodes.layer", "error", "A layer that is neither a number nor \"E\"",
       'layer is a non-negative integer (or a string of one), or "E" for embedding nodes.'),
    _r("nodes.impossible-layer", "error", "A node at a layer the model does not have",
       "Feature and error nodes sit at 0 <= layer < n_layers (metadata.n_layers, or inferred from the "
       "logit nodes)."),
    _r("nodes.logit-clerp", "error", "A logit node's clerp is not Output \"…\" (p=…)",
       'The viewer parses a logit node\'s clerp as Output " token" (p=0.123), with p in [0, 1].'),
    _r("nodes.influence-not-finite", "error", "influence is NaN or infinite",
       "influence is a cumulative influence share: a finite number in [0, 1]."),
    _r("nodes.activation-not-finite", "error", "activation is NaN or infinite",
       "activation is the feature's activation: a finite number."),
    _r("nodes.influence-range", "error", "influence is outside [0, 1]",
       "influence is a cumulative influence share; the viewer's pruning slider reads it as one."),
    _r("nodes.influence-missing", "warning", "A feature or error node has no influence",
       "The viewer's pruning slider uses influence: without it the node is never pruned."),
    _r("nodes.activation-missing", "warning", "A feature node has no activation",
       "The viewer shows the activation in the node's details."),
    _r("nodes.qk-unknown-node", "error", "A QK contributor that is not a node",
       "QK tracing contributors name a node_id of `nodes` or a key of `qk_only_nodes`."),
    _r("links.endpoint", "error", "A link endpoint that is not a node",
       "A link's source and target are node_ids of `nodes`; the viewer drops links it cannot place."),
    _r("links.weight-not-finite", "error", "A link weight that is NaN or infinite",
       "Link weights are finite numbers (direct effects)."),
    _r("links.duplicate", "warning", "The same (source, target) link twice",
       "A graph has one link per (source, target) pair; the repeat is drawn on top of the first."),
    _r("links.self-loop", "warning", "A link from a node to itself",
       "Attribution graphs have no self-loops; a writer that emits one has a bug."),
    _r("metadata.info-missing", "warning", "metadata.info is missing",
       "The viewer's info panel shows it (generator, creator, source URLs)."),
    _r("metadata.node_threshold-missing", "warning", "metadata.node_threshold is missing",
       "The viewer's default pruning threshold."),
    _r("metadata.node-threshold", "error", "metadata.node_threshold is outside [0, 1]",
       "node_threshold is a cumulative-influence share in [0, 1]."),
    _r("metadata.n-layers", "error", "metadata.n_layers is not a possible number of layers",
       "n_layers (in metadata or metadata.info) counts the model's layers: 1 to 4096; a larger one is damage "
       "(the report's layout has one row per layer)."),
    _r("metadata.prompt-tokens-empty", "warning", "The prompt has no tokens",
       "metadata.prompt_tokens holds one string per prompt token."),
    _r("metadata.schema-version-missing", "warning", "metadata.schema_version is missing",
       "Without it, feature numbers are read with the legacy layer*100000+index convention instead of "
       "circuit-tracer's Cantor pairing (schema_version 1, circuit-tracer >= 0.2)."),
    _r("qparams.unknown-node", "warning", "A pinned, clicked or supernode id that is not a node",
       "qParams.pinnedIds, clickedId and supernode members name node_ids of `nodes`."),
    _r("qparams.supernode", "error", "A supernode that is not [name, node_id, ...]",
       "qParams.supernodes is a list of string arrays: a name, then the node_ids of its members."),
    _r("features.index", "error", "A feature-details index that is not a feature number",
       "index is a non-negative integer."),
    _r("features.index-name", "error", "The index differs from the file name",
       "The viewer fetches {feature_json_base_url}/{index}.json: the file name is the index."),
    _r("features.file-name", "warning", "The file name is not the feature index",
       "The viewer fetches {feature_json_base_url}/{index}.json: name the file {index}.json."),
    _r("features.example-length", "error", "Activations and tokens of an example differ in number",
       "tokens_acts_list holds one activation per token of the example."),
    _r("features.activation-not-finite", "error", "An example activation that is NaN or infinite",
       "Activations are finite numbers."),
    _r("features.top_logits-missing", "warning", "top_logits is missing",
       "The feature card shows the top logits."),
    _r("features.bottom_logits-missing", "warning", "bottom_logits is missing",
       "The feature card shows the bottom logits."),
    _r("extension.type", "error", "The attrgraph extension is not an object",
       "The top-level key `attrgraph` is an object of parts: history, features, supernodes, interventions."),
    _r("extension.version", "error", "attrgraph.version is not a positive integer",
       "The extension's version is a positive integer."),
    _r("extension.unknown-part", "warning", "An attrgraph extension part this version does not know",
       "Kept and not checked: a newer attrgraph may have written it."),
    *(
        _r(f"extension.{part}", "error", f"attrgraph.{part} does not match its schema",
           f"The part's shape is the JSON Schema schemas/extension/{schema}.")
        for part, schema in PARTS.items()
    ),
    _r("extension.features-key", "error", "A feature entry keyed by another feature",
       "attrgraph.features is keyed \"{layer}_{index}\" of the feature each entry describes."),
    _r("extension.supernodes-unknown", "warning", "Metadata for a supernode that does not exist",
       "attrgraph.supernodes.groups[].name names a supernode of qParams.supernodes."),
    _r("extension.interventions-node", "warning", "An intervention on a node not in the graph",
       "attrgraph.interventions[].spec[].nodes name node_ids of `nodes`."),
)  # fmt: skip
BY_ID = {rule.id: rule for rule in RULES}


def rule_info(rule_id: str, level: Severity = "error") -> Rule:
    """The catalogue entry of `rule_id`, or a generic one for a rule the catalogue does not know."""
    generic = "A check this catalogue does not describe yet: see the result's message."
    return BY_ID.get(rule_id) or Rule(rule_id, level, f"attrgraph check {rule_id}", generic)
