"""What an importer yields for one feature, and the errors every importer shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attrgraph_cli.errors import AttrgraphError


class SourceError(AttrgraphError):
    """A label source that cannot be read (corrupt, truncated, of no known shape); one line, exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=1)


@dataclass
class Imported:
    """One feature's entry from a source: a label and/or feature details, with provenance."""

    layer: int
    index: int
    label: str | None
    source: str  # the features schema's enum: neuronpedia, feature-details, clt-forge, table
    explainer: str | None = None
    details: dict[str, Any] | None = None
    density: float | None = None
    source_file: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.layer, self.index)


def clean_label(text: Any) -> str | None:
    """A label as stored: a string with collapsed whitespace, or None when empty."""
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())
    return text or None
