"""Options every ``fieldmeter`` sub-command shares, and the settings they make."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sync_server.config import Settings

__all__ = ["ActingAs", "DataDir", "DryRun", "Host", "Port", "ReportPath", "read_input_file", "settings_from"]

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Folder for the SQLite database, photos, secret")]
Host = Annotated[str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1)")]
Port = Annotated[int | None, typer.Option("--port", help="Port to listen on (default 8000)")]
# The import commands' shared options.
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check and count, write nothing")]
ReportPath = Annotated[
    Path | None, typer.Option("--report", help="Write the quarantined lines and why, as CSV, to this file")
]
ActingAs = Annotated[str | None, typer.Option("--as", help="The admin the import is audited as")]


def settings_from(data_dir: Path | None, host: str | None = None, port: int | None = None) -> Settings:
    """The environment's settings (as ``serve`` reads them), with the command line's flags over them."""
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    return Settings(**overrides)  # type: ignore[arg-type]


def read_input_file(path: Path, *, max_bytes: int, kind: str) -> bytes:
    """The bytes of a file a command imports; exit code 2 with a message when it is missing, unreadable or far too
    large for ``kind`` (refused before reading it all: it is the wrong file)."""
    try:
        if path.stat().st_size > max_bytes:
            typer.echo(f"{path}: over {max_bytes // (1024 * 1024)} MiB, not {kind}", err=True)
            raise typer.Exit(2)
        return path.read_bytes()
    except OSError as error:
        typer.echo(f"cannot read {path}: {error.strerror or error}", err=True)
        raise typer.Exit(2) from None
