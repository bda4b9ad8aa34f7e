"""Node-id and feature-number conventions of Neuronpedia / circuit-tracer graph files.

- Feature nodes: id `{layer}_{feature_index}_{pos}`. The `feature` field is the Cantor pairing of
  (layer, feature_index) when `metadata.schema_version` is 1 (circuit-tracer >= 0.2), and the legacy
  `layer * 100000 + feature_index` before that.
- Error nodes: `0_{layer}_{pos}` (circuit-tracer) or `{layer}_-1_{pos}` (older files), feature -1.
- Embeddings: `E_{vocab_id}_{pos}`, layer "E". Logits: `{n_layers + 1}_{vocab_id}_{pos}`.
- Logit clerps: `Output " tok" (p=0.123)`.
"""

from __future__ import annotations

import math
import re

LEGACY_FEATURE_STRIDE = 100_000

LOGIT_CLERP_RE = re.compile(r'^Output "(?P<token>.*)" \(p=(?P<prob>[-+0-9.eE]+|nan|inf)\)$', re.DOTALL)


def cantor_pair(x: int, y: int) -> int:
    """Cantor pairing of two non-negative integers (circuit-tracer's `feature` for schema_version 1)."""
    return (x + y) * (x + y + 1) // 2 + y


def cantor_unpair(z: int) -> tuple[int, int]:
    """Inverse of `cantor_pair`: z -> (x, y)."""
    w = (math.isqrt(8 * z + 1) - 1) // 2
    y = z - w * (w + 1) // 2
    return w - y, y


def feature_number(layer: int, index: int, schema_version: int | None = 1) -> int:
    """The `feature` field written for a transcoder feature."""
    if schema_version and schema_version >= 1:
        return cantor_pair(layer, index)
    return layer * LEGACY_FEATURE_STRIDE + index


def feature_id(layer: int, index: int, pos: int) -> str:
    return f"{layer}_{index}_{pos}"


def error_id(layer: int, pos: int) -> str:
    return f"0_{layer}_{pos}"


def embedding_id(vocab_id: int, pos: int) -> str:
    return f"E_{vocab_id}_{pos}"


def logit_id(n_layers: int, vocab_id: int, pos: int) -> str:
    return f"{n_layers + 1}_{vocab_id}_{pos}"


def logit_clerp(token: str, probability: float) -> str:
    return f'Output "{token}" (p={probability:.3f})'


def parse_logit_clerp(clerp: str) -> tuple[str, float] | None:
    """`Output " tok" (p=0.123)` -> (" tok", 0.123); None when the clerp is not of that form."""
    match = LOGIT_CLERP_RE.match(clerp or "")
    if not match:
        return None
    return match.group("token"), float(match.group("prob"))
