"""Property-based fuzzing of the light commands on mutated, real-shaped inputs (issue 9).

Seeds: a pruned graph JSON, a matrix `.npz`, and (with torch) a matrix `.pt` and the CLT-Forge sample.
Hypothesis mutates them (values swapped for hostile ones, keys dropped, arrays reshaped or retyped,
headers that lie, bytes flipped, files cut short) and `validate`, `convert`, `render` and `cluster` run on
each in a forked child with an address-space limit and a timeout. Every run must end with exit 0, 1 or 2;
a failure says exactly one `attrgraph: error:` line on stderr; never a traceback, "unexpected" or
"out of memory" (a small file must not size a big allocation); and what `convert` writes, `validate`
accepts, and so is what `cluster` writes. `ATTRGRAPH_FUZZ_EXAMPLES` sets the examples per seed
(`make test`: a few, derandomised; `make fuzz`: many, random).
"""

from __future__ import annotations

import copy
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from attrgraph_cli.io import save_graph  # noqa: E402
from attrgraph_testing.bounded_child import cli_in_child  # noqa: E402
from attrgraph_testing.paths import SHARED  # noqa: E402
from attrgraph_testing.synthetic import random_dense, random_graph  # noqa: E402

EXAMPLES = int(os.environ.get("ATTRGRAPH_FUZZ_EXAMPLES", "8"))
RANDOM = os.environ.get("ATTRGRAPH_FUZZ_RANDOM", "") not in ("", "0")
TIMEOUT_S = float(os.environ.get("ATTRGRAPH_FUZZ_TIMEOUT", "60"))
#: address space a child may add to what the parent already maps (torch alone maps gigabytes)
EXTRA_ADDRESS_SPACE = 1536 << 20
CLT_FORGE = SHARED / "data" / "clt-forge" / "preposition_of_50.attribution_graph.pt"

