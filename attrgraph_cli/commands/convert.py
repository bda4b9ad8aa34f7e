"""`attrgraph convert` (being built; see its issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `convert` to the app once it is implemented."""
