"""The built wheel carries the schemas: `attrgraph validate` works from a fresh venv, outside the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import orjson
import pytest
from validate_helpers import valid_document

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_validate_from_an_installed_wheel(tmp_path: Path) -> None:
    # build from a copy: an in-tree build would write build/ into the shared checkout
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(".git", ".venv", "node_modules", ".cache", "build", "dist", "*.egg-info")
    shutil.copytree(REPO, source, ignore=skip)
    wheels = tmp_path / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    build = subprocess.run(
        [*pip_wheel, "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("attrgraph-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    graph = tmp_path / "graph.json"
    graph.write_bytes(orjson.dumps(valid_document()))
    # the dependencies come from this environment's site-packages (PYTHONPATH, where no .pth file runs,
    # so the editable checkout is not importable); attrgraph itself only from the wheel
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    code = (
        "import attrgraph_cli, sys\n"
        "from attrgraph_cli.resources import resource_dir\n"
        "print(attrgraph_cli.__file__)\nprint(resource_dir('schemas'))\n"
    )
    where = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module_file, schemas = where.stdout.split()
    assert module_file.startswith(site) and schemas.startswith(site) and schemas.endswith("_data/schemas")
    out = subprocess.run(
        [str(python), "-m", "attrgraph_cli", "validate", str(graph)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 valid" in out.stdout
