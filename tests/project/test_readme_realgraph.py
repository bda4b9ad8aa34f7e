"""The README's real-graph quick start, run as written against a local server playing Neuronpedia.

The block under "## Real graphs" is read from README.md; only its placeholders change: the host of the link
(the local server), `SLUG`, and the `...` of `pinnedIds=` / `supernodes=` (two pins and one supernode of the
served graph). Each command runs in order in one folder, and what the README says of the result is checked:
labels from Neuronpedia, the link's pins and supernode kept through `cluster`, the figure in the PDF.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest

from attrgraph_cli.io.neuronpedia_json import dumps
from attrgraph_testing.cli import run_cli
from attrgraph_testing.np_server import Reply, Server, graph_metadata_row, js, neuron_row
from attrgraph_testing.synthetic import random_graph

ROOT = Path(__file__).resolve().parents[2]
MODEL, SLUG, SET = "gemma-2-2b", "oakland-capital", "clt-hp"


def quickstart_commands() -> list[str]:
    """The `attrgraph` lines of the first bash block under the README's "## Real graphs" heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Real graphs", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the README's real-graph quick start has no bash block"
    lines = [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line.startswith("attrgraph ")]


@pytest.fixture
def neuronpedia(tmp_path, monkeypatch):
    """A Neuronpedia on 127.0.0.1: one graph (metadata route + stored JSON) and `POST /api/features`."""
    doc = orjson.loads(dumps(random_graph(n_links=400, n_layers=6, n_tokens=6, n_logits=3, seed=11)))
    doc["metadata"].update(scan=MODEL, slug=SLUG)
    for node in doc["nodes"]:
        if node["feature_type"] == "cross layer transcoder":
            node["clerp"] = ""  # a freshly traced graph: no labels of its own
    srv = Server()
    srv.graph = doc
    stored = f"{srv.url}/bucket/{SLUG}.json"
    row = graph_metadata_row(srv.url, MODEL, SLUG, stored, SET)
    srv.routes[("GET", f"/api/graph/{MODEL}/{SLUG}")] = js(row)
    srv.routes[("GET", f"/bucket/{SLUG}.json")] = Reply(200, orjson.dumps(doc))

    def features(seen):
        rows = []
        for item in json.loads(seen.body):
            layer = int(item["layer"].split("-", 1)[0])
            label = f"np label {layer}/{item['index']}"
            rows.append(neuron_row(item["modelId"], item["layer"], item["index"], label))
        return js(rows)

    srv.routes[("POST", "/api/features")] = features
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("ATTRGRAPH_NEURONPEDIA_URL", srv.url)
    monkeypatch.delenv("NEURONPEDIA_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    yield srv
    srv.close()


def test_the_real_graph_quick_start_runs_as_written(neuronpedia, tmp_path):
    commands = quickstart_commands()
    assert len(commands) == 4, commands  # "in four commands"
    nodes = neuronpedia.graph["nodes"]
    feats = [n["node_id"] for n in nodes if n["feature_type"] == "cross layer transcoder"]
    pins = feats[:2]
    supernodes = [["Oakland and California", feats[2], feats[3]]]
    link_host = "https://www.neuronpedia.org"
    for number, line in enumerate(commands, 1):
        line = line.replace(link_host, neuronpedia.url).replace("slug=SLUG", f"slug={SLUG}")
        line = line.replace("pinnedIds=...", "pinnedIds=" + ",".join(pins))
        line = line.replace("supernodes=...", "supernodes=" + quote(json.dumps(supernodes)))
        assert "..." not in line and "SLUG" not in line, line
        words = shlex.split(line)[1:]  # without "attrgraph"
        result = run_cli(*words)
        assert result.code == 0, f"README real-graph command {number} failed: {line}\n{result.output}"

    graph = orjson.loads((tmp_path / "g.json").read_bytes())
    nodes = {n["node_id"]: n for n in graph["nodes"]}
    labelled = [n for n in nodes.values() if n["feature_type"] == "cross layer transcoder" and n.get("clerp")]
    assert labelled and all(n["clerp"].startswith("np label ") for n in labelled)  # Neuronpedia's labels
    assert set(pins) <= set(graph["qParams"]["pinnedIds"])
    kept = [s for s in graph["qParams"]["supernodes"] if s[0] == "Oakland and California"]
    assert kept == supernodes  # "the link's own are kept"
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "fig.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Oakland and California" in text and "np label" in text
