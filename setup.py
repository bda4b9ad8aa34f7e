"""Build hook: ship the top-level templates/, static_js/ and schemas/ folders inside the wheel.

In a checkout they stay at the repository root (where they are edited); `attrgraph_cli.resources`
finds them there or, in an installed wheel, under `attrgraph_cli/_data/`.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
SHIPPED = ("templates", "static_js", "schemas")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "attrgraph_cli" / "_data"
        for name in SHIPPED:
            src = ROOT / name
            if src.is_dir():
                # static_js/tools/node_modules holds esbuild (build time only, `make viewer`): never shipped
                ignore = shutil.ignore_patterns("node_modules")
                shutil.copytree(src, target / name, dirs_exist_ok=True, ignore=ignore)


setup(cmdclass={"build_py": BuildWithData})
