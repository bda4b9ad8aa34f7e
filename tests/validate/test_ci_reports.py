"""`attrgraph validate` in CI: positions in every format, SARIF (schema-checked), JUnit, Code Quality,
several reports from one run, --changed-since, the pre-commit hook and the README's CI recipes."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
import pytest
import yaml

from attrgraph_testing.cli import CliResult
from attrgraph_testing.light_core import run_blocked
from attrgraph_testing.paths import REPO
from attrgraph_testing.validate_helpers import run, valid_document

SARIF_SCHEMA = REPO / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"
SARIF_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
FORMATS = ("text", "json", "github", "sarif", "junit", "codequality")


def run_command(command: str, cwd: Path) -> CliResult:
    """A shell line `attrgraph validate ...` from a recipe, run with this interpreter's attrgraph."""
    argv = shlex.split(command)
    assert argv[:2] == ["attrgraph", "validate"], command
    return run(*argv[2:], cwd=cwd)


def sarif_errors(log: dict) -> list[str]:
    from jsonschema import Draft4Validator

    schema = json.loads(SARIF_SCHEMA.read_text())
    return [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(schema).iter_errors(log)]


def at(text: str, line: int, column: int) -> str:
    """The file's text from (line, column) (1-based, columns in characters) to the end of that line."""
    return text.split("\n")[line - 1][column - 1 :]


# ----------------------------------------------------------------------------- a deep planted defect
PLANTED = {  # problem path -> the JSON text of the value it is about
    "links[54000].target": '"not-a-node"',
    "nodes[1200].influence": "1.5",
    'attrgraph.features["3_12"].label': "5",
}


@pytest.fixture(scope="module", params=["indented", "compact"])
def planted(request, tmp_path_factory) -> dict:
    """A real-shaped 55k-link graph (indented like json.dump(indent=2), or compact on one line) with three
    defects deep inside, and every report of one `validate` run over it."""
    doc = valid_document(55_000, seed=3)
    assert len(doc["links"]) > 54_000 and len(doc["nodes"]) > 1200
    doc["nodes"][0]["clerp"] = "naïve ☃ café"  # characters, not bytes, before the defects on one line
    doc["links"][54_000]["target"] = "not-a-node"
    doc["nodes"][1200]["influence"] = 1.5
    doc["attrgraph"] = {"features": {"3_12": {"layer": 3, "index": 12, "label": 5, "source": "heuristic"}}}
    root = tmp_path_factory.mktemp(f"planted-{request.param}")
    path = root / "graph.json"
    indent = 2 if request.param == "indented" else None
    separators = None if indent else (",", ":")
    path.write_text(json.dumps(doc, indent=indent, separators=separators, ensure_ascii=False), "utf-8")
    reports = {fmt: root / f"report.{fmt}" for fmt in FORMATS[1:]}
    args = [a for fmt, p in reports.items() for a in ("--report", f"{fmt}:{p}")]
    out = run("graph.json", *args, cwd=root)
    assert out.code == 1, out.stderr
    return {
        "path": path,
        "text": path.read_text("utf-8"),
        "stdout": out.stdout,
        **{fmt: p.read_text("utf-8") for fmt, p in reports.items()},
    }


def _check(planted: dict, found: dict[str, tuple[int, int]]) -> None:
    assert set(PLANTED) <= set(found), found
    for path, value in PLANTED.items():
        line, column = found[path]
        assert at(planted["text"], line, column).startswith(value), (path, line, column)


def test_text_shows_file_line_col(planted) -> None:
    found = {
        m.group(4): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(r"^ +(graph\.json):(\d+):(\d+) +(\S+)  ", planted["stdout"], re.MULTILINE)
    }
    _check(planted, found)


def test_json_has_line_and_column(planted) -> None:
    (entry,) = json.loads(planted["json"])["files"]
    _check(planted, {p["path"]: (p["line"], p["column"]) for p in entry["problems"]})


def test_github_annotations_have_line_and_col(planted) -> None:
    pattern = r"^::(?:error|warning) file=graph\.json,line=(\d+),col=(\d+),title=attrgraph \S+::(\S+): "
    found = {
        m.group(3): (int(m.group(1)), int(m.group(2))) for m in re.finditer(pattern, planted["github"], re.M)
    }
    _check(planted, found)


