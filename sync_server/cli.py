"""The ``fieldmeter`` command: ``serve`` (the sync server and browser app), ``migrate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sync_server.config import Settings

app = typer.Typer(help="Fieldmeter: meter reading and billing.", no_args_is_help=True, add_completion=False)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Folder for the SQLite database, photos, secret")]
Host = Annotated[str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1)")]
Port = Annotated[int | None, typer.Option("--port", help="Port to listen on (default 8000)")]


def _settings(data_dir: Path | None, host: str | None, port: int | None) -> Settings:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    return Settings(**overrides)  # type: ignore[arg-type]


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Host = None,
    port: Port = None,
    demo: Annotated[bool, typer.Option("--demo", help="Seed a demo society into an empty database")] = False,
) -> None:
    """Run the sync server (API under /api)."""
    import uvicorn

    from sync_server.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
    from sync_server.main import create_app

    settings = _settings(data_dir, host, port)
    api = create_app(settings)
    context = api.state.context
    if demo:
        seeded = seed_demo(context.engine, now=context.clock(), tz=settings.tz)
        typer.echo("Demo society seeded." if seeded else "Database not empty: demo seed skipped, data kept.")
        logins = ", ".join(f"{name} ({role})" for name, role in DEMO_USERS.items())
        typer.echo(f"Demo logins: {logins}; password: {DEMO_PASSWORD}")
    database = settings.sqlalchemy_url.split("@")[-1] if "@" in settings.sqlalchemy_url else settings.sqlalchemy_url
    typer.echo(f"Database: {database}")
    typer.echo(f"Fieldmeter server: http://{settings.host}:{settings.port}/  (API: /api, health: /api/health)")
    uvicorn.run(api, host=settings.host, port=settings.port, log_level="info")


@app.command("app")
def field_app(
    server: Annotated[str, typer.Option("--server", help="The sync server's URL, e.g. http://127.0.0.1:8000")],
    web: Annotated[bool, typer.Option("--web", help="Serve the app to a browser instead of a desktop window")] = False,
    port: Annotated[int, typer.Option("--port", help="Port for --web")] = 8550,
    host: Annotated[str, typer.Option("--host", help="Address for --web")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The phone's local database and photos")] = Path(
        "phone-data"
    ),
    backoff_cap_s: Annotated[
        float, typer.Option("--backoff-cap", envvar="FIELDMETER_SYNC_BACKOFF_CAP_S", help="Longest sync retry wait (s)")
    ] = 300.0,
) -> None:
    """Run the field engineer's app with its own local database (the phone, or its stand-in)."""
    from mobile_app.app import run_field_app

    run_field_app(server_url=server, data_dir=data_dir, web=web, host=host, port=port, backoff_cap_s=backoff_cap_s)


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Create or upgrade the database schema."""
    from sync_server.db import create_db_engine
    from sync_server.db import migrate as run_migrations

    settings = _settings(data_dir, None, None)
    run_migrations(create_db_engine(settings.sqlalchemy_url))
    typer.echo("Schema is current.")


def main() -> None:
    app()
