"""`.pt` readers: circuit-tracer Graph files (oracle: circuit-tracer's own JSON), CLT-Forge, safe loading."""

from __future__ import annotations

import importlib
import json
import pickle
import sys

import numpy as np
import pytest

from attrgraph_cli.errors import GraphFormatError, UnsafePickleError
from attrgraph_cli.graph.model import NodeKind
from attrgraph_cli.io import detect_format, load_graph
from attrgraph_cli.io.neuronpedia_json import graph_to_document
from attrgraph_testing.synthetic import random_dense

pytestmark = pytest.mark.trace
torch = pytest.importorskip("torch")


class _FakeTokenizer:
    """Decodes id 7 to '<7>'; stands in for a hub tokenizer (tests never download one)."""

    def decode(self, token_ids):
        ids = token_ids if isinstance(token_ids, list) else [int(token_ids)]
        return "".join(f"<{int(i)}>" for i in ids)


def _ct_graph(seed: int = 1, n_layers: int = 3, n_tokens: int = 4, n_features: int = 40, n_logits: int = 3):
    """A circuit-tracer Graph built straight from random tensors (no model)."""
    from circuit_tracer.attribution.targets import LogitTarget
    from circuit_tracer.graph import Graph
    from transformer_lens import HookedTransformerConfig

    d = random_dense(
        n_layers=n_layers, n_tokens=n_tokens, n_features=n_features, n_logits=n_logits, seed=seed
    )
    cfg = HookedTransformerConfig(
        n_layers=n_layers,
        d_model=8,
        n_ctx=16,
        d_head=4,
        n_heads=2,
        d_mlp=16,
        d_vocab=1000,
        act_fn="relu",
        tokenizer_name="no-such/tokenizer",
    )
    # active features hold extra rows that are not selected, to exercise selected_features
    active = np.concatenate([d["features"], d["features"][:5] + [0, 0, 20000]])
    order = np.random.default_rng(seed).permutation(len(active))
    selected = np.argsort(order)[:n_features]
    active = active[order]
    values = np.concatenate([d["activations"], np.ones(5, dtype=np.float32)])[order]
    return Graph(
        input_string="a b c d",
        input_tokens=torch.arange(100, 100 + n_tokens),
        active_features=torch.tensor(active),
        adjacency_matrix=torch.tensor(d["adjacency"]),
        cfg=cfg,
        selected_features=torch.tensor(selected),
        activation_values=torch.tensor(values),
        logit_targets=[LogitTarget(f" out{k}", 500 + k) for k in range(n_logits)],
        logit_probabilities=torch.tensor(d["logit_probabilities"]),
        scan="test-scan",
    )


@pytest.fixture(scope="module")
def ct_graph():
    return _ct_graph()


@pytest.fixture(scope="module")
def ct_pt(ct_graph, tmp_path_factory):
    path = tmp_path_factory.mktemp("ct") / "graph.pt"
    ct_graph.to_pt(str(path))
    return path


def _circuit_tracer_json(graph, tmp_path, monkeypatch, node_threshold=0.8, edge_threshold=0.98) -> dict:
    module = importlib.import_module("circuit_tracer.utils.create_graph_files")

    class _Auto:
        @staticmethod
        def from_pretrained(name, **kwargs):
            return _FakeTokenizer()

    monkeypatch.setattr(module, "AutoTokenizer", _Auto)
    module.create_graph_files(
        graph, "oracle", str(tmp_path), node_threshold=node_threshold, edge_threshold=edge_threshold
    )
    return json.loads((tmp_path / "oracle.json").read_text())


@pytest.mark.parametrize(("node_threshold", "edge_threshold"), [(0.8, 0.98), (0.5, 0.9)])
def test_matches_circuit_tracer_create_graph_files(tmp_path, monkeypatch, node_threshold, edge_threshold):
    from attrgraph_cli.graph.dense import from_circuit_tracer_graph

    graph = _ct_graph(seed=2)
    ref = _circuit_tracer_json(graph, tmp_path, monkeypatch, node_threshold, edge_threshold)
    ours = graph_to_document(
        from_circuit_tracer_graph(
            graph,
            tokenizer=_FakeTokenizer(),
            slug="oracle",
            node_threshold=node_threshold,
            edge_threshold=edge_threshold,
        )
    )
    ref_nodes = {n["node_id"]: n for n in ref["nodes"]}
    our_nodes = {n["node_id"]: n for n in ours["nodes"]}
    assert list(ref_nodes) == list(our_nodes)  # same ids, same order
    for node_id, ref_node in ref_nodes.items():
        for key, value in ref_node.items():
            if key == "clerp" and ref_node["feature_type"] == "embedding":
                assert our_nodes[node_id][key] == "<" + node_id.split("_")[1] + ">"  # we label embeddings
            elif isinstance(value, float):
                assert our_nodes[node_id][key] == pytest.approx(value, rel=1e-6, abs=1e-9), (node_id, key)
            else:
                assert our_nodes[node_id][key] == value, (node_id, key)
    ref_links = {(lk["source"], lk["target"]): lk["weight"] for lk in ref["links"]}
    our_links = {(lk["source"], lk["target"]): lk["weight"] for lk in ours["links"]}
    assert ref_links.keys() == our_links.keys()
    assert all(our_links[k] == ref_links[k] for k in ref_links)
    for key in (
        "slug",
        "scan",
        "prompt",
        "prompt_tokens",
        "node_threshold",
        "schema_version",
        "transcoder_list",
    ):
        assert ours["metadata"][key] == ref["metadata"][key], key
    assert len(ref["links"]) > 10