def test_sarif_regions(planted) -> None:
    log = json.loads(planted["sarif"])
    assert sarif_errors(log) == []
    results = log["runs"][0]["results"]
    found = {}
    for r in results:
        (loc,) = r["locations"]
        assert loc["physicalLocation"]["artifactLocation"] == {"uri": "graph.json", "uriBaseId": "%SRCROOT%"}
        region = loc["physicalLocation"]["region"]
        found[loc["logicalLocations"][0]["fullyQualifiedName"]] = (region["startLine"], region["startColumn"])
    _check(planted, found)
    by_path = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r for r in results}
    assert by_path["links[54000].target"]["ruleId"] == "links.endpoint"
    assert by_path['attrgraph.features["3_12"].label']["ruleId"] == "extension.features"


def test_junit_failure_text_has_file_line_col(planted) -> None:
    suites = ET.fromstring(planted["junit"].encode())
    (case,) = suites.iter("testcase")
    failure = case.find("failure")
    assert failure is not None and case.get("name") == "graph.json"
    pattern = r"^graph\.json:(\d+):(\d+): error \S+ (\S+): "
    found = {m.group(3): (int(m.group(1)), int(m.group(2))) for m in re.finditer(pattern, failure.text, re.M)}
    _check(planted, found)


def test_codequality_positions(planted) -> None:
    issues = json.loads(planted["codequality"])
    found = {}
    for issue in issues:
        assert issue["location"]["path"] == "graph.json"
        begin = issue["location"]["positions"]["begin"]
        found[issue["description"].split(": ", 1)[0]] = (begin["line"], begin["column"])
        assert issue["severity"] in ("major", "minor") and len(issue["fingerprint"]) == 32
    _check(planted, found)


# ------------------------------------------------------------------------------------------ a folder
@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """graphs/: a valid graph, an invalid one, one with warnings only, an unreadable one, a feature file."""
    root = tmp_path_factory.mktemp("ci")
    graphs = root / "graphs"
    (graphs / "features").mkdir(parents=True)
    (graphs / "good.json").write_bytes(orjson.dumps(valid_document(), option=orjson.OPT_INDENT_2))
    bad = valid_document()
    bad["links"][3]["source"] = "gone"
    for link in bad["links"][10:40]:
        link["weight"] = "heavy"  # 30 schema.type errors: 20 kept, 10 counted
    (graphs / "bad graph ☃.json").write_bytes(orjson.dumps(bad, option=orjson.OPT_INDENT_2))
    warn = valid_document()
    del warn["metadata"]["info"]
    (graphs / "warn.json").write_bytes(orjson.dumps(warn, option=orjson.OPT_INDENT_2))
    (graphs / "broken.json").write_text('{"nodes": [1 2]}')
    (graphs / "features" / "7.json").write_text(
        json.dumps({"index": 7, "examples_quantiles": [], "top_logits": [], "bottom_logits": []})
    )
    return root


def test_sarif_is_schema_valid_with_every_kind_of_finding(folder) -> None:
    out = run("graphs", "--format", "sarif", "--strict", cwd=folder)
    assert out.code == 2  # broken.json is unreadable
    assert out.stderr.count("attrgraph: error: ") == 1 and "broken.json" in out.stderr
    log = json.loads(out.stdout)
    assert sarif_errors(log) == []
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert run_["tool"]["driver"]["name"] == "attrgraph" and run_["tool"]["driver"]["version"]
    for rule in rules:
        assert rule["id"] and rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    ids = [rule["id"] for rule in rules]
    for result in run_["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run_["results"]}
    assert uris == {"graphs/bad%20graph%20%E2%98%83.json", "graphs/warn.json"}
    warn = [
        r
        for r in run_["results"]
        if "warn" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    ]
    assert [r["level"] for r in warn] == ["error"]  # --strict: warnings fail, so they are errors
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert {n["level"] for n in notes} == {"error", "note"}
    assert any("10 more schema.type problems" in n["message"]["text"] for n in notes)
    assert run_["invocations"][0]["executionSuccessful"] is False


def test_sarif_file_outside_the_working_directory_is_an_absolute_uri(folder, tmp_path) -> None:
    out = run(str(folder / "graphs" / "warn.json"), "--format", "sarif", cwd=tmp_path)
    log = json.loads(out.stdout)
    assert sarif_errors(log) == []
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": (folder / "graphs" / "warn.json").resolve().as_uri()}


def test_sarif_schema_copy_is_the_published_one() -> None:
    assert hashlib.sha256(SARIF_SCHEMA.read_bytes()).hexdigest() == SARIF_SHA256
    assert (SARIF_SCHEMA.parent / "LICENSE").is_file() and (SARIF_SCHEMA.parent / "NOTICE.md").is_file()
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{"message": {}}]}]}
    assert sarif_errors(broken)  # the schema does catch a bad log


