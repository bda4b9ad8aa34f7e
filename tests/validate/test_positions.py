"""Positions of problems (validate/positions.py): the line and column of the value a path names."""

from __future__ import annotations

import json

import pytest

from attrgraph_cli.io import json_paths as paths
from attrgraph_cli.validate.files import Options, validate_file
from attrgraph_cli.validate.positions import Position, line_columns, locate, parse_path
from attrgraph_testing.validate_helpers import valid_document


def text_at(text: str, at: Position) -> str:
    """The text of `text` from line `at.line`, column `at.column` (1-based code points), to the line's end."""
    return text.split("\n")[at.line - 1][at.column - 1 :]


@pytest.mark.parametrize(
    "steps",
    [
        ["links", 4012, "target"],
        ["attrgraph", "features", "3_12", "label"],
        ["qk_only_nodes", "0_1_2", "clerp"],
        ["weird", 'a "quoted" key', "x.y", "[0]", "ünï ☃", ""],
        [],
    ],
)
def test_parse_path_reads_what_paths_writes(steps) -> None:
    path = paths.ROOT
    for step in steps:
        path = paths.index(path, step) if isinstance(step, int) else paths.key(path, step)
    assert parse_path(path) == steps


@pytest.mark.parametrize("path", ["links[", "links[x]", "a b", "links]3[", '["unterminated]'])
def test_parse_path_refuses_what_paths_never_writes(path) -> None:
    assert parse_path(path) is None


def test_locate_in_indented_and_compact_json() -> None:
    doc = {"a": [1, {"b": "x"}, 3], "é ü": {"k": [True, None]}, "links": [{"source": "s", "target": "t"}]}
    for text in (json.dumps(doc, indent=2, ensure_ascii=False), json.dumps(doc, ensure_ascii=False)):
        found = locate(text.encode(), ["a[1].b", '["é ü"].k[1]', "links[0].target", "$"])
        assert text_at(text, found["a[1].b"]).startswith('"x"')
        assert text_at(text, found['["é ü"].k[1]']).startswith("null")  # columns count characters
        assert text_at(text, found["links[0].target"]).startswith('"t"')
        assert found["$"] == Position(1, 1)


def test_missing_member_points_at_the_object_that_lacks_it() -> None:
    text = '{\n  "metadata": {"slug": "x"},\n  "links": [\n    {"source": "a"}\n  ]\n}'
    found = locate(text.encode(), ["metadata.info", "links[0].target", "links[9]", "nope.deeper"])
    assert text_at(text, found["metadata.info"]).startswith('{"slug"')
    assert text_at(text, found["links[0].target"]).startswith('{"source"')
    assert text_at(text, found["links[9]"]).startswith("[")
    assert found["nope.deeper"] == Position(1, 1)


def test_nan_tokens_bom_and_crlf_keep_their_places() -> None:
    text = '\ufeff{"nodes": [\r\n  {"influence": NaN, "x": "NaN"},\r\n  {"influence": -Infinity}\r\n]}'
    data = text.encode("utf-8")
    found = locate(data, ["nodes[0].influence", "nodes[1].influence", "nodes[0].x", "nodes"])
    body = text[1:].replace("\r", "")  # BOM is not a column; \r is the end of the line
    assert text_at(body, found["nodes[0].influence"]).startswith("NaN,")
    assert text_at(body, found["nodes[1].influence"]).startswith("-Infinity}")
    assert text_at(body, found["nodes[0].x"]).startswith('"NaN"')
    assert found["nodes"] == Position(1, 11)


def test_not_json_has_no_positions() -> None:
    assert locate(b'{"a": [1, 2', ["a[1]"]) == {}
    assert locate(b"", ["a"]) == {}


def test_line_columns_in_one_pass_over_multibyte_text() -> None:
    text = "ab\nçd☃ef\n\ng"
    data = text.encode()
    offsets = [data.index(c.encode()) for c in "abçd☃efg"]
    got = line_columns(data, offsets)
    assert [tuple(got[o]) for o in offsets] == [
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
        (2, 3),
        (2, 4),
        (2, 5),
        (4, 1),
    ]


