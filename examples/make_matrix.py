"""Write `matrix.npz`: a small, seeded attribution matrix in the layout `attrgraph convert` reads.

    python examples/make_matrix.py [OUT.npz]      # then: attrgraph convert matrix.npz -o matrix.json

2 layers, 3 prompt tokens, 4 features, 2 logits. Node order (rows = targets, columns = sources): features,
error nodes (layer-major), tokens, logits; see docs/formats.md for every key.
"""

from __future__ import annotations

import sys

import numpy as np


def main(out: str = "matrix.npz") -> None:
    rng = np.random.default_rng(0)
    features = np.array([[0, 1, 10], [0, 2, 11], [1, 2, 20], [1, 1, 21]])  # layer, position, feature index
    n_layers, tokens, logits = 2, ["The", "capital", "is"], ["Austin", "Paris"]
    n = len(features) + n_layers * len(tokens) + len(tokens) + len(logits)
    adjacency = np.zeros((n, n), dtype=np.float32)
    f, e, t = len(features), len(features) + n_layers * len(tokens), n - len(logits)
    adjacency[:f, e:t] = rng.normal(size=(f, len(tokens)))  # tokens -> features
    adjacency[2:4, 0:2] = rng.normal(size=(2, 2))  # layer-0 features -> layer-1 features
    adjacency[t:, :f] = rng.normal(size=(len(logits), f))  # features -> logits
    adjacency[t:, f:e] = 0.1 * rng.normal(size=(len(logits), e - f))  # errors -> logits
    np.savez(
        out,
        adjacency_matrix=adjacency,
        features=features,
        tokens=np.array(tokens),
        n_layers=n_layers,
        logit_tokens=np.array(logits),
        logit_probabilities=np.array([0.9, 0.1]),
        activations=np.abs(rng.normal(size=len(features))).astype(np.float32),
        prompt="The capital is",
    )
    print(f"wrote {out}: {n} nodes ({f} features)")


if __name__ == "__main__":
    main(*sys.argv[1:2])