def test_junit_counts_failing_files(folder) -> None:
    out = run("graphs", "--format", "junit", cwd=folder)
    assert out.code == 2
    suites = ET.fromstring(out.stdout.encode())
    suite = suites.find("testsuite")
    assert suite is not None
    counts = {k: int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": 5, "failures": 1, "errors": 1, "skipped": 0}
    assert {k: int(suites.get(k)) for k in counts} == counts
    cases = {Path(c.get("name")).name: c for c in suite.iter("testcase")}
    assert cases["bad graph ☃.json"].find("failure") is not None
    assert cases["broken.json"].find("error") is not None
    assert "metadata.info-missing" in cases["warn.json"].find("system-out").text
    assert cases["good.json"].find("failure") is None and cases["7.json"].find("failure") is None
    failure = cases["bad graph ☃.json"].find("failure")
    assert "… and 10 more schema.type problems" in failure.text
    assert failure.get("message").startswith("31 error(s)")


def test_junit_survives_characters_xml_cannot_hold() -> None:
    from attrgraph_cli.validate import report_junit
    from attrgraph_cli.validate.engine import DocumentResult
    from attrgraph_cli.validate.files import FileReport
    from attrgraph_cli.validate.problems import ProblemSink

    sink = ProblemSink()
    sink.add("nodes.logit-clerp", "nodes[0].clerp", "clerp \x01\x1b[31m\ud800 </failure><x>")
    report = FileReport("a\x02.json", "invalid", "graph", DocumentResult("graph", sink))
    root = ET.fromstring(report_junit.render([report], 0.1))
    case = root.find("testsuite/testcase")
    assert case.get("name") == "a\\x02.json"
    assert "clerp \\x01\\x1b[31m\\ufffd </failure><x>" in case.find("failure").text


def test_several_reports_from_one_run(folder) -> None:
    out = run(
        "graphs/good.json",
        "graphs/warn.json",
        "--format",
        "text",
        "--report",
        "sarif:out/results.sarif",
        "--report",
        "junit:out/validate.xml",
        "--output",
        "out/log.txt",
        cwd=folder,
    )
    assert out.code == 0, out.stderr
    assert out.stdout == ""  # every report went to a file; stderr says how it went, in one line
    assert out.stderr == (
        "2 file(s) checked: 2 valid · 0 error(s), 1 warning(s) -> out/log.txt, out/results.sarif, "
        "out/validate.xml\n"
    )
    log = (folder / "out" / "log.txt").read_text()
    assert "2 files checked: 2 valid" in log and "\x1b[" not in log
    assert re.search(r"graphs/warn\.json:\d+:\d+ +metadata\.info", log)
    assert sarif_errors(json.loads((folder / "out" / "results.sarif").read_text())) == []
    assert ET.parse(folder / "out" / "validate.xml").getroot().get("failures") == "0"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--report", "pdf:x.pdf"], "unknown format 'pdf'"),
        (["--report", "sarif"], "expected FORMAT:FILE"),
        (["--output", "graphs/good.json/x.sarif"], "cannot write"),
    ],
)
def test_bad_report_options_are_one_line(folder, args, needle) -> None:
    before = sorted(p.name for p in (folder / "graphs").iterdir())
    out = run("graphs/good.json", *args, cwd=folder)
    assert out.code == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attrgraph: error: ") and needle in lines[0], out.stderr
    assert sorted(p.name for p in (folder / "graphs").iterdir()) == before


def test_help_shows_every_format(cli) -> None:
    out = cli("validate", "--help", fresh=True, env={"COLUMNS": "200"})
    for name in (*FORMATS, "--output", "--report", "--changed-since"):
        assert name in out.stdout, name


