"""Packaging and the light core: the wheel works without torch; --help and the light commands avoid it.

- `attrgraph --help` loads no numpy, torch or other heavy module (start-up time is a benchmark row in
  benchmarks/bench_prune.py, not a timed test);
- validate, convert (JSON and a bare `.npz` matrix, which prunes) and render run with an import blocker
  that makes `import torch` (and circuit-tracer, transformers, transformer-lens) fail, and attempt none;
- (slow) the wheel, installed into a fresh venv that has only the core dependencies (torch is not
  importable there), finds templates/, static_js/ and schemas/ and runs the light commands.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attrgraph_cli.io import save_graph
from attrgraph_testing.light_core import HEAVY, run_blocked
from attrgraph_testing.paths import REPO
from attrgraph_testing.synthetic import random_dense, random_graph


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """A pruned graph JSON and an unpruned bare matrix (.npz)."""
    folder = tmp_path_factory.mktemp("light-core")
    graph = folder / "graph.json"
    save_graph(random_graph(n_links=3000, seed=4), graph)
    dense = random_dense(n_layers=4, n_tokens=5, n_features=200, seed=2)
    matrix = folder / "matrix.npz"
    np.savez(
        matrix,
        adjacency_matrix=dense["adjacency"],
        features=dense["features"],
        n_layers=np.int64(dense["n_layers"]),
        tokens=np.array([f" w{i}" for i in range(dense["n_tokens"])]),
        logit_probabilities=dense["logit_probabilities"],
    )
    from attrgraph_cli.autointerp.targets import graph_targets
    from attrgraph_cli.io import load_graph
    from attrgraph_testing.autointerp_fixtures import write_sources

    sources = write_sources(folder / "label-sources", list(graph_targets(load_graph(graph))))
    return {
        "graph": graph,
        "matrix": matrix,
        "folder": folder,
        "details": sources["details"],
        "table": sources["table"],
        "explanations": sources["neuronpedia"],
    }


def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from attrgraph_cli.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"heavy = ('numpy', 'scipy', 'jinja2', 'msgspec', 'jsonschema') + {HEAVY!r}\n"
        "print('LOADED=' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert "Usage" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED="


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "{graph}"],
        ["validate", "--format", "json", "{matrix}"],
        [
            "validate",
            "--format",
            "sarif",
            "--report",
            "junit:{folder}/v.xml",
            "--report",
            "codequality:{folder}/cq.json",
            "{graph}",
        ],
        ["convert", "{graph}", "-o", "{folder}/copy.json"],
        ["convert", "{matrix}", "-o", "{folder}/pruned.json"],
        ["render", "{graph}", "-o", "{folder}/graph.html"],
        ["render", "{graph}", "-o", "{folder}/graph.svg"],
        ["render", "{matrix}", "-o", "{folder}/matrix.html"],
        ["cluster", "{graph}", "-o", "{folder}/clustered.json"],
        ["cluster", "{matrix}", "-o", "{folder}/clustered-matrix.json"],
        ["autointerp", "{graph}", "-l", "{details}", "-l", "{table}", "-o", "{folder}/labelled.json"],
        ["autointerp", "{graph}", "-l", "{explanations}", "--source-set", "clt-hp", "-o", "{folder}/np.json"],
    ],
    ids=lambda c: "-".join(Path(a).suffix.lstrip(".") or a.strip("{}-") for a in c),
)
def test_light_commands_never_import_torch(inputs, command):
    args = [a.format(**inputs) for a in command]
    out, attempts, loaded = run_blocked(args, cwd=inputs["folder"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert attempts == [], f"tried to import {attempts}"
    assert not [m for m in loaded if m.split(".")[0] in ("torch", "circuit_tracer", "transformers")]
    if "-o" in args:
        assert Path(args[args.index("-o") + 1]).stat().st_size > 0


def test_trace_without_the_trace_extra_says_how_to_install_it(inputs):
    out, _attempts, loaded = run_blocked(["trace", "hello world", "-o", "t.json"], cwd=inputs["folder"])
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert "pip install 'attrgraph[trace]'" in out.stderr
    assert not [m for m in loaded if m.split(".")[0] == "torch"]


def test_pt_input_without_torch_is_read_or_says_how_to_install_it(inputs):
    """Plain tensors in a torch zip are read without torch (io.pt_numpy); what needs torch says so."""
    import torch

    pt = Path(inputs["folder"]) / "matrix.pt"
    with np.load(inputs["matrix"]) as arrays:
        tensors = {k: torch.as_tensor(arrays[k]) for k in ("adjacency_matrix", "features")}
    torch.save(tensors, pt)
    out, attempts, loaded = run_blocked(["render", str(pt), "-o", "m.html"], cwd=inputs["folder"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert not [m for m in loaded if m.split(".")[0] == "torch"]

    tensors["adjacency_matrix"] = tensors["adjacency_matrix"].to(torch.bfloat16)  # numpy has no bfloat16
    torch.save(tensors, pt)
    out, _attempts, _loaded = run_blocked(["render", str(pt), "-o", "m.html"], cwd=inputs["folder"])
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert "needs torch" in out.stderr and "pip install 'attrgraph[trace]'" in out.stderr


def test_pruned_matrix_output_validates(inputs):
    """The .npz convert above prunes with attrgraph's own pruning; its output passes validate."""
    pruned = inputs["folder"] / "pruned-again.json"
    out, _, _ = run_blocked(["convert", str(inputs["matrix"]), "-o", str(pruned)], cwd=inputs["folder"])
    assert out.returncode == 0, out.stderr
    check, _, _ = run_blocked(["validate", str(pruned)], cwd=inputs["folder"])
    assert check.returncode == 0, check.stdout + check.stderr


