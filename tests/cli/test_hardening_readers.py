"""Hostile input, round 3 (issue 23), the readers: PDF attachment trees and bombs, the SVG scan, label
sources, plan and batch files (the file guard), crashes and messages of the label importers.

Hangs and memory blow-ups run in a forked child with an address-space limit and a deadline
(`attrgraph_testing/bounded_child.py`), so a regression fails the test instead of stalling the suite.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import tracemalloc
from pathlib import Path

import orjson
import pytest

from attrgraph_cli.autointerp.imported import SourceError
from attrgraph_cli.autointerp.sources import read_source
from attrgraph_cli.autointerp.targets import graph_targets
from attrgraph_cli.errors import AttrgraphError, GraphFormatError
from attrgraph_cli.graph.ids import feature_number
from attrgraph_cli.io import load_graph, save_graph
from attrgraph_testing.autointerp_fixtures import city_details
from attrgraph_testing.bounded_child import assert_one_error_line, cli_in_child, in_child
from attrgraph_testing.cli import run_cli
from attrgraph_testing.hostile_files import Attachment, attachments_pdf, deflated_zeros, gzip_bomb
from attrgraph_testing.synthetic import random_graph

MIB = 1 << 20


@pytest.fixture()
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "g.json"
    graph = random_graph(n_links=200, seed=7)
    graph.nodes.label[graph.nodes.kind == 1] = ""
    save_graph(graph, path)
    return path


@pytest.fixture()
def keys(graph_file: Path) -> list[tuple[int, int]]:
    return list(graph_targets(load_graph(graph_file)))


def numbers(keys):
    return {k: feature_number(*k) for k in keys}


def _budget(monkeypatch, mib: int) -> None:
    monkeypatch.setenv("ATTRGRAPH_MAX_INPUT_MB", str(mib))


def _peak(fn) -> tuple[object, int]:
    """(what fn returned or raised, peak traced Python allocation while it ran)."""
    tracemalloc.start()
    try:
        try:
            out: object = fn()
        except Exception as exc:  # noqa: BLE001 - returned for the test to look at
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---- PDF input ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tree", ["dag", "cycle"])
def test_pdf_attachment_tree_that_reuses_a_node_is_walked_once(tmp_path, graph_file, tree):
    """A 28-deep chain whose every node lists the next one twice (2**28 paths to one leaf), and a tree whose
    kids point back up: the graph is read, each node visited once (it hung, then ran out of memory)."""
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(attachments_pdf([Attachment("g.graph.json", graph_file.read_bytes())], tree=tree))
    assert pdf.stat().st_size < 30_000
    result = cli_in_child(["validate", pdf], timeout_s=30)
    assert not result.timed_out and result.code == 0, result.stderr[-2000:]
    from attrgraph_cli.io.pdf_bundle import read_pdf_attachments

    assert [a.name for a in read_pdf_attachments(pdf)] == ["g.graph.json"]


def _warm_pdf_reader(tmp_path: Path, graph_file: Path) -> None:
    """Read one honest PDF first, so that the imports it triggers are not counted in a peak measured after."""
    warm = tmp_path / "warm.pdf"
    warm.write_bytes(attachments_pdf([Attachment("g.graph.json", graph_file.read_bytes())]))
    load_graph(warm)


def test_pdf_deflate_bomb_is_refused_as_soon_as_the_budget_is_passed(tmp_path, graph_file, monkeypatch):
    """200 MiB of zeros deflated to 200 kB, budget 32 MiB: refused after inflating at most one 1 MiB step
    past it (the whole-buffer inflate peaked at twice the budget)."""
    _budget(monkeypatch, 32)
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(attachments_pdf([Attachment("g.graph.json", packed=deflated_zeros(200 * MIB))]))
    _warm_pdf_reader(tmp_path, graph_file)
    out, peak = _peak(lambda: load_graph(pdf))
    assert isinstance(out, GraphFormatError) and "compression bomb" in str(out), out
    assert peak < 32 * MIB * 1.4, f"peak {peak / MIB:.1f} MiB for a 32 MiB budget"


def test_pdf_with_many_large_attachments_inflates_only_the_graph(tmp_path, graph_file):
    """Twelve 64 MiB attachments that are not the graph (one a JSON array), then the graph: only the graph
    (and 4 kB of the JSON one, to see it is not an object) is inflated (all 768 MiB were)."""
    packed = deflated_zeros(64 * MIB)
    junk = [Attachment(f"data{i}.bin", packed=packed, mime="application/octet-stream") for i in range(11)]
    array = Attachment("table.json", packed=zlib_compress(b"[" + b"0," * (32 * MIB) + b"0]"))
    pdf = tmp_path / "many.pdf"
    pdf.write_bytes(attachments_pdf([*junk, array, Attachment("figure.json", graph_file.read_bytes())]))
    _warm_pdf_reader(tmp_path, graph_file)
    out, peak = _peak(lambda: load_graph(pdf))
    assert not isinstance(out, Exception), out
    assert len(out.nodes) == len(load_graph(graph_file).nodes)
    assert peak < 48 * MIB, f"peak {peak / MIB:.1f} MiB"


def zlib_compress(data: bytes) -> bytes:
    import zlib

    return zlib.compress(data, 6)


def test_pdf_attachments_share_one_budget(tmp_path, monkeypatch):
    """Four 24 MiB attachments under a 64 MiB budget: each fits, together they do not."""
    _budget(monkeypatch, 64)
    packed = deflated_zeros(24 * MIB)
    pdf = tmp_path / "four.pdf"
    pdf.write_bytes(attachments_pdf([Attachment(f"a{i}.bin", packed=packed) for i in range(4)]))
    from attrgraph_cli.io.pdf_bundle import read_pdf_attachments

    with pytest.raises(GraphFormatError, match="left of the"):
        read_pdf_attachments(pdf)
    monkeypatch.setenv("ATTRGRAPH_MAX_INPUT_MB", "128")  # the control: the same file within the budget
    assert len(read_pdf_attachments(pdf)) == 4


def _load_or_exit(path: Path) -> None:
    try:
        load_graph(path)
    except AttrgraphError as exc:
        raise SystemExit(f"attrgraph: error: {exc}") from None


def test_pdf_object_stream_bomb_is_capped_by_pypdf_limits(tmp_path, graph_file):
    """The name tree inside an object stream padded to 70 MiB (72 kB stored): pypdf inflates object streams
    itself, up to its default 75 MB each; within our reads the cap is 16 MiB, so this is one line and the
    peak stays well under the padding (it inflated all of it)."""
    from attrgraph_testing.hostile_files import object_stream_bomb_pdf

    control = tmp_path / "control.pdf"
    control.write_bytes(object_stream_bomb_pdf(10))
    with pytest.raises(GraphFormatError, match="carries no attribution graph"):
        load_graph(control)  # the same structure, honest: read (it just holds no graph)
    pdf = tmp_path / "objstm.pdf"
    pdf.write_bytes(object_stream_bomb_pdf(70 * MIB))
    _warm_pdf_reader(tmp_path, graph_file)
    out, peak = _peak(lambda: load_graph(pdf))
    assert isinstance(out, GraphFormatError) and "Limit reached" in str(out), out
    assert peak < 40 * MIB, f"peak {peak / MIB:.1f} MiB"


# ---- SVG input ---------------------------------------------------------------------------------------------
def test_svg_graph_scan_is_linear(tmp_path, graph_file):
    """5 MB of unclosed `<attrgraph:graph ` tags: one line at once (the regex scan was quadratic)."""
    svg = tmp_path / "hostile.svg"
    svg.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<attrgraph:graph " * 300_000 + b"</svg>")
    assert svg.stat().st_size > 5_000_000
    result = in_child(lambda: _load_or_exit(svg), timeout_s=10)
    assert_one_error_line(result, "carries no attribution graph")
    # the control: the same decoys in front of a real embedded graph, which is still found
    from attrgraph_cli.io.svg_bundle import graph_metadata_element

    element = graph_metadata_element(graph_file.read_bytes()).encode()
    svg.write_bytes(b'<svg xmlns="x">' + b"<attrgraph:graphs>" * 1000 + element + b"</svg>")
    assert len(load_graph(svg).nodes) == len(load_graph(graph_file).nodes)


def test_svg_base64_split_by_whitespace_costs_its_size(tmp_path):
    """The embedded base64 with a space after every character (legal: whitespace is allowed in it): the
    whitespace is deleted in one pass (splitting it made one bytes object per character, ~20x the file)."""
    import random

    from attrgraph_cli.io.svg_bundle import graph_json_from_svg, graph_metadata_element

    payload = random.Random(3).randbytes(600_000)  # incompressible: 800 kB of base64
    element = graph_metadata_element(payload)
    start, end = element.index('">') + 2, element.index("</attrgraph:graph>")
    spaced = element[:start] + " ".join(element[start:end]) + element[end:]
    svg = tmp_path / "spaced.svg"
    svg.write_text(f'<svg xmlns="http://www.w3.org/2000/svg">{spaced}</svg>')
    size = svg.stat().st_size
    graph_json_from_svg(svg)  # warm
    out, peak = _peak(lambda: graph_json_from_svg(svg))
    assert out == payload
    assert peak < 6 * size, f"peak {peak / MIB:.1f} MiB for a {size / MIB:.1f} MiB SVG"


# ---- label sources and other auxiliary files: the file guard ---------------------------------------
def _fifo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory-as-freq-file"])
def test_label_source_that_is_not_a_regular_file_is_one_line(tmp_path, graph_file, keys, kind):
    if kind == "dev-zero":
        source, needle = Path("/dev/zero"), "character device"
    elif kind == "fifo":
        source, needle = _fifo(tmp_path, "labels.jsonl"), "FIFO"
    else:  # a CLT-Forge folder whose frequency "file" is a FIFO
        source = tmp_path / "clt"
        (source / f"layer{keys[0][0]}").mkdir(parents=True)
        doc = {"description": "x", "top_examples": []}
        (source / f"layer{keys[0][0]}" / f"feature_{keys[0][1]}_complete.json").write_text(json.dumps(doc))
        _fifo(source, "feature_freq.json")
        needle = "FIFO"
    out = tmp_path / "out.json"
    result = cli_in_child(
        ["autointerp", graph_file, "-l", source, "-o", out, "--no-dashboards"], timeout_s=20
    )
    line = assert_one_error_line(result, needle)
    assert "not a regular file" in line and not out.exists()


def test_sparse_3gib_feature_file_is_refused_by_its_size_unread(tmp_path, graph_file, keys):
    folder = tmp_path / "features"
    folder.mkdir()
    _sparse(folder / f"{feature_number(*keys[0])}.json", 3 << 30)
    result = cli_in_child(["autointerp", graph_file, "-l", folder, "-o", tmp_path / "o.json"], timeout_s=10)
    assert_one_error_line(result, "3.00 GiB, over the", "a feature file")


def test_gzip_source_is_budgeted_on_its_inflated_size_while_streaming(tmp_path, graph_file, monkeypatch):
    """A 2 MB .jsonl.gz that inflates to 2 GiB, budget 32 MiB: stops at the budget (it inflated all)."""
    record = b'{"layer": "0-x", "index": "1", "description": "a"}\n'
    bomb = tmp_path / "labels.jsonl.gz"
    bomb.write_bytes(gzip_bomb(64 * MIB, 32, prefix=record))
    assert bomb.stat().st_size < 3 * MIB
    warm = tmp_path / "warm.jsonl"
    warm.write_bytes(record)
    read_source(warm, {})  # the imports reading a source triggers, before any peak is measured
    monkeypatch.setenv("ATTRGRAPH_MAX_INPUT_MB", "32")
    started = time.perf_counter()
    result = cli_in_child(["autointerp", graph_file, "-l", bomb, "-o", tmp_path / "o.json"], timeout_s=20)
    assert_one_error_line(result, "inflates to more than the 32.0 MiB limit", "labels.jsonl.gz")
    assert time.perf_counter() - started < 10
    out, peak = _peak(lambda: read_source(bomb, {}))
    assert isinstance(out, SourceError) and peak < 32 * MIB * 1.4, (out, peak / MIB)


def test_gzip_source_within_the_budget_is_read(tmp_path, keys, monkeypatch):
    """The control: the same path for an honest .jsonl.gz."""
    monkeypatch.setenv("ATTRGRAPH_MAX_INPUT_MB", "8")
    layer, index = keys[0]
    path = tmp_path / "ok.jsonl.gz"
    path.write_bytes(gzip.compress(json.dumps({"layer": layer, "index": index, "description": "d"}).encode()))
    assert read_source(path, numbers(keys)).matched[keys[0]].label == "d"


@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_source_memory_follows_the_records_kept_not_the_file(tmp_path, keys, form):
    """1 MB of records for features the graph does not have: read in one lazy pass, keeping only the
    graph's (a list of every line, or of every parsed record, was held: ~10x the file)."""
    line = '{"layer": "4000-x", "index": "1", "description": "d"}\n' if form == "jsonl" else "4000,1,d\n"
    layer, index = keys[0]
    first = (
        json.dumps({"layer": f"{layer}-x", "index": index, "description": "kept"}) + "\n"
        if form == "jsonl"
        else f"{layer},{index},kept\n"
    )
    path = tmp_path / f"big.{form}"
    path.write_text(first + line * (1_000_000 // len(line)))
    size = path.stat().st_size
    read_source(tmp_path / "warm.csv" if _write(tmp_path / "warm.csv", "1,2,x\n") else path, {})
    out, peak = _peak(lambda: read_source(path, numbers(keys)))
    assert not isinstance(out, Exception), out
    assert out.matched[keys[0]].label == "kept" and out.entries > 15_000
    assert peak < 4 * size, f"peak {peak / MIB:.1f} MiB for a {size / MIB:.1f} MiB source"


def _write(path: Path, text: str) -> bool:
    path.write_text(text)
    return True


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "sparse"])
@pytest.mark.parametrize("reader", ["plan", "batch"])
def test_plan_and_batch_files_get_the_same_guard(tmp_path, kind, reader):
    from attrgraph_cli.intervene.plan import read_plan
    from attrgraph_cli.trace.batch import read_batch

    suffix = ".jsonl"
    path = {
        "dev-zero": lambda: Path("/dev/zero"),
        "fifo": lambda: _fifo(tmp_path, "f" + suffix),
        "directory": lambda: (tmp_path / ("d" + suffix)).mkdir() or tmp_path / ("d" + suffix),
        "sparse": lambda: _sparse(tmp_path / ("s" + suffix), 3 << 30),
    }[kind]()
    read = read_plan if reader == "plan" else read_batch

    def call() -> None:
        try:
            read(path)
        except AttrgraphError as exc:
            raise SystemExit(f"attrgraph: error: {exc}") from None

    result = in_child(call, timeout_s=10)
    needle = {"dev-zero": "character device", "fifo": "FIFO", "directory": "is a directory", "sparse": "over"}
    line = assert_one_error_line(result, needle[kind], str(path))
    assert f"a {reader} file" in line