# ------------------------------------------------------------------------------------ --changed-since
def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_changed_since_validates_only_what_changed(tmp_path) -> None:
    graphs = tmp_path / "graphs"
    graphs.mkdir()
    bad = valid_document()
    bad["links"][0]["target"] = "gone"
    (graphs / "old_bad.json").write_bytes(orjson.dumps(bad))
    (graphs / "edited.json").write_bytes(orjson.dumps(valid_document()))
    (graphs / "same.json").write_bytes(orjson.dumps(valid_document()))
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "graphs")
    (graphs / "edited.json").write_bytes(orjson.dumps(valid_document(), option=orjson.OPT_INDENT_2))
    (graphs / "new_bad.json").write_bytes(orjson.dumps(bad))
    out = run("graphs", "--changed-since", "HEAD", "--format", "json", cwd=tmp_path)
    assert out.code == 1, out.stderr
    checked = {Path(f["path"]).name: f["status"] for f in json.loads(out.stdout)["files"]}
    assert checked == {"edited.json": "valid", "new_bad.json": "invalid"}
    assert run("graphs", cwd=tmp_path).code == 1  # control: without it, old_bad.json counts too
    (graphs / "new_bad.json").unlink()
    clean = run("graphs", "--changed-since", "HEAD", cwd=tmp_path)
    assert clean.code == 0 and "1 file checked: 1 valid" in clean.stdout


@pytest.mark.parametrize(
    ("ref", "needle"), [("no-such-branch", "no such git revision"), ("--all", "not a git")]
)
def test_changed_since_bad_revision_is_one_line(tmp_path, ref, needle) -> None:
    (tmp_path / "g.json").write_bytes(orjson.dumps(valid_document()))
    _git(tmp_path, "init", "-q")
    out = run("g.json", f"--changed-since={ref}", cwd=tmp_path)
    assert out.code == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr


def test_changed_since_outside_a_repository(tmp_path) -> None:
    (tmp_path / "g.json").write_bytes(orjson.dumps(valid_document()))
    out = run("g.json", "--changed-since", "HEAD", cwd=tmp_path)
    assert out.code == 2 and "not a git repository" in out.stderr.lower()


# ----------------------------------------------------------------------------------------- pre-commit
def hook() -> dict:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (entry,) = [h for h in hooks if h["id"] == "attrgraph-validate"]
    return entry


def test_pre_commit_hook_definition() -> None:
    entry = hook()
    assert entry["language"] == "python" and "json" in entry["types"]
    assert entry["entry"].split()[0] in _console_scripts()
    assert "additional_dependencies" not in entry  # the package itself, light: no extras


def _project() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _console_scripts() -> dict:
    return _project()["scripts"]


def test_pre_commit_entry_on_good_and_bad_files_without_torch(folder) -> None:
    argv = shlex.split(hook()["entry"])[1:]  # `attrgraph` is the blocked runner's main()
    good, _, _ = (out := run_blocked([*argv, "graphs/good.json", "graphs/warn.json"], cwd=folder))
    assert good.returncode == 0, good.stdout + good.stderr
    assert out[1] == [] and not [m for m in out[2] if m.split(".")[0] == "torch"]
    bad, attempts, _ = run_blocked([*argv, "graphs/good.json", "graphs/bad graph ☃.json"], cwd=folder)
    assert bad.returncode == 1 and attempts == []
    assert re.search(r"graphs/bad graph ☃\.json:\d+:\d+ +links\[3\]\.source", bad.stdout)


# --------------------------------------------------------------------------------- README CI recipes
def readme_blocks() -> list[dict]:
    text = (REPO / "docs" / "ci.md").read_text()
    section = text.split("<!-- section:validate-ci -->")[1].split("<!-- /section:validate-ci -->")[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]


def _recipe(name: str) -> dict:
    blocks = readme_blocks()
    assert len(blocks) == 3
    return {"github": blocks[0], "gitlab": blocks[1], "pre-commit": blocks[2]}[name]


def _graphs_only(folder: Path, tmp_path: Path) -> Path:
    """A checkout whose graphs/ holds a good, a bad and a warning-only graph."""
    for name in ("good.json", "bad graph ☃.json", "warn.json"):
        (tmp_path / "graphs").mkdir(exist_ok=True)
        (tmp_path / "graphs" / name).write_bytes((folder / "graphs" / name).read_bytes())
    return tmp_path


def test_readme_github_actions_recipe(folder, tmp_path) -> None:
    steps = _recipe("github")["jobs"]["validate"]["steps"]
    assert _recipe("github")["permissions"]["security-events"] == "write"
    install = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert install == ["pip install attrgraph"]  # the light core
    (command,) = [s["run"] for s in steps if s.get("run", "").startswith("attrgraph validate")]
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["if"] == "always()"
    checkout = _graphs_only(folder, tmp_path)
    out = run_command(command, checkout)
    assert out.code == 1
    assert re.search(r"^::error file=graphs/bad graph ☃\.json,line=\d+,col=\d+,title=", out.stdout, re.M)
    log = json.loads((checkout / upload["with"]["sarif_file"]).read_text())
    assert sarif_errors(log) == [] and len(log["runs"][0]["results"]) == 22  # 21 errors kept + 1 warning