def test_positions_only_when_there_are_problems(tmp_path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(valid_document(), indent=1))
    assert validate_file(good, Options()).positions == {}
    doc = valid_document()
    doc["links"][7]["weight"] = "heavy"
    bad = tmp_path / "bad.json"
    text = json.dumps(doc, indent=1)
    bad.write_text(text)
    report = validate_file(bad, Options())
    (problem,) = report.sink.problems
    assert problem.path == "links[7].weight"
    assert text_at(text, report.position(problem)).startswith('"heavy"')
    assert validate_file(bad, Options(positions=False)).positions == {}


def test_lone_surrogate_escapes_and_huge_numbers_still_place() -> None:
    # Python's json reads both (the precise pass), msgspec refuses the lone surrogate
    text = '{"nodes": [{"clerp": "\\ud800 x", "influence": 1e999}, {"clerp": "\\\\ud800"}], "b": 1}'
    found = locate(text.encode(), ["nodes[0].influence", "nodes[1].clerp", "b"])
    assert text_at(text, found["nodes[0].influence"]).startswith("1e999}")
    assert text_at(text, found["nodes[1].clerp"]).startswith('"\\\\ud800"')
    assert text_at(text, found["b"]).startswith("1}")


def test_valid_file_never_computes_positions(tmp_path, monkeypatch) -> None:
    from attrgraph_cli.validate import files

    def refuse(*_args, **_kwargs):
        raise AssertionError("positions computed for a file without problems")

    monkeypatch.setattr(files, "locate", refuse)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(valid_document()))
    assert validate_file(good, Options()).status == "valid"
    doc = valid_document()
    doc["links"][0]["weight"] = None
    good.write_text(json.dumps(doc))
    with pytest.raises(AssertionError, match="positions computed"):  # control: a problem does call it
        validate_file(good, Options())


def _value_at(doc, steps):
    """The value at `steps`, or that of the deepest step that exists (what a position points at)."""
    value = doc
    for step in steps:
        if isinstance(value, dict) and isinstance(step, str) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            break
    return value


def _broken_everywhere() -> dict:
    """One graph with a problem of most rules, the extension's included."""
    doc = valid_document(400, seed=5)
    nodes, links = doc["nodes"], doc["links"]
    feature = next(i for i, n in enumerate(nodes) if n["feature_type"] == "cross layer transcoder")
    logit = next(i for i, n in enumerate(nodes) if n["feature_type"] == "logit")
    links[5]["target"] = "nope"
    links[6]["weight"] = float("nan")
    links[7]["source"] = 12
    nodes[3]["node_id"] = nodes[2]["node_id"]
    nodes[feature]["ctx_idx"] = 99
    nodes[feature]["influence"] = 7.5
    nodes[logit]["clerp"] = "not a logit ☃"
    nodes[4]["layer"] = "x"
    del nodes[8]["activation"]
    nodes[9]["surprise"] = {"é": [1, 2]}
    del doc["metadata"]["info"]
    doc["qParams"]["pinnedIds"] = ["a", nodes[0]["node_id"], "b"]
    doc["qParams"]["supernodes"] = [["group", nodes[0]["node_id"], "ghost"], "bad"]
    doc["attrgraph"] = {
        "version": 0,
        "features": {
            "3_12": {"layer": 3, "index": 12, "label": 5, "source": "heuristic"},
            "1_2": {"layer": 4, "index": 2, "label": "", "source": "table"},
        },
        "history": [{"stage": "x"}],
        "future": {"k": 1},
    }
    return doc


@pytest.mark.parametrize("indent", [None, 2])
def test_every_problem_is_placed_on_its_value(tmp_path, indent) -> None:
    doc = _broken_everywhere()
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    path = tmp_path / "broken.json"
    path.write_text(text, "utf-8")
    report = validate_file(path, Options(max_per_rule=None))
    rules = {p.rule for p in report.sink.problems}
    assert len(rules) >= 15, rules
    assert {"json.non-standard-number", "extension.features", "extension.history"} <= rules
    for problem in report.sink.problems:
        value = _value_at(doc, parse_path(problem.path))
        token = json.dumps(value, ensure_ascii=False)[:1] if isinstance(value, (dict, list)) else None
        token = token or json.dumps(value, ensure_ascii=False)
        assert text_at(text, report.position(problem)).startswith(token), (problem.rule, problem.path)
