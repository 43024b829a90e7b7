"""``fieldmeter backup`` and ``fieldmeter restore``."""

from __future__ import annotations

import typer

__all__ = ["backup", "restore"]


def backup() -> None:
    """Back the server up into one archive (being built)."""
    raise typer.Exit(2)


def restore() -> None:
    """Restore an archive into an empty data dir (being built)."""
    raise typer.Exit(2)