def test_readme_gitlab_recipe(folder, tmp_path) -> None:
    job = _recipe("gitlab")["validate-graphs"]
    assert job["script"][0] == "pip install attrgraph"
    checkout = _graphs_only(folder, tmp_path)
    out = run_command(job["script"][1], checkout)
    assert out.code == 1 and "3 files checked: 2 valid, 1 invalid" in out.stdout
    reports = job["artifacts"]["reports"]
    assert job["artifacts"]["when"] == "always"
    junit = ET.parse(checkout / reports["junit"]).getroot()
    assert (junit.get("tests"), junit.get("failures"), junit.get("errors")) == ("3", "1", "0")
    issues = json.loads((checkout / reports["codequality"]).read_text())
    assert {i["location"]["path"] for i in issues} == {"graphs/bad graph ☃.json", "graphs/warn.json"}
    assert all(i["location"]["positions"]["begin"]["line"] > 1 for i in issues)


def test_readme_pre_commit_recipe(folder, tmp_path) -> None:
    (local,) = _recipe("pre-commit")["repos"]
    (entry,) = local["hooks"]
    shipped = hook()
    assert local["repo"] == "local"
    for key in ("id", "entry", "language", "types"):
        assert entry[key] == shipped[key], key
    assert entry["additional_dependencies"] == [_project()["name"]]
    checkout = _graphs_only(folder, tmp_path)
    (checkout / "package.json").write_text("{}")  # a JSON file the hook's `files:` leaves out
    files = [
        p.relative_to(checkout).as_posix()
        for p in sorted(checkout.rglob("*.json"))
        if re.search(entry["files"], p.relative_to(checkout).as_posix())
    ]
    assert "package.json" not in files and len(files) == 3
    out = run_command(f"{entry['entry']} {shlex.join(files)}", checkout)
    assert out.code == 1 and "3 files checked" in out.stdout


# ------------------------------------------------------------------------------------- rule catalogue
def _reported_rules() -> tuple[set[str], list[str]]:
    """Rule ids the checks pass as literals, and regexes for those built with f-strings."""
    literals: set[str] = set()
    patterns: list[str] = []
    for source in (REPO / "attrgraph_cli" / "validate").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            args = []
            if name in ("add", "report", "add_many") and node.args:
                args.append(node.args[0])
            args += [k.value for k in node.keywords if k.arg == "rule"]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    literals.add(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    patterns.append(
                        "".join(
                            re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in arg.values
                        )
                    )
    return literals, patterns


def test_every_rule_a_check_reports_is_in_the_catalogue() -> None:
    from attrgraph_cli.validate.rules import BY_ID

    literals, patterns = _reported_rules()
    assert len(literals) > 30 and patterns
    assert literals <= BY_ID.keys(), literals - BY_ID.keys()
    for pattern in patterns:
        assert any(re.fullmatch(pattern, rule) for rule in BY_ID), pattern
    for dynamic in (
        "nodes.influence-missing",
        "nodes.activation-not-finite",
        "metadata.node_threshold-missing",
        "features.top_logits-missing",
        "extension.interventions",
    ):
        assert dynamic in BY_ID


def test_every_format_is_an_option_value() -> None:
    from attrgraph_cli.commands.validate import OutputFormat
    from attrgraph_cli.validate import outputs

    assert [f.value for f in OutputFormat] == list(outputs.FORMATS) == list(FORMATS)


def test_output_to_a_file_still_prints_one_summary_line_when_invalid(folder) -> None:
    """`validate -o FILE` on an invalid graph: exit 1 and a one-line summary (it printed nothing)."""
    out = run("graphs/bad graph ☃.json", "-o", "report.txt", cwd=folder)
    assert out.code == 1 and out.stdout == ""
    (line,) = out.stderr.splitlines()
    assert line.startswith("1 file(s) checked: 1 invalid · ") and line.endswith("-> report.txt")
    assert "error(s)" in line and (folder / "report.txt").read_text()
    # control: printing to stdout gives the text report and no extra line on stderr
    plain = run("graphs/bad graph ☃.json", cwd=folder)
    assert plain.code == 1 and "checked" in plain.stdout and plain.stderr == ""