#: shrinking a failure costs minutes at a second per run: on only when asked (ATTRGRAPH_FUZZ_SHRINK=1)
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + (
    [Phase.shrink] if os.environ.get("ATTRGRAPH_FUZZ_SHRINK") else []
)
FUZZ = settings(
    max_examples=EXAMPLES,
    phases=PHASES,
    deadline=None,
    derandomize=not RANDOM,
    database=None if not RANDOM else settings.default.database,
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.xdist_group("fuzz")


# ---- running a command in a bounded child ------------------------------------------------------------------
def run_bounded(args: list[str]) -> tuple[int, str]:
    """Run `attrgraph ARGS` in a forked child (memory-limited, timed out); (exit code, stderr)."""
    result = cli_in_child(args, timeout_s=TIMEOUT_S, extra_bytes=EXTRA_ADDRESS_SPACE)
    assert not result.timed_out, f"attrgraph {' '.join(args)} ran past {TIMEOUT_S} s"
    return result.code, result.stderr


def check_house_rules(args: list[str], code: int, stderr: str) -> None:
    where = f"attrgraph {' '.join(args)}: exit {code}\n{stderr}"
    assert code in (0, 1, 2), where
    for bad in ("Traceback", "unexpected", "out of memory", "CHILD CRASH"):
        assert bad not in stderr, where
    errors = [line for line in stderr.splitlines() if line.startswith("attrgraph: error:")]
    if args[0] == "validate":
        assert len(errors) == (1 if code == 2 else 0), where
    elif code:
        assert len(errors) == 1 and len(stderr.strip().splitlines()) == 1, where


def check_graph_writer(args: list[str], out: Path) -> None:
    """Run a command that writes a graph to `out` (`-o` appended): the house rules, then either a graph
    that validate accepts or no file at all."""
    from attrgraph_cli.validate.files import Options, validate_file

    args = [*args, "-o", str(out)]
    code, err = run_bounded(args)
    check_house_rules(args, code, err)
    if code == 0:
        report = validate_file(out, Options(max_per_rule=3))
        assert report.status == "valid", (args, report.error, report.sink.problems[:3])
    else:
        assert not out.exists(), args


def exercise(path: Path, work: Path) -> None:
    """validate, convert and cluster (whose outputs must then validate) and render (HTML and SVG) on
    `path`."""
    code, err = run_bounded(["validate", str(path)])
    check_house_rules(["validate", str(path)], code, err)
    check_graph_writer(["convert", str(path)], work / "out.json")
    for suffix in (".html", ".svg"):
        args = ["render", str(path), "-o", str(work / f"out{suffix}")]
        check_house_rules(args, *run_bounded(args))
    check_graph_writer(["cluster", str(path)], work / "clustered.json")
    leftovers = [p.name for p in work.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, leftovers


# ---- hostile values ----------------------------------------------------------------------------------------
HOSTILE_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**7, "99999999999999999999", "E", "-1", "", "NaN"]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["\x00\x01", "\u200b", "</script><img src=x onerror=alert(1)>", "\ud800", "x" * 5000]),
)
HOSTILE = st.recursive(
    HOSTILE_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """A sample of the document's value paths: every top-level, metadata, qParams and `attrgraph` key (all
    levels), a supernode entry, a few nodes and links."""
    found: list[tuple] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.append((*prefix, key))
            if key in ("metadata", "qParams", "info", "attrgraph") or prefix[:1] in (
                ("metadata",),
                ("attrgraph",),
            ):
                found.extend(_paths(value, (*prefix, key)))
            elif key == "supernodes" and isinstance(value, list) and value:
                found.append((*prefix, key, 0))  # one whole supernode entry
            elif key in ("nodes", "links") and isinstance(value, list):
                for i in sorted({0, 1, len(value) // 2, len(value) - 1}):
                    if 0 <= i < len(value):
                        found.extend(_paths(value[i], (*prefix, key, i)))
    return found


def _set(doc: Any, path: tuple, value: Any, delete: bool) -> None:
    target = doc
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


#: how a mutated document is written: as is (twice as likely), cut short, or with flipped bytes
BYTE_MODES = ("as is", "as is", "truncate", "flip")


@st.composite
def json_mutations(draw, seed: dict, modes: tuple[str, ...] = BYTE_MODES) -> bytes:
    doc = copy.deepcopy(seed)
    paths = _paths(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        try:
            _set(doc, path, draw(HOSTILE), draw(st.booleans()))
        except (KeyError, IndexError, TypeError):
            pass
    data = json.dumps(doc, allow_nan=True).encode("utf-8", "surrogatepass")
    mode = draw(st.sampled_from(modes))
    if mode == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif mode == "flip":
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        data = bytes(data)
    return data


ARRAYS = st.one_of(
    st.builds(lambda n: np.zeros(n, dtype=np.float32), st.integers(0, 5)),
    st.builds(lambda r, c: np.ones((r, c), dtype=np.int64), st.integers(0, 4), st.integers(0, 4)),
    st.sampled_from(
        [
            np.array([np.nan, np.inf], dtype=np.float32),
            np.array([-5, 2**40], dtype=np.int64),
            np.array(["a", "\x00"]),
            np.array(7),
            np.array(1 + 2j),
            np.array([True, False]),
            np.zeros((2, 3, 4), dtype=np.float16),
        ]
    ),
)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _lying_header(data: bytes, key: str, shape: tuple[int, ...]) -> bytes:
    """The archive with `key`'s .npy header claiming `shape` (the data left as it was)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == f"{key}.npy":
                handle = io.BytesIO(body)
                version = np.lib.format.read_magic(handle)
                _, fortran, dtype = (
                    np.lib.format.read_array_header_1_0(handle)
                    if version == (1, 0)
                    else (np.lib.format.read_array_header_2_0(handle))
                )
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    header,
                    {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": fortran, "shape": shape},
                )
                body = header.getvalue() + body[handle.tell() :]
            target.writestr(info, body)
    return out.getvalue()


@st.composite
def array_mutations(draw, seed: dict[str, np.ndarray]) -> dict[str, Any]:
    arrays = dict(seed)
    keys = sorted(arrays) + ["tokens", "n_layers", "logit_tokens", "activations", "prompt"]
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and key in arrays:
            del arrays[key]
        else:
            arrays[key] = draw(ARRAYS)
    return arrays


@st.composite
def npz_mutations(draw, seed: dict[str, np.ndarray]) -> bytes:
    arrays = draw(array_mutations(seed)) if draw(st.booleans()) else dict(seed)
    data = _npz_bytes(arrays)
    mode = draw(st.sampled_from(["as is", "lie", "flip", "truncate"]))
    if mode == "lie" and "adjacency_matrix" in arrays:
        shape = draw(st.sampled_from([(10**6, 10**6), (0, 0), (3,), (2**31, 2), (40000, 40000)]))
        data = _lying_header(data, "adjacency_matrix", shape)
    elif mode == "flip":
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        data = bytes(data)
    elif mode == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    return data


# ---- seeds -------------------------------------------------------------------------------------------------
EXAMPLE = {"tokens": ["a", "b"], "tokens_acts_list": [0.0, 2.5]}


@pytest.fixture(scope="module")
def json_seed(tmp_path_factory) -> dict:
    """A small graph with what the later stages add: supernodes (qParams and their metadata, from
    `cluster`) and feature entries with labels and dashboard top logits (what `autointerp` stores)."""
    from attrgraph_cli.cluster import ClusterOptions, cluster_graph
    from attrgraph_cli.extension import append_history, append_intervention, feature_key
    from attrgraph_cli.graph.model import NodeKind
    from attrgraph_cli.io import load_graph
    from attrgraph_cli.stages.provenance import stage_record, utc_now
    from attrgraph_cli.validate.engine import validate_graph

    path = tmp_path_factory.mktemp("seed") / "g.json"
    graph = random_graph(n_links=150, n_nodes=40, n_layers=4, n_tokens=5, n_logits=3, seed=3)
    cluster_graph(graph, ClusterOptions(max_distance=1.0))
    table = {}
    for i in np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)[:4].tolist():
        layer, index = int(graph.nodes.layer[i]), int(graph.nodes.feature[i])
        table[feature_key(layer, index)] = {
            "layer": layer,
            "index": index,
            "label": f"say token {i}",
            "source": "heuristic",
            "details": {
                "examples_quantiles": [{"quantile_name": "top", "examples": [EXAMPLE]}],
                "top_logits": ["a", "▁b", "Ġc"],
                "top_logit_values": [3.0, 2.0, 1.0],
            },
        }
    graph.extra.setdefault("attrgraph", {})["features"] = table
    feature = str(graph.nodes.ids[np.flatnonzero(graph.nodes.kind == NodeKind.FEATURE)[0]])
    append_intervention(  # every part of the extension, so that mutations reach each one
        graph,
        {
            "name": f"--ablate {feature}",
            "kind": "intervention",
            "spec": [{"op": "ablate", "nodes": [feature], "text": feature}],
            "settings": {"freeze_attention": True, "direct": False},
            "targets": [{"token": "a", "measured_delta": -0.5, "predicted_delta": -0.4}],
        },
    )
    append_history(graph, stage_record("convert", {}, [], utc_now(), 0.0, {}))
    save_graph(graph, path)
    seed = orjson.loads(path.read_bytes())
    assert seed["qParams"]["supernodes"] and seed["attrgraph"]["features"]
    assert seed["attrgraph"]["history"] and seed["attrgraph"]["interventions"]
    problems = validate_graph(load_graph(path), max_per_rule=3)
    assert not [p for p in problems if p.severity == "error"], problems  # mutations start from a valid file
    return seed


@pytest.fixture(scope="module")
def matrix_seed() -> dict[str, np.ndarray]:
    d = random_dense(n_layers=2, n_tokens=3, n_features=6, n_logits=2, seed=0)
    return {
        "adjacency_matrix": d["adjacency"],
        "features": d["features"] % [2, 3, 100],
        "n_layers": np.array(2),
        "tokens": np.array(["a", "b", "c"]),
        "logit_probabilities": d["logit_probabilities"],
    }


@pytest.fixture(scope="module")
def clt_forge_seed() -> dict:
    torch = pytest.importorskip("torch")
    if not CLT_FORGE.is_file():
        pytest.skip("../shared is not beside this checkout")
    return torch.load(CLT_FORGE, weights_only=True)


def exercise_written(name: str, write: Callable[[Path], object]) -> None:
    """`write` one generated input as `name` into a fresh folder, then run every command on it there."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        write(path)
        exercise(path, Path(tmp))


# ---- the properties ----------------------------------------------------------------------------------------
def test_mutated_graph_json(json_seed: dict) -> None:
    @FUZZ
    @given(data=json_mutations(json_seed))
    def check(data: bytes) -> None:
        exercise_written("g.json", lambda path: path.write_bytes(data))

    check()


REPORT_FUZZ = settings(FUZZ, max_examples=EXAMPLES * 25)  # in-process: ~10 ms an example


def test_mutated_graph_builds_every_report_part(json_seed: dict, tmp_path: Path) -> None:
    """The SVG, the PDF's sections and the HTML payload, built in-process (fast, so many more examples):
    a file that loads must render, whatever its qParams, metadata and extension hold. A scan of this kind
    found `pinnedIds: 5` crashing the SVG and PDF, and non-list `examples_quantiles` the PDF."""
    from attrgraph_cli.errors import AttrgraphError
    from attrgraph_cli.io import load_graph
    from attrgraph_cli.report import pdf
    from attrgraph_cli.report.html import write_html
    from attrgraph_cli.report.svg import render_svg

    path = tmp_path / "g.json"

    @REPORT_FUZZ
    @given(data=json_mutations(json_seed, modes=("as is",)))
    def check(data: bytes) -> None:
        path.write_bytes(data)
        try:
            graph = load_graph(path)
        except AttrgraphError:
            return
        render_svg(graph)
        pdf.build_html(graph)
        write_html(graph, tmp_path / "g.html")

    check()


def test_mutated_npz(matrix_seed: dict) -> None:
    @FUZZ
    @given(data=npz_mutations(matrix_seed))
    def check(data: bytes) -> None:
        exercise_written("m.npz", lambda path: path.write_bytes(data))

    check()


def test_mutated_matrix_pt(matrix_seed: dict) -> None:
    torch = pytest.importorskip("torch")

    @FUZZ
    @given(arrays=array_mutations(matrix_seed), as_tensors=st.booleans())
    def check(arrays: dict, as_tensors: bool) -> None:
        payload = {
            k: torch.from_numpy(np.ascontiguousarray(v))
            if as_tensors and v.dtype.kind in "biufc"
            else v.tolist()
            for k, v in arrays.items()
        }
        exercise_written("m.pt", lambda path: torch.save(payload, path))

    check()


CLT_FIELDS = [
    "feature_indices",
    "n_layers",
    "token_string",
    "sparse_pruned_adj",
    "adjacency_matrix",
    "logit_probabilities",
    "input_tokens",
    "feature_mask",
    "logit_tokens",
    "logit_token_strings",
    "activation_values",
    "intervention_top_tokens",
]


def test_mutated_clt_forge(clt_forge_seed: dict) -> None:
    torch = pytest.importorskip("torch")
    replacements = st.one_of(
        HOSTILE_SCALARS,
        st.sampled_from(["abc", [1, "x"], {"a": 1}]),
        st.builds(lambda n: torch.zeros(n), st.integers(0, 5)),
        st.builds(lambda n: torch.arange(n), st.integers(0, 5)),
        st.just("sparse"),
    )

    @FUZZ
    @given(
        changes=st.lists(
            st.tuples(st.sampled_from(CLT_FIELDS), replacements, st.booleans()), min_size=1, max_size=3
        )
    )
    def check(changes: list) -> None:
        data = dict(clt_forge_seed)
        for key, value, delete in changes:
            if delete:
                data.pop(key, None)
            elif isinstance(value, str) and value == "sparse":
                index = torch.tensor([[0], [0]])
                data[key] = torch.sparse_coo_tensor(index, torch.tensor([1.0]), (300_000, 300_000))
            else:
                data[key] = value
        exercise_written("c.attribution_graph.pt", lambda path: torch.save(data, path))

    check()
