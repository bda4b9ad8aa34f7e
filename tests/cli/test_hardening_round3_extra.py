"""Issue 23, the further hostile inputs tried after the round-3 fixes ("Further hostile inputs" in
docs/hardening-round3.md). Each test failed on the code before its fix; controls sit beside them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import typer

from attrgraph_cli.io import save_graph
from attrgraph_cli.io.neuronpedia_json import dumps
from attrgraph_cli.io.neuronpedia_link import LinkError, parse_link
from attrgraph_cli.safetext import json_bytes
from attrgraph_testing.cli import run_cli as in_process
from attrgraph_testing.np_server import Reply, Server, graph_metadata_row, js
from attrgraph_testing.synthetic import random_graph

MODEL, SLUG = "gemma-2-2b", "dallas-austin"


def run_cli(*args: str | bytes, stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attrgraph_cli", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=120,
    )


def one_error_line(result: subprocess.CompletedProcess) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode in (1, 2), (result.returncode, err)
    lines = [line for line in err.splitlines() if line.startswith("attrgraph: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---- Neuronpedia links ------------------------------------------------------------------------------------
def _serve_graph(srv: Server) -> None:
    doc = orjson.loads(dumps(random_graph(n_links=200, n_layers=4, n_tokens=5, n_logits=3, seed=3)))
    doc["metadata"].update(scan=MODEL, slug=SLUG)
    stored = f"{srv.url}/bucket/{SLUG}.json"
    srv.routes[("GET", f"/api/graph/{MODEL}/{SLUG}")] = js(
        graph_metadata_row(srv.url, MODEL, SLUG, stored, None)
    )
    srv.routes[("GET", f"/bucket/{SLUG}.json")] = Reply(200, orjson.dumps(doc))


def test_api_key_goes_to_the_configured_neuronpedia_not_to_a_links_host(tmp_path, monkeypatch):
    """A pasted link names its own host: that host got $NEURONPEDIA_API_KEY with the metadata request."""
    configured, elsewhere = Server(), Server()
    try:
        for srv in (configured, elsewhere):
            _serve_graph(srv)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", configured.url)
        monkeypatch.setenv("NEURONPEDIA_API_KEY", "SECRET-KEY")
        hostile = in_process(
            "convert", f"{elsewhere.url}/{MODEL}/graph?slug={SLUG}", "-o", tmp_path / "a.json"
        )
        control = in_process(
            "convert", f"{configured.url}/{MODEL}/graph?slug={SLUG}", "-o", tmp_path / "b.json"
        )
        assert hostile.code == 0 and control.code == 0, (hostile.output, control.output)
        assert elsewhere.requests("GET", "/api/graph/")  # the link was followed ...
        assert all("x-api-key" not in s.headers for s in elsewhere.requests())  # ... without the key
        assert (
            configured.requests("GET", "/api/graph/")[0].headers.get("x-api-key") == "SECRET-KEY"
        )  # control
    finally:
        configured.close()
        elsewhere.close()


def test_link_with_a_user_and_password_is_refused():
    """`https://u:pw@host/...` was fetched with Basic auth and the page URL, password included, was
    recorded in the graph and in the cache."""
    with pytest.raises(LinkError) as info:
        parse_link(f"http://user:hunter2@127.0.0.1:9/{MODEL}/graph?slug={SLUG}")
    assert "hunter2" not in str(info.value)
    assert parse_link(f"http://127.0.0.1:9/{MODEL}/graph?slug={SLUG}").slug == SLUG  # control


def test_a_link_longer_than_a_file_name_is_one_line(tmp_path, monkeypatch):
    """Checking whether the link is a local file raised ENAMETOOLONG: exit 3 "unexpected OSError"."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    link = f"http://127.0.0.1:9/{MODEL}/graph?slug={SLUG}&supernodes=" + "%5B" * 6000 + "%5D" * 6000
    result = in_process("convert", link, "-o", tmp_path / "o.json")
    assert result.code == 2, result.output
    assert "too long" in result.output and "unexpected" not in result.output


# ---- plan files -------------------------------------------------------------------------------------------
def test_yaml_plan_aliases_are_refused(tmp_path):
    """`&a [2,000 targets]` and 9,000 `{ablate: *a}`: 76 kB that became 18 million targets (4 GB, 52 s)
    before the target cap could count them."""
    from attrgraph_cli.intervene.plan import read_plan
    from attrgraph_cli.intervene.spec import SpecError

    bomb = tmp_path / "bomb.yaml"
    many = ",".join(['"2_2865_3"'] * 2000)
    bomb.write_text(f"x: &a [{many}]\ninterventions: [" + ",".join(["{ablate: *a}"] * 9000) + "]\n")
    with pytest.raises(SpecError, match=r"line 2: an alias"):
        read_plan(bomb)
    plain = tmp_path / "plain.yaml"  # control: the same shape written out
    plain.write_text('interventions:\n  - name: one\n    ablate: ["2_2865_3", "1_7_0"]\n')
    assert len(read_plan(plain)) == 1