def test_circuit_tracer_pt_loads_without_trust_and_without_importing_circuit_tracer(ct_pt, tmp_path):
    assert detect_format(ct_pt) == "circuit-tracer-pt"
    code = (
        "import sys; from attrgraph_cli.io import load_graph; "
        f"g = load_graph({str(ct_pt)!r}); "
        "print(len(g.nodes), 'circuit_tracer' in sys.modules, g.metadata['info']['tokens_from'])"
    )
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 0
    assert out[1] == "False"
    assert out[2] == "placeholders"


def test_circuit_tracer_pt_pruned_like_in_memory(ct_graph, ct_pt):
    from attrgraph_cli.graph.dense import from_circuit_tracer_graph

    loaded = load_graph(ct_pt, node_threshold=0.7, edge_threshold=0.95)
    direct = from_circuit_tracer_graph(ct_graph, node_threshold=0.7, edge_threshold=0.95)
    assert loaded.nodes.ids.tolist() == direct.nodes.ids.tolist()
    assert np.array_equal(loaded.edges.weight, direct.edges.weight)
    emb = loaded.nodes.kind == NodeKind.EMBEDDING
    assert loaded.nodes.label[emb].tolist() == ["tok100", "tok101", "tok102", "tok103"]
    logits = loaded.nodes.kind == NodeKind.LOGIT
    assert loaded.nodes.logit_token[logits].tolist() == [" out0", " out1", " out2"]


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_that_needs_code_is_refused_then_loaded_with_trust(tmp_path, ct_graph):
    path = tmp_path / "evil.pt"
    data = {k: getattr(ct_graph, k) for k in ("adjacency_matrix", "active_features", "selected_features")}
    data.update(input_tokens=ct_graph.input_tokens, cfg=ct_graph.cfg, payload=_Evil())
    data.update(
        activation_values=ct_graph.activation_values,
        logit_targets=ct_graph.logit_targets,
        logit_probabilities=ct_graph.logit_probabilities,
        input_string="x",
    )
    torch.save(data, path)
    with pytest.raises(UnsafePickleError, match="--trust-pickle") as info:
        load_graph(path)
    assert "pickled `print`" in str(info.value)
    graph = load_graph(path, trust_pickle=True)
    assert len(graph.nodes) > 0


def test_legacy_tensor_logit_targets(tmp_path, ct_graph):
    path = tmp_path / "legacy.pt"
    data = {
        "input_string": "a b c d",
        "adjacency_matrix": ct_graph.adjacency_matrix,
        "cfg": {"n_layers": 3, "tokenizer_name": None},
        "active_features": ct_graph.active_features,
        "logit_targets": torch.tensor([500, 501, 502]),
        "logit_probabilities": ct_graph.logit_probabilities,
        "input_tokens": ct_graph.input_tokens,
        "selected_features": ct_graph.selected_features,
        "activation_values": ct_graph.activation_values,
        "scan": None,
    }
    torch.save(data, path)
    graph = load_graph(path)
    logits = graph.nodes.kind == NodeKind.LOGIT
    assert graph.nodes.feature[logits].tolist() == [500, 501, 502]
    assert graph.nodes.logit_token[logits].tolist() == ["tok500", "tok501", "tok502"]


# ---- CLT-Forge -----------------------------------------------------------------------------------
def test_real_clt_forge_sample(clt_forge_pt):
    assert detect_format(clt_forge_pt) == "clt-forge-pt"
    graph = load_graph(clt_forge_pt)
    raw = torch.load(clt_forge_pt, weights_only=True)
    kinds = graph.nodes.kind
    assert graph.prompt_tokens == ["<s>", "It", " was", " a", " piece"]
    assert graph.n_layers == 12
    assert graph.metadata["info"]["unpruned_features"] == 344
    assert (kinds == NodeKind.EMBEDDING).sum() == 5
    assert (kinds == NodeKind.LOGIT).sum() == 5
    assert graph.nodes.logit_token[kinds == NodeKind.LOGIT].tolist() == [
        " of",
        " by",
        " that",
        " I",
        " about",
    ]
    # the file's own pruning: every edge of its mask is a link, with the adjacency weight
    edge_mask = raw["sparse_pruned_adj"].numpy() != 0
    assert len(graph.edges) == edge_mask.sum() == 478
    assert len(graph.nodes) == raw["feature_mask"].sum().item() == 108
    # feature ids follow (layer, index, position) from feature_indices = (position, layer, index)
    fi = raw["feature_indices"].tolist()
    expected_ids = {f"{layer}_{index}_{pos}" for pos, layer, index in fi}
    assert set(graph.nodes.ids[kinds == NodeKind.FEATURE].tolist()) <= expected_ids
    adjacency = raw["adjacency_matrix"].numpy()
    targets, sources = np.nonzero(edge_mask)
    assert sorted(graph.edges.weight.tolist()) == sorted(adjacency[targets, sources].astype(float).tolist())
    # its intervention_top_tokens become attrgraph.interventions records (extension.migrate)
    assert len(graph.extra["attrgraph"]["interventions"]) == 83


