"""Locate the folders shipped with attrgraph (templates/, static_js/, schemas/), in a wheel or a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """Return the folder `name` ("templates", "static_js", "schemas" or "demo_model").

    An installed wheel carries it under `attrgraph_cli/_data/`; an editable install or a checkout
    finds it at the repository root.
    """
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"attrgraph resource folder {name!r} is missing from this installation")


def resource_path(name: str, *parts: str) -> Path:
    """Path of a file inside a shipped resource folder."""
    return resource_dir(name).joinpath(*parts)
