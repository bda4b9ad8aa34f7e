"""`attrgraph validate` (being built; see its issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `validate` to the app once it is implemented."""