# ---- writes that fail -------------------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_is_one_line(tmp_path):
    """`-o /dev/full` and `-o -` on a full stdout: exit 3 "unexpected OSError: No space left on device"."""
    graph = tmp_path / "g.json"
    save_graph(random_graph(n_links=300, n_layers=3, n_tokens=3, seed=2), graph)
    line = one_error_line(run_cli("convert", str(graph), "-o", "/dev/full"))
    assert "/dev/full: cannot write (No space left on device)" in line
    with open("/dev/full", "wb") as full:
        line = one_error_line(run_cli("validate", "-f", "json", str(graph), stdout=full))
    assert "cannot write the output (No space left on device)" in line
    ok = run_cli("convert", str(graph), "-o", "/dev/null")  # control: a device that takes the bytes
    assert ok.returncode == 0, ok.stderr


# ---- file names that are not UTF-8 ------------------------------------------------------------------------
def test_a_file_name_that_is_not_utf8(tmp_path):
    """validate's JSON/SARIF/Code Quality reports crashed (exit 3, or nothing written) on a file named with
    bytes that are not UTF-8; convert refused the graph ("a value that JSON cannot represent") because the
    name went into its history record."""
    name = os.fsdecode(os.fsencode(str(tmp_path)) + b"/k\xffl.json")
    save_graph(random_graph(n_links=300, n_layers=3, n_tokens=3, seed=2), name)
    sarif, quality = tmp_path / "r.sarif", tmp_path / "r.json"
    result = run_cli(
        "validate", "-f", "json", name, "--report", f"sarif:{sarif}", "--report", f"codequality:{quality}"
    )
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["files"][0]["path"].endswith("k\ufffdl.json")
    uri = json.loads(sarif.read_text())["runs"][0]["results"]
    assert json.loads(quality.read_text()) is not None
    assert all("%FF" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in uri)
    out = tmp_path / "out.json"
    converted = run_cli("convert", name, "-o", str(out))
    assert converted.returncode == 0, converted.stderr
    inputs = json.loads(out.read_text())["attrgraph"]["history"][-1]["inputs"]
    assert inputs[0]["name"] == "k\ufffdl.json"


def test_no_surrogates_and_del_in_json_for_a_terminal():
    from attrgraph_cli.safetext import no_surrogates

    assert no_surrogates({"a\udcff": ["x\ud800", 1]}) == {"a\ufffd": ["x\ufffd", 1]}
    assert json_bytes('"a\x7fb\x85"'.encode()) == b'"a\\u007fb\\u0085"'
    from attrgraph_cli.validate.report_junit import xml_text

    assert xml_text("g\x7fh\x9b") == "g\\x7fh\\x9b"
    assert xml_text("plain é") == "plain é"  # control


# ---- Ctrl-C while click parses ----------------------------------------------------------------------------
def test_click_abort_is_one_line(capsys):
    """helpfmt caught `exceptions.Abort`, which typer's vendored click does not have: an Abort (Ctrl-C
    while click parses) became AttributeError with a traceback."""
    from attrgraph_cli import helpfmt

    tiny = typer.Typer()

    @tiny.command()
    def stop() -> None:
        raise typer.Abort()

    with pytest.raises(SystemExit) as info:
        helpfmt.run(typer.main.get_command(tiny), [])
    assert info.value.code == 130
    assert capsys.readouterr().err == "attrgraph: error: interrupted\n"


def test_history_name_is_json(tmp_path):
    from attrgraph_cli.stages.provenance import input_record

    path = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/a\xfeb.json"))
    path.write_bytes(b"{}")
    assert orjson.dumps(input_record(path, "input"))  # raised TypeError (lone surrogate) before


@pytest.mark.parametrize("value", ["inf", "1e400", "-1"])
def test_input_limit_from_the_environment_must_be_a_size(monkeypatch, value):
    """`ATTRGRAPH_MAX_INPUT_MB=inf` (or 1e400) was exit 3 "unexpected OverflowError"; -1 was taken."""
    from attrgraph_cli.errors import GraphFormatError
    from attrgraph_cli.io.sniff import max_input_bytes

    monkeypatch.setenv("ATTRGRAPH_MAX_INPUT_MB", value)
    with pytest.raises(GraphFormatError, match="is not a number of MiB"):
        max_input_bytes()
    monkeypatch.setenv("ATTRGRAPH_MAX_INPUT_MB", "1.5")  # control
    assert max_input_bytes() == 3 << 19
