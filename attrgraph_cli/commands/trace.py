"""`attrgraph trace` (being built; see its issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `trace` to the app once it is implemented."""
