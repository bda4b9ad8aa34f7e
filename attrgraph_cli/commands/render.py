"""`attrgraph render` (being built; see its issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `render` to the app once it is implemented."""
