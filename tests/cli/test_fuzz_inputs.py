"""Property-based fuzzing of the auxiliary inputs (issue 23): label sources (JSON, JSON Lines, CSV/TSV,
gzipped, with a BOM; feature-details folders; CLT-Forge folders), `intervene --plan` files, `trace --batch`
files, and PDFs whose attachment name trees, streams and filters are generated (DAGs and cycles included).

Each example runs in a forked child with an address-space limit and a deadline
(`attrgraph_testing/bounded_child.py`): it must end with exit 0, 1 or 2 and, when it fails, exactly one
`attrgraph: error:` line (never a traceback, "unexpected" or "out of memory"); what `autointerp` and `convert`
write must validate. `ATTRGRAPH_FUZZ_EXAMPLES` sets the examples per generator (`make test`: 5 each,
derandomised, ~15 s in all; `make fuzz`: 300 random ones, `ATTRGRAPH_FUZZ_RANDOM=1`).
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from attrgraph_cli.autointerp.targets import graph_targets  # noqa: E402
from attrgraph_cli.errors import AttrgraphError  # noqa: E402
from attrgraph_cli.graph.ids import feature_number  # noqa: E402
from attrgraph_cli.io import load_graph, save_graph  # noqa: E402
from attrgraph_testing.bounded_child import ChildResult, cli_in_child, in_child  # noqa: E402
from attrgraph_testing.hostile_files import build_pdf  # noqa: E402
from attrgraph_testing.synthetic import random_graph  # noqa: E402

EXAMPLES = int(
    os.environ.get("ATTRGRAPH_FUZZ_EXAMPLES_INPUTS", os.environ.get("ATTRGRAPH_FUZZ_EXAMPLES", "5"))
)
RANDOM = os.environ.get("ATTRGRAPH_FUZZ_RANDOM", "") not in ("", "0")
TIMEOUT_S = float(os.environ.get("ATTRGRAPH_FUZZ_TIMEOUT", "30"))
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

pytestmark = pytest.mark.xdist_group("fuzz-inputs")


# ---- the rules every run must keep -------------------------------------------------------------------------
def check_rules(what: str, result: ChildResult) -> None:
    where = f"{what}: exit {result.code}\n{result.stderr[-3000:]}"
    assert not result.timed_out, f"{what}: ran past {TIMEOUT_S} s"
    assert result.code in (0, 1, 2), where
    for bad in ("Traceback", "error: unexpected ", "out of memory", "CHILD CRASH"):
        assert bad not in result.stderr, where
    lines = result.error_lines()
    if what.startswith("validate"):  # exit 1 is a report of problems (on stdout); 2 is one error line
        errors = [line for line in lines if line.startswith("attrgraph: error:")]
        assert len(errors) == (1 if result.code == 2 else 0), where
    elif result.code:
        assert len(lines) == 1 and lines[0].startswith("attrgraph: error: "), where


def call_in_child(fn) -> ChildResult:
    """`fn()` in a bounded child; an `AttrgraphError` becomes the CLI's one line and its exit code."""

    def run() -> None:
        try:
            fn()
        except AttrgraphError as exc:
            import sys

            sys.stderr.write(f"attrgraph: error: {exc}\n")
            raise SystemExit(exc.exit_code) from None

    return in_child(run, timeout_s=TIMEOUT_S)


def check_writes_valid(args: list[Any], out: Path) -> None:
    from attrgraph_cli.validate.files import Options, validate_file

    result = cli_in_child([*args, "-o", out], timeout_s=TIMEOUT_S)
    check_rules(" ".join(map(str, args)), result)
    if result.code == 0:
        report = validate_file(out, Options(max_per_rule=3))
        assert report.status == "valid", (args, report.error, report.sink.problems[:3])
    else:
        assert not out.exists(), args
    out.unlink(missing_ok=True)