def test_clt_forge_older_sparse_weights_variant(clt_forge_pt, tmp_path):
    raw = torch.load(clt_forge_pt, weights_only=True)
    mask = raw["sparse_pruned_adj"] != 0
    weights = torch.where(mask, raw["adjacency_matrix"] * 2.0, torch.zeros(()))
    older = {
        k: v for k, v in raw.items() if k not in ("feature_mask", "edge_mask", "intervention_top_tokens")
    }
    older["sparse_pruned_adj"] = weights.to_sparse()
    path = tmp_path / "older.attribution_graph.pt"
    torch.save(older, path)
    assert detect_format(path) == "clt-forge-pt"
    graph = load_graph(path)
    new = load_graph(clt_forge_pt)
    assert len(graph.edges) == 478
    assert graph.metadata["info"]["clt_forge_pruning"] == "sparse tensor of pruned weights"
    # same links, weights taken from the sparse tensor (here twice the adjacency)
    ours, ref = _weights_by_link(graph), _weights_by_link(new)
    assert ours.keys() == ref.keys()
    assert all(ours[k] == pytest.approx(2 * ref[k]) for k in ref)


def _weights_by_link(graph) -> dict[tuple[str, str], float]:
    ids = graph.nodes.ids
    pairs = zip(ids[graph.edges.source].tolist(), ids[graph.edges.target].tolist(), strict=True)
    return dict(zip(pairs, graph.edges.weight.tolist(), strict=True))


def test_pt_with_unknown_layout(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"layer.weight": torch.zeros(3)}, path)
    with pytest.raises(GraphFormatError, match="unknown layout"):
        detect_format(path)


def test_truncated_pt(tmp_path, ct_pt):
    path = tmp_path / "cut.pt"
    path.write_bytes(ct_pt.read_bytes()[:2000])
    with pytest.raises(GraphFormatError):
        load_graph(path)


def test_stand_in_classes_run_no_code():
    from attrgraph_cli.io.torch_files import PlainConfig

    cfg = PlainConfig()
    with pytest.raises(pickle.UnpicklingError):
        cfg.__setstate__("not a dict")
    cfg.__setstate__({"n_layers": 4})
    assert cfg.to_dict() == {"n_layers": 4}


def test_legacy_non_zip_torch_file_is_sniffed(clt_forge_pt, tmp_path):
    raw = torch.load(clt_forge_pt, weights_only=True)
    path = tmp_path / "legacy.pt"
    torch.save(raw, path, _use_new_zipfile_serialization=False)
    assert path.read_bytes()[:1] == b"\x80"
    assert detect_format(path) == "clt-forge-pt"
    assert len(load_graph(path).edges) == 478


def test_from_circuit_tracer_graph_with_token_strings(ct_graph):
    from attrgraph_cli.graph.dense import from_circuit_tracer_graph

    graph = from_circuit_tracer_graph(ct_graph, token_strings=["A", " b", " c", " d"], scan=["tc0", "tc1"])
    assert graph.prompt_tokens == ["A", " b", " c", " d"]
    assert graph.metadata["transcoder_list"] == ["tc0", "tc1"]
    assert graph.metadata["info"]["tokens_from"] == "given token strings"
    assert graph.nodes.label[graph.nodes.kind == NodeKind.EMBEDDING].tolist() == ["A", " b", " c", " d"]


def test_older_circuit_tracer_file_with_transformer_lens_config_loads_safely(ct_graph, tmp_path):
    """Older circuit-tracer versions pickled a HookedTransformerConfig (with numpy scalars inside)."""
    from transformer_lens import HookedTransformerConfig

    cfg = HookedTransformerConfig(
        n_layers=3, d_model=8, n_ctx=16, d_head=4, n_heads=2, d_mlp=16, d_vocab=1000
    )
    path = tmp_path / "older.pt"
    data = {k: getattr(ct_graph, k) for k in ("adjacency_matrix", "active_features", "selected_features")}
    data.update(
        cfg=cfg,
        input_tokens=ct_graph.input_tokens,
        activation_values=ct_graph.activation_values,
        logit_targets=torch.tensor([500, 501, 502]),
        logit_probabilities=ct_graph.logit_probabilities,
        input_string="a b c d",
        scan="s",
    )
    torch.save(data, path)
    assert "numpy.dtype" in torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    graph = load_graph(path)
    assert graph.n_layers == 3 and len(graph.edges) > 0
