"""Errors that the CLI turns into a one-line message and an exit code instead of a traceback."""

from __future__ import annotations


class AttrgraphError(Exception):
    """A user-facing error: bad input, bad usage, missing model. `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class GraphFormatError(AttrgraphError):
    """The input file could not be read as any attribution-graph format (or is damaged)."""


class UnsafePickleError(AttrgraphError):
    """A .pt file needs full unpickling, which could run code; refused without --trust-pickle."""
