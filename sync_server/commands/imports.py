"""``fieldmeter import``: bring records over from the system Fieldmeter replaces (docs/operations.md)."""

from __future__ import annotations

import typer

from sync_server.commands.import_master import master
from sync_server.commands.import_openings import openings

__all__ = ["import_app"]

import_app = typer.Typer(help="Import records from the system Fieldmeter replaces.", no_args_is_help=True)
import_app.command("master")(master)
import_app.command("openings")(openings)