# ---- crashes inside label sources ------------------------------------------------------------------------
BAD_NUMBERS = ["²", "٣", "9" * 5000, "-", "1e3", " "]


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("column", [0, 1])
def test_table_with_odd_digits_names_the_line(tmp_path, keys, value, column):
    row = ["3", "4", "label"]
    row[column] = value
    path = tmp_path / "t.csv"
    path.write_text("layer,feature,label\n1,2,ok\n" + ",".join(row) + "\n")
    with pytest.raises(SourceError, match=r"t\.csv, line 3: layer and feature must be integers") as err:
        list(read_source(path, numbers(keys)).matched)
    assert len(str(err.value)) < 300


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("field", ["layer", "index"])
def test_explanation_export_with_odd_digits_names_the_record(tmp_path, keys, value, field):
    record = {"layer": "3-x", "index": "4", "description": "d"}
    record[field] = value
    path = tmp_path / "e.jsonl"
    path.write_text(
        json.dumps({"layer": "1-x", "index": "2", "description": "ok"}) + "\n" + json.dumps(record)
    )
    with pytest.raises(SourceError, match=r"e\.jsonl: record 1 has layer") as err:
        read_source(path, numbers(keys))
    assert len(str(err.value)) < 300


def test_csv_field_over_the_csv_limit_names_the_line(tmp_path, keys):
    path = tmp_path / "big.csv"
    path.write_text(f"1,2,ok\n3,4,{'x' * 140_000}\n")
    with pytest.raises(SourceError, match=r"big\.csv, line 2: not a readable CSV row"):
        read_source(path, numbers(keys))


