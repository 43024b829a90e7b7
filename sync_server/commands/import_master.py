"""``fieldmeter import master FILE.jsonl``."""

from __future__ import annotations

import typer

__all__ = ["master"]


def master() -> None:
    """Import the replaced system's master-data file (being built)."""
    raise typer.Exit(2)
