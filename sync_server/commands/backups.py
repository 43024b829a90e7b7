"""``fieldmeter backup`` and ``fieldmeter restore`` (sync_server/backup.py does the work).

Exit codes, both commands: 0 done; 1 failed (a database or pg_dump/pg_restore error, a corrupt or altered
archive: nothing is left half-written); 2 refused before anything was written (nothing to back up, a restore
target that is not empty, a secret that differs from the archive's, bad options).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from sync_server.commands.options import DataDir, settings_from

__all__ = ["backup", "restore"]

Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON")]


def _fail(error: Exception, as_json: bool) -> typer.Exit:
    from sync_server.backup import ArchiveRejected, BackupRefused

    code = 2 if isinstance(error, BackupRefused) else 1
    if as_json:
        body: dict[str, Any] = {"error": str(error)}
        if isinstance(error, ArchiveRejected):
            body["member"] = error.member
        typer.echo(json.dumps(body))
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(code)


def backup(
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Folder for the archive (default FIELDMETER_BACKUP_DIR or <data dir>/backups)"),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(
            "--keep", min=1, help="Keep the newest N Fieldmeter archives there (default FIELDMETER_BACKUP_KEEP, 14)"
        ),
    ] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Back the server up into one archive: database, photos and the server secret (keep it private).

    Same settings and environment as serve. Exit code 0 written, 1 failed, 2 nothing to back up.
    """
    from sync_server.backup import BackupError, create_backup

    settings = settings_from(data_dir)
    try:
        result = create_backup(settings, to, keep=keep)
    except BackupError as error:
        raise _fail(error, as_json) from error
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    summary = result.to_dict()
    typer.echo(f"Backup written: {result.path} ({result.size_bytes:,} bytes, mode 600)")
    counts = ", ".join(f"{table} {count}" for table, count in summary["row_counts"].items())
    typer.echo(f"Database: {summary['database']} at schema {summary['schema_revision']} ({counts})")
    typer.echo(f"Photos: {summary['photos']}; the server secret is inside: keep the archive private, off this machine.")
    for path in result.deleted:
        typer.echo(f"Deleted older backup: {path}")


def restore(
    archive: Annotated[Path, typer.Argument(help="The .tar.gz written by fieldmeter backup")],
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Restore an archive into an empty data dir (and, on PostgreSQL, an empty DATABASE_URL database).

    Every checksum is verified before anything is written; the schema is then upgraded to this version's.
    Exit code 0 restored, 1 the archive is refused or the restore failed, 2 the target is not empty (or the
    secret in FIELDMETER_SECRET_KEY differs from the archive's).
    """
    from sync_server.backup import BackupError, restore_backup

    settings = settings_from(data_dir)
    try:
        result = restore_backup(archive, settings)
    except BackupError as error:
        raise _fail(error, as_json) from error
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    summary = result.to_dict()
    typer.echo(f"Restored {archive.name} (made {summary['archive_created_at']}) into {result.data_dir}")
    counts = ", ".join(f"{table} {count}" for table, count in result.row_counts.items())
    typer.echo(f"Database: {result.database}, schema {result.archived_revision} -> {result.schema_revision} ({counts})")
    typer.echo(f"Photos: {result.photos}; server secret: {result.secret}")