def _clt_folder(tmp_path: Path, key: tuple[int, int], doc: dict, freq: dict | None = None) -> Path:
    folder = tmp_path / "clt"
    (folder / f"layer{key[0]}").mkdir(parents=True)
    (folder / f"layer{key[0]}" / f"feature_{key[1]}_complete.json").write_text(json.dumps(doc))
    if freq is not None:
        (folder / "feature_freq.json").write_text(json.dumps(freq))
    return folder


@pytest.mark.parametrize("field", ["top_examples_tks", "top_examples", "top_activating_tokens"])
def test_clt_forge_list_field_of_another_type_names_the_file(tmp_path, keys, field):
    folder = _clt_folder(tmp_path, keys[0], {"description": "x", field: 5})
    with pytest.raises(SourceError, match=rf"feature_{keys[0][1]}_complete\.json: {field} is an integer"):
        read_source(folder, numbers(keys))


@pytest.mark.parametrize(
    "freq",
    [
        {"layer_0": {"²": 0.5}},
        {"layer_0": {"9" * 5000: 0.5}},
        {"layer_" + "9" * 5000: [0.5]},
        {"layer_²": [1]},
    ],
)
def test_clt_forge_frequency_file_with_odd_digits(tmp_path, keys, freq):
    folder = _clt_folder(tmp_path, keys[0], {"description": "x", "top_examples": []}, freq)
    try:
        result = read_source(folder, numbers(keys))
    except SourceError as exc:
        assert "feature_freq.json: layer key" in str(exc) and len(str(exc)) < 300
    else:
        assert result.matched[keys[0]].label == "x"