# ---- the wheel in a fresh, torch-free venv ----


def _core_requirements() -> list[str]:
    """attrgraph's core dependencies (no extras), by distribution name."""
    from packaging.requirements import Requirement

    names = []
    for text in importlib.metadata.requires("attrgraph") or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            names.append(req.name)
    return names


def _dependency_closure(names: list[str]) -> set[str]:
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        dist = importlib.metadata.distribution(name)
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def _link_core_dependencies(target: Path) -> list[str]:
    """Symlink the core dependencies' top-level files from this environment into `target`.

    Offline and quick (no download); only what the core needs is visible, so torch is not importable.
    """
    target.mkdir()
    closure = _dependency_closure(_core_requirements())
    assert not closure & {"torch", "circuit-tracer", "transformer-lens"}, closure
    for name in closure:
        dist = importlib.metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (target / top).exists():
                (target / top).symlink_to(source)
    return sorted(closure)


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_without_torch(tmp_path, inputs):
    source = tmp_path / "src"  # build from a copy: an in-tree build writes build/ into the shared checkout
    skip = shutil.ignore_patterns(
        ".git", ".venv", "node_modules", ".cache", "build", "dist", "*.egg-info", "bench-results", "_data"
    )
    shutil.copytree(REPO, source, ignore=skip)
    wheels = tmp_path / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    build = subprocess.run(
        [*pip_wheel, "-w", wheels, source],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("attrgraph-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    _link_core_dependencies(tmp_path / "core-deps")
    (Path(site) / "core_deps.pth").write_text(str(tmp_path / "core-deps") + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"

    def run(*args: str | Path) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=tmp_path)

    no_torch = run(python, "-c", "import torch")
    assert no_torch.returncode != 0 and "No module named 'torch'" in no_torch.stderr

    where = run(
        python,
        "-c",
        "import attrgraph_cli\nfrom attrgraph_cli.resources import resource_dir\n"
        "print(attrgraph_cli.__file__)\n"
        "for name in ('templates', 'static_js', 'schemas'):\n"
        "    d = resource_dir(name); assert any(d.iterdir()), d; print(d)\n",
    )
    assert where.returncode == 0, where.stderr
    module_file, *folders = where.stdout.split()
    assert module_file.startswith(site)
    for folder, name in zip(folders, ("templates", "static_js", "schemas"), strict=True):
        assert folder.startswith(site) and folder.endswith(f"attrgraph_cli/_data/{name}")
    # the demo model's card renders from the wheel's template, as shipped
    card = run(
        python,
        "-c",
        "import json\nfrom attrgraph_cli.demo_model.card import render_card\n"
        "from attrgraph_cli.demo_model.loader import WEIGHTS_DIR\n"
        "card = render_card(json.loads((WEIGHTS_DIR / 'metrics.json').read_text()))\n"
        "assert card == (WEIGHTS_DIR / 'MODEL_CARD.md').read_text()\nprint(WEIGHTS_DIR)\n",
    )
    assert card.returncode == 0 and card.stdout.startswith(site), card.stderr

    attrgraph = venv / "bin" / "attrgraph"
    assert run(attrgraph, "--help").returncode == 0
    checked = run(attrgraph, "validate", inputs["graph"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # what a CI job runs on the light install: SARIF on stdout, JUnit to a file, from one run
    ci = run(attrgraph, "validate", inputs["graph"], "-f", "sarif", "--report", f"junit:{tmp_path / 'v.xml'}")
    assert ci.returncode == 0 and '"version": "2.1.0"' in ci.stdout, ci.stderr
    assert (tmp_path / "v.xml").read_text().count("<testcase ") == 1
    pruned = tmp_path / "pruned.json"
    converted = run(attrgraph, "convert", inputs["matrix"], "-o", pruned)
    assert converted.returncode == 0, converted.stdout + converted.stderr
    assert run(attrgraph, "validate", pruned).returncode == 0
    page = tmp_path / "graph.html"
    rendered = run(attrgraph, "render", inputs["graph"], "-o", page)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert page.stat().st_size > 10_000
    # tracing is an extra: without it, one clear line and a non-zero exit, no traceback
    traced = run(attrgraph, "trace", "hello world", "-o", tmp_path / "t.json")
    assert traced.returncode == 2
    assert "Traceback" not in traced.stderr, traced.stderr
    assert "pip install 'attrgraph[trace]'" in traced.stderr, traced.stderr