# ---- hostile values ----------------------------------------------------------------------------------------
#: replaced by a 1,000-deep list when written (`repr`/`str` of it overflow Python's recursion limit)
DEEP = "__deep__"
ODD_NUMBERS = st.sampled_from(
    ["²", "٣", "9" * 5000, "-1", "1e3", " 7", "0x10", "", "1.5", "-0", "9" * 17, "007", "\u0661\u0662"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    ODD_NUMBERS,
    st.sampled_from(["\x00", "\x1b]0;x\x07", "</script>", "\ud800", "x" * 3000, "a\nb", "::error::x"]),
    st.just(DEEP),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=6,
)


def _json(value: Any) -> str:
    """JSON text of a generated value (lone surrogates kept as escapes, as a hostile writer might; each
    `DEEP` string becomes a list nested 1,000 deep, which no encoder writes and orjson still reads)."""
    return json.dumps(value, ensure_ascii=True).replace(f'"{DEEP}"', "[" * 1000 + "]" * 1000)


# ---- a graph to label --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz-inputs") / "g.json"
    graph = random_graph(n_links=120, seed=11)
    graph.nodes.label[graph.nodes.kind == 1] = ""
    save_graph(graph, path)
    return path


@pytest.fixture(scope="module")
def keys(graph_file: Path) -> list[tuple[int, int]]:
    return list(graph_targets(load_graph(graph_file)))


# ---- label sources: files ----------------------------------------------------------------------------------
@st.composite
def explanation_records(draw, keys: list[tuple[int, int]]) -> list[Any]:
    records: list[Any] = []
    for _ in range(draw(st.integers(1, 5))):
        layer, index = draw(st.sampled_from(keys))
        record: dict[str, Any] = {
            "layer": f"{layer}-{draw(st.sampled_from(['clt-hp', 'a', 'b', '']))}",
            "index": draw(st.sampled_from([index, str(index)])),
            "description": draw(st.one_of(st.text(max_size=30), SCALARS)),
            "typeName": draw(st.sampled_from(["np_max-act-logits", "oai", None, 5])),
            "createdAt": draw(st.one_of(st.text(max_size=10), SCALARS)),
        }
        if draw(st.booleans()):  # one field swapped for a hostile value
            record[draw(st.sampled_from(sorted(record)))] = draw(VALUES)
        records.append(record if draw(st.integers(0, 9)) else draw(VALUES))
    return records


def _encode_source(draw, records: list[Any]) -> tuple[str, bytes]:
    form = draw(st.sampled_from(["array", "jsonl", "csv", "tsv"]))
    if form == "array":
        name, text = "labels.json", _json(records)
    elif form == "jsonl":
        name, text = "labels.jsonl", "\n".join(_json(r) for r in records)
    else:
        sep = "," if form == "csv" else "\t"
        rows = []
        for r in records:
            cells = [r.get("layer"), r.get("index"), r.get("description")] if isinstance(r, dict) else [r]
            cells = [
                str(c).split("-")[0] if n == 0 and isinstance(c, str) else c for n, c in enumerate(cells)
            ]
            rows.append(sep.join("" if c is None else str(c) for c in cells))
        name, text = f"labels.{form}", "\n".join(rows)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 3)) == 0 and data:  # damage: a cut or a flipped byte
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] if draw(st.booleans()) else data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]
    if draw(st.booleans()):
        name, data = name + ".gz", gzip.compress(data, mtime=0)
    return name, data


@FUZZ
@given(data=st.data())
def test_fuzz_label_source_files(graph_file, keys, tmp_path_factory, data):
    work = tmp_path_factory.mktemp("src")
    name, blob = _encode_source(data.draw, data.draw(explanation_records(keys)))
    source = work / name
    source.write_bytes(blob)
    check_writes_valid(["autointerp", graph_file, "-l", source, "--no-dashboards"], work / "out.json")


# ---- label sources: feature-details and CLT-Forge folders --------------------------------------------------
def _details_doc(draw, number: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "index": number,
        "description": draw(st.one_of(st.text(max_size=20), SCALARS)),
        "examples_quantiles": [
            {
                "quantile_name": "top",
                "examples": [{"tokens": ["a", "b", "c"], "tokens_acts_list": [0.0, 2.0, 0.5]}],
            }
        ],
        "top_logits": ["x", "y"],
        "act_max": 2.0,
        "histogram": {"edges": [0, 1, 2], "counts": [3, 1]},
        "n_tokens": 100,
        "frac_nonzero": 0.1,
    }
    for _ in range(draw(st.integers(0, 2))):
        field = draw(st.sampled_from([*sorted(doc), "examples_quantiles.0", "histogram.counts"]))
        value = draw(VALUES)
        if field == "examples_quantiles.0":
            doc["examples_quantiles"][0] = value
        elif field == "histogram.counts":
            doc["histogram"] = {"edges": [0, 1], "counts": value}
        else:
            doc[field] = value
    return doc