# ---- messages ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("histogram", {"edges": [0, 1, 2], "counts": [1, None]}, "histogram.counts.1 is None"),
        ("act_max", "big", "act_max is 'big', expected number"),
    ],
)
def test_bad_imported_details_are_blamed_on_the_source_entry(tmp_path, graph_file, keys, field, value, shown):
    folder = tmp_path / "features"
    folder.mkdir()
    number = feature_number(*keys[0])
    doc = city_details(number) | {field: value, "description": "a label"}
    (folder / f"{number}.json").write_text(json.dumps(doc))
    result = cli_in_child(["autointerp", graph_file, "-l", folder, "-o", tmp_path / "o.json"], timeout_s=30)
    line = assert_one_error_line(
        result, f"{number}.json (feature {keys[0][0]}_{keys[0][1]})", shown, codes=(1,)
    )
    assert "produced an invalid graph" not in line


def test_json_export_with_a_bom_is_read(tmp_path, keys):
    layer, index = keys[0]
    path = tmp_path / "bom.json"
    path.write_bytes(
        b"\xef\xbb\xbf" + orjson.dumps([{"layer": f"{layer}-x", "index": index, "description": "d"}])
    )
    result = read_source(path, numbers(keys))
    assert result.fmt == "neuronpedia-explanations" and result.matched[keys[0]].label == "d"


