"""Options every ``fieldmeter`` sub-command shares, and the settings they make."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sync_server.config import Settings

__all__ = ["DataDir", "Host", "Port", "settings_from"]

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Folder for the SQLite database, photos, secret")]
Host = Annotated[str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1)")]
Port = Annotated[int | None, typer.Option("--port", help="Port to listen on (default 8000)")]


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