def _clt_doc(draw) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "description": draw(st.one_of(st.text(max_size=20), SCALARS)),
        "top_examples": ["The <<Dallas>> one", "x"],
        "top_examples_tks": [{"max_val": 3.0}, {"max_val": 1}],
        "top_activating_tokens": [{"token": "Dallas", "frequency": 2}],
    }
    for _ in range(draw(st.integers(0, 2))):
        doc[draw(st.sampled_from(sorted(doc)))] = draw(VALUES)
    return doc


@FUZZ
@given(data=st.data())
def test_fuzz_label_source_folders(graph_file, keys, tmp_path_factory, data):
    work = tmp_path_factory.mktemp("folder")
    folder = work / "src"
    folder.mkdir()
    chosen = data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True))
    if data.draw(st.booleans()):
        for layer, index in chosen:
            number = feature_number(layer, index)
            (folder / f"{number}.json").write_text(_json(_details_doc(data.draw, number)))
    else:
        for layer, index in chosen:
            sub = folder / f"layer{layer}"
            sub.mkdir(exist_ok=True)
            (sub / f"feature_{index}_complete.json").write_text(_json(_clt_doc(data.draw)))
        freq = data.draw(
            st.one_of(VALUES, st.dictionaries(st.sampled_from(["layer_0", "1", "²", "x9" * 2000]), VALUES))
        )
        (folder / "feature_freq.json").write_text(_json(freq))
    check_writes_valid(["autointerp", graph_file, "-l", folder, "--no-dashboards"], work / "out.json")


# ---- plan files --------------------------------------------------------------------------------------------
SPEC_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "20_15589_10=0",
            "@0:100000000000=1",
            "@all=1e308",
            "*1e308",
            "x=-1e308:1e308:1",
            "L20=0:1:1e-320",
            "1_2_3=nan",
            "²_1_0=1",
            "9" * 5000 + "_1_0=1",
        ]
    ),
)