def test_two_source_sets_are_never_picked_silently(tmp_path, keys):
    """Sets `a` and `b`, a graph whose scan is `gemma` (which holds the letter a): an error naming both
    (it took `a`); a hint naming a set as a whole word still chooses it, and the report says so."""
    layer, index = keys[0]
    records = [{"layer": f"{layer}-{s}", "index": index, "description": s} for s in ("a", "b")]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(records))
    with pytest.raises(SourceError, match=r"several source sets \('a' \(1\), 'b' \(1\)\)"):
        read_source(path, numbers(keys), graph_hint="gemma")
    chosen = read_source(path, numbers(keys), graph_hint="gemma-2-2b b")
    assert chosen.source_set == "b" and chosen.sets == {"a": 1, "b": 1}


def test_source_set_choice_is_reported(tmp_path, graph_file, keys):

    layer, index = keys[0]
    records = [{"layer": f"{layer}-{s}", "index": index, "description": f"from {s}"} for s in ("a", "b")]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(records))
    out = tmp_path / "o.json"
    args = [
        "autointerp",
        str(graph_file),
        "-l",
        str(path),
        "--source-set",
        "b",
        "-o",
        str(out),
        "--no-dashboards",
    ]
    result = run_cli(*args)
    assert result.code == 0, result.output
    assert "source set 'b' (--source-set) of 'a' (1), 'b' (1)" in result.output


