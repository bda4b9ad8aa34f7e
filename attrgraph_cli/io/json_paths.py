"""JSON paths as users read them: `links[4012].target`, `qk_only_nodes["0_1_2"].clerp`; `$` is the root."""

from __future__ import annotations

import json
import re

ROOT = "$"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def key(path: str, name: str) -> str:
    """Path of member `name` of the object at `path`."""
    step = f".{name}" if _IDENTIFIER.match(name) else f"[{json.dumps(name, ensure_ascii=False)}]"
    if path == ROOT:
        return step[1:] if step.startswith(".") else ROOT + step
    return path + step


def index(path: str, i: int) -> str:
    """Path of item `i` of the array at `path`."""
    return f"{ROOT if path == ROOT else path}[{i}]"