@st.composite
def plan_lines(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append("[" * draw(st.integers(1, 5000)) + "]" * draw(st.integers(0, 3)))
        elif kind == 1:
            lines.append(draw(st.text(max_size=40)))
        else:
            obj = {
                draw(
                    st.sampled_from(
                        ["set", "scale", "ablate", "swap_from", "swap_scope", "sweep", "name", "x"]
                    )
                ): (draw(st.one_of(SPEC_TEXT, st.lists(SPEC_TEXT, max_size=3), VALUES)))
                for _ in range(draw(st.integers(1, 3)))
            }
            lines.append(_json(obj))
    return "\n".join(lines)


@FUZZ
@given(text=plan_lines(), yaml=st.booleans())
def test_fuzz_plan_files(tmp_path_factory, text, yaml):
    from attrgraph_cli.intervene.plan import read_plan

    path = tmp_path_factory.mktemp("plan") / ("plan.yaml" if yaml else "plan.jsonl")
    if yaml:
        text = "\n".join(f"- {line}" for line in text.splitlines())
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    check_rules(f"read_plan({text[:200]!r})", call_in_child(lambda: read_plan(path)))


# ---- batch files -------------------------------------------------------------------------------------------
@st.composite
def batch_text(draw) -> tuple[str, str]:
    jsonl = draw(st.booleans())
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        if jsonl:
            row = draw(
                st.one_of(
                    st.fixed_dictionaries(
                        {"prompt": st.one_of(st.text(max_size=30), SCALARS)},
                        optional={"slug": VALUES, "target": VALUES, "targets": VALUES, "x": VALUES},
                    ),
                    VALUES,
                    st.just("[" * 3000),
                )
            )
            lines.append(row if isinstance(row, str) and row.startswith("[[") else _json(row))
        else:
            lines.append(
                draw(st.one_of(st.text(max_size=40), st.sampled_from(["same prompt", "#", "batch report"])))
            )
    return ("batch.jsonl" if jsonl else "batch.txt"), "\n".join(lines)


@FUZZ
@given(spec=batch_text())
def test_fuzz_batch_files(tmp_path_factory, spec):
    from attrgraph_cli.trace.batch import plan, read_batch

    name, text = spec
    work = tmp_path_factory.mktemp("batch")
    path = work / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    check_rules(f"read_batch({text[:200]!r})", call_in_child(lambda: plan(read_batch(path), work / "out")))


# ---- PDFs: generated attachment trees ----------------------------------------------------------------------
@st.composite
def pdf_bytes(draw, graph_json: bytes) -> bytes:
    """A PDF whose name tree has 1-6 inner nodes with kids drawn among all nodes (DAGs, cycles, self-loops),
    leaves naming 0-4 file specifications whose streams are the graph, junk, a bomb, damaged or odd."""
    n_nodes = draw(st.integers(1, 6))
    n_files = draw(st.integers(0, 4))
    first_node, first_file = 10, 100
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 10 0 R >> >>",
        2: b"<< /Type /Pages /Kids [] /Count 0 >>",
    }
    for f in range(n_files):
        kind = draw(st.sampled_from(["graph", "graph", "junk", "bomb", "damaged", "plain", "array"]))
        body = {
            "graph": zlib.compress(graph_json),
            "junk": zlib.compress(os.urandom(64)),
            "bomb": zlib.compress(bytes(8 << 20), 9),
            "damaged": zlib.compress(graph_json)[: draw(st.integers(0, 50))] + b"\x00garbage",
            "plain": graph_json,
            "array": zlib.compress(b"[1, 2, 3]"),
        }[kind]
        flt = (
            b""
            if kind == "plain"
            else draw(
                st.sampled_from(
                    [
                        b"/Filter /FlateDecode",
                        b"/Filter [/FlateDecode]",
                        b"/Filter /LZWDecode",
                        b"/Filter /FlateDecode",
                    ]
                )
            )
        )
        declared = draw(
            st.sampled_from(
                [
                    b"",
                    b"/Params << /Size 10 >>",
                    b"/Params << /Size 99999999999999 >>",
                    b"/Params << /Size -1 >>",
                ]
            )
        )
        length = draw(st.sampled_from([len(body), len(body), len(body) + 100, 0, 10**12]))
        objects[first_file + 2 * f] = (
            b"<< /Type /EmbeddedFile /Subtype /application#2Fjson "
            + flt
            + b" "
            + declared
            + b" /Length %d >>\nstream\n" % length
            + body
            + b"\nendstream"
        )
        name = draw(
            st.sampled_from(
                [b"(g.graph.json)", b"(figure.json)", b"(notes.txt)", b"(\\n::error::x.json)", b"<FEFF0067>"]
            )
        )
        objects[first_file + 2 * f + 1] = (
            b"<< /Type /Filespec /F " + name + b" /EF << /F %d 0 R >> >>" % (first_file + 2 * f)
        )
    for n in range(n_nodes):
        parts = []
        kids = draw(st.lists(st.integers(0, n_nodes - 1), max_size=4))
        if kids or n == 0 and draw(st.booleans()):
            parts.append(b"/Kids [" + b" ".join(b"%d 0 R" % (first_node + k) for k in kids) + b"]")
        files = draw(st.lists(st.integers(0, max(n_files - 1, 0)), max_size=3)) if n_files else []
        if files or not kids:
            names = b" ".join(
                draw(st.sampled_from([b"(a)", b"(b)", b"5", b"/N"])) + b" %d 0 R" % (first_file + 2 * f + 1)
                for f in files
            )
            parts.append(b"/Names [" + names + draw(st.sampled_from([b"", b" (odd)"])) + b"]")
        objects[first_node + n] = b"<< " + b" ".join(parts) + b" >>"
    return build_pdf(objects, 1)


@FUZZ
@given(data=st.data())
def test_fuzz_pdf_attachment_trees(graph_file, tmp_path_factory, data):
    work = tmp_path_factory.mktemp("pdf")
    pdf = work / "report.pdf"
    pdf.write_bytes(data.draw(pdf_bytes(graph_file.read_bytes())))
    check_rules("validate report.pdf", cli_in_child(["validate", pdf], timeout_s=TIMEOUT_S))
    check_writes_valid(["convert", pdf], work / "out.json")
