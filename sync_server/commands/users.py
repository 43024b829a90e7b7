"""``fieldmeter user``: accounts made from the server's own shell (the first admin of a new society)."""

from __future__ import annotations

import typer

__all__ = ["user_app"]

user_app = typer.Typer(help="Accounts made from the server's shell.", no_args_is_help=True)
