"""``fieldmeter import openings``."""

from __future__ import annotations

import typer

__all__ = ["openings"]


def openings() -> None:
    """Import opening readings and balances (being built)."""
    raise typer.Exit(2)