def test_a_source_with_nothing_usable_says_what_it_held(tmp_path, graph_file, keys):
    """Matched feature details without a label or an example: not "no label source" but what it held."""
    folder = tmp_path / "features"
    folder.mkdir()
    for layer, index in keys:
        number = feature_number(layer, index)
        doc = {"index": number, "examples_quantiles": [{"quantile_name": "top", "examples": []}]}
        (folder / f"{number}.json").write_text(json.dumps(doc))
    result = cli_in_child(
        ["autointerp", graph_file, "-l", folder, "-o", tmp_path / "o.json", "--no-dashboards"], timeout_s=30
    )
    line = assert_one_error_line(result, "features (feature-details", "0 with a label", codes=(1,))
    assert "no label source" not in line


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "no-line-breaks"])
def test_corpus_file_is_guarded_too(tmp_path, kind):
    """`autointerp --corpus`: a FIFO or a device is refused unread; a file without line breaks (a sparse
    3 GiB file of NULs) stops after one 16 MiB line (it was read whole as one document)."""
    from attrgraph_cli.autointerp.corpus import read_documents

    path = {
        "fifo": lambda: _fifo(tmp_path, "c.txt"),
        "dev-zero": lambda: Path("/dev/zero"),
        "no-line-breaks": lambda: _sparse(tmp_path / "c.txt", 3 << 30),
    }[kind]()

    def call() -> None:
        try:
            next(read_documents(path))
        except AttrgraphError as exc:
            raise SystemExit(f"attrgraph: error: {exc}") from None

    needle = {"fifo": "FIFO", "dev-zero": "character device", "no-line-breaks": "line 1: longer than"}[kind]
    assert_one_error_line(in_child(call, timeout_s=20), needle)


DEEP = "__deep__"


def _with_deep(doc: object, n: int = 1000) -> bytes:
    """JSON of `doc` with each `DEEP` string replaced by a list nested `n` deep (orjson reads up to 1,024
    levels; `repr`/`str` of such a list overflow the recursion limit; no encoder writes it)."""
    return orjson.dumps(doc).replace(f'"{DEEP}"'.encode(), b"[" * n + b"]" * n)


@pytest.mark.parametrize("field", ["quantile_name", "act_max", "top_logit_values"])
def test_deeply_nested_detail_values_are_one_line(tmp_path, keys, field):
    """Found by extending the fuzz values with 1,000-deep lists: `str()` of a quantile name and the schema
    check's message (`repr` of the value) raised RecursionError (exit 3)."""
    number = feature_number(*keys[0])
    doc = city_details(number)
    if field == "quantile_name":
        doc["examples_quantiles"][0]["quantile_name"] = DEEP
    else:
        doc[field] = DEEP
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / f"{number}.json").write_bytes(_with_deep(doc))
    with pytest.raises(SourceError, match="nested more than 8 levels deep"):
        read_source(folder, numbers(keys))


@pytest.mark.parametrize("field", ["typeName", "createdAt", "explanationModelName", "layer", "index"])
def test_deeply_nested_explanation_fields_are_one_line_or_ignored(tmp_path, keys, field):
    layer, index = keys[0]
    record = {"layer": f"{layer}-x", "index": index, "description": "d", field: DEEP}
    path = tmp_path / "deep.json"
    path.write_bytes(_with_deep([record]))
    if field in ("layer", "index"):
        with pytest.raises(SourceError, match="nested over 40 deep"):
            read_source(path, numbers(keys))
    else:
        assert read_source(path, numbers(keys)).matched[keys[0]].label == "d"
