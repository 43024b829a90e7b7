"""Backups of a whole server: the database, every photo and the server secret in one archive, and their restore.

``create_backup`` writes ``fieldmeter-backup-<UTC time>-<random>.tar.gz`` (mode 600) into the backup folder and then
keeps only the newest ``backup_keep`` archives of that name there. ``restore_backup`` checks the whole archive
first, then restores it into an empty data dir (and, on PostgreSQL, an empty database), migrates the schema to the
newest revision and audits the restore.

The secret is in the archive because the audit chain's digests are keyed by it (and tokens and download links are
signed with it): a database restored without it reads as a forged audit log. Whoever holds an archive holds the
secret too, so it is written private and must be kept so.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from sync_server import __version__
from sync_server.backup_archive import (
    ArchiveRejected,
    ArchiveWriter,
    BackupError,
    BackupRefused,
    extract_members,
    verify_archive,
)
from sync_server.backup_database import (
    DatabaseKind,
    database_kind,
    dump_database,
    load_database,
    require_empty_database,
    sqlite_path,
    summarize,
)
from sync_server.clock import Clock
from sync_server.config import SECRET_FILE, Settings, load_secret_key
from sync_server.db import engine_for, migrate
from sync_server.models import AuditEvent

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ArchiveRejected",
    "BackupError",
    "BackupRefused",
    "BackupResult",
    "RestoreResult",
    "backup_dir_of",
    "create_backup",
    "restore_backup",
]

FORMAT = "fieldmeter-backup"
FORMAT_VERSION = 1
SECRET_MEMBER = "secret.key"  # noqa: S105 - a member name
PHOTOS_MEMBER = "photos"
DATABASE_MEMBERS = {
    DatabaseKind.SQLITE: "database/fieldmeter.db",
    DatabaseKind.POSTGRESQL: "database/fieldmeter.pgdump",
}
_NAME = re.compile(r"^fieldmeter-backup-(\d{8}T\d{6}\.\d{6}Z)-[0-9a-f]{6}\.tar\.gz$")
_STAMP = "%Y%m%dT%H%M%S.%fZ"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    manifest: dict[str, Any]
    deleted: tuple[Path, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        database = self.manifest["database"]
        return {
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "created_at": self.manifest["created_at"],
            "database": database["kind"],
            "schema_revision": database["schema_revision"],
            "row_counts": database["row_counts"],
            "photos": self.manifest["photo_count"],
            "files": len(self.manifest["files"]),
            "deleted": [str(path) for path in self.deleted],
        }


@dataclass(frozen=True)
class RestoreResult:
    data_dir: Path
    database: str
    archived_revision: str | None
    schema_revision: str | None
    row_counts: dict[str, int]
    photos: int
    secret: str  # where the server's secret now comes from
    manifest: dict[str, Any] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "database": self.database,
            "archive_created_at": self.manifest["created_at"],
            "archived_revision": self.archived_revision,
            "schema_revision": self.schema_revision,
            "row_counts": self.row_counts,
            "photos": self.photos,
            "secret": self.secret,
        }


def backup_dir_of(settings: Settings) -> Path:
    return settings.backup_dir if settings.backup_dir is not None else settings.data_dir / "backups"


def _current_secret(settings: Settings) -> tuple[str, str]:
    """The server's secret as ``serve`` would use it, and where it came from; never generates one."""
    path = settings.data_dir / SECRET_FILE
    if not settings.secret_key and not path.is_file():
        raise BackupRefused(
            f"no server secret at {path} and FIELDMETER_SECRET_KEY is not set: point --data-dir at the server's "
            f"data folder (without its secret the audit log of a restored database cannot be verified)"
        )
    try:
        secret = load_secret_key(settings)  # it generates none: one is set or on disk (checked above)
    except ValueError as error:
        raise BackupRefused(f"the server secret is not usable: {error}") from error
    return secret, "environment" if settings.secret_key else "data_dir"


def _photo_files(photo_dir: Path) -> list[Path]:
    """Every photo file, in a stable order; dot-named files (uploads being written) are not photos yet."""
    if not photo_dir.is_dir():
        return []
    found = []
    for path in photo_dir.rglob("*"):
        relative = path.relative_to(photo_dir)
        if path.is_file() and not path.is_symlink() and not any(part.startswith(".") for part in relative.parts):
            found.append(path)
    return sorted(found)


def _archive_name(created_at: datetime) -> str:
    return f"fieldmeter-backup-{created_at.astimezone(UTC).strftime(_STAMP)}-{secrets.token_hex(3)}.tar.gz"


def create_backup(
    settings: Settings, to_dir: Path | None = None, *, keep: int | None = None, clock: Clock | None = None
) -> BackupResult:
    """Back up the configured server into a new archive in ``to_dir`` (default: ``backup_dir_of``), then delete the
    oldest of the Fieldmeter archives there beyond the newest ``keep`` (default ``settings.backup_keep``).

    ``clock``: the running server's clock for the manifest's ``created_at`` (default: a new ``settings.clock()``,
    which starts again at ``FIELDMETER_NOW`` when that pins it).

    The database copy comes first, the photos after it: a photo's file is saved before its row is committed, so
    every photo the copied database names is on disk by then. Raises BackupRefused when there is nothing to back
    up (no database, no secret), BackupError when the copy fails; a failed backup leaves no archive behind.
    """
    keep = settings.backup_keep if keep is None else keep
    if keep < 1:
        raise BackupRefused("keep at least one archive (--keep 1 or more)")
    secret, secret_source = _current_secret(settings)
    kind = database_kind(settings)
    target_dir = to_dir if to_dir is not None else backup_dir_of(settings)
    target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    created_at = (clock or settings.clock())().astimezone(UTC)
    final = target_dir / _archive_name(created_at)
    # The dump is staged beside the archive (same disk, which has room for it), dot-named, removed afterwards.
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=".fieldmeter-backup-") as work:
        dump = Path(work) / PurePosixPath(DATABASE_MEMBERS[kind]).name
        copy = dump_database(settings, dump)
        with ArchiveWriter(final, created_at.timestamp()) as writer:
            writer.add_bytes(secret.encode(), SECRET_MEMBER)
            writer.add_file(dump, DATABASE_MEMBERS[kind])
            photos = _photo_files(settings.photo_dir)
            for photo in photos:
                writer.add_file(photo, f"{PHOTOS_MEMBER}/{photo.relative_to(settings.photo_dir).as_posix()}")
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": created_at.isoformat(),
                "fieldmeter_version": __version__,
                "database": {
                    "kind": kind.value,
                    "file": DATABASE_MEMBERS[kind],
                    "schema_revision": copy.schema_revision,
                    "row_counts": copy.row_counts,
                },
                "secret": {"file": SECRET_MEMBER, "source": secret_source},
                "photo_count": len(photos),
                "files": [entry.to_dict() for entry in writer.files],
            }
            size = writer.finish(manifest)
    deleted = _prune(target_dir, keep, final)
    return BackupResult(final, size, manifest, deleted)


def fieldmeter_archives(folder: Path) -> list[Path]:
    """The archives ``create_backup`` made in ``folder``, oldest first.

    In the order they were written (their modification time, set when each was completed), not by the time in
    their name: that is the server's clock, which ``FIELDMETER_NOW`` may set back.
    """
    found = []
    for path in folder.iterdir():
        if _NAME.match(path.name) and path.is_file():
            found.append((path.stat().st_mtime_ns, path.name, path))
    return [path for _, _, path in sorted(found)]


def _prune(folder: Path, keep: int, newest: Path) -> tuple[Path, ...]:
    # The archive just written stays, whatever another process did to the folder meanwhile.
    older = [path for path in fieldmeter_archives(folder) if path != newest]
    doomed = older[: max(0, len(older) - (keep - 1))]
    for path in doomed:
        path.unlink(missing_ok=True)
    return tuple(doomed)


def _check_manifest(manifest: dict[str, Any], kind: DatabaseKind) -> str:
    """The database member's name, after checking that this version can restore the archive onto ``kind``."""
    if manifest.get("format") != FORMAT:
        raise ArchiveRejected("manifest.json", "not a Fieldmeter backup manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ArchiveRejected("manifest.json", f"format version {version!r}: made by a newer Fieldmeter, upgrade first")
    database = manifest.get("database")
    if not isinstance(database, dict) or database.get("kind") not in {kind.value for kind in DatabaseKind}:
        raise ArchiveRejected("manifest.json", "names no known database kind")
    if database["kind"] != kind.value:
        raise BackupRefused(
            f"the archive holds a {database['kind']} database but the target is {kind.value}: set DATABASE_URL to "
            f"match (a backup restores onto the same kind of database)"
        )
    member = database.get("file")
    if member != DATABASE_MEMBERS[kind]:
        raise ArchiveRejected("manifest.json", f"unexpected database file {member!r}")
    return str(member)


def _require_empty_data_dir(settings: Settings) -> set[str]:
    """What the data dir holds that may stay (its backups folder, holding archives); BackupRefused otherwise."""
    data_dir = settings.data_dir
    if not data_dir.exists():
        return set()
    if not data_dir.is_dir():
        raise BackupRefused(f"{data_dir} is not a folder")
    backups = backup_dir_of(settings)
    allowed = {backups.name} if backups.parent.resolve() == data_dir.resolve() else set()
    present = {entry.name for entry in data_dir.iterdir()}
    if present - allowed:
        raise BackupRefused(
            f"the data dir {data_dir} is not empty ({', '.join(sorted(present - allowed)[:5])}): restore only into an "
            f"empty or new data dir (move the old one aside)"
        )
    return present


def _check_secret(settings: Settings, archived: bytes) -> str:
    secret = archived.decode(errors="replace").strip()
    if len(secret) < 32:
        raise ArchiveRejected(SECRET_MEMBER, "holds no usable secret")
    if settings.secret_key and settings.secret_key != secret:
        raise BackupRefused(
            "FIELDMETER_SECRET_KEY differs from the secret in the archive: the restored audit log would not verify "
            "(and every token and download link would be refused); unset it, or set it to the archive's secret"
        )
    return secret


def restore_backup(archive: Path, settings: Settings) -> RestoreResult:
    """Restore ``archive`` into the configured (empty) data dir and database, then migrate to the newest schema.

    Nothing is written before the whole archive has been read and every member matched the manifest
    (ArchiveRejected names the member at fault), the target proved empty and the secret agreed with
    FIELDMETER_SECRET_KEY if that is set (BackupRefused). If a later step fails, the files written are removed.
    """
    if not archive.is_file():
        raise BackupRefused(f"no archive at {archive}")
    kind = database_kind(settings)
    manifest, kept = verify_archive(archive, frozenset({SECRET_MEMBER}))
    database_member = _check_manifest(manifest, kind)
    if SECRET_MEMBER not in kept:
        raise ArchiveRejected(SECRET_MEMBER, "missing: the archive holds no server secret")
    _check_secret(settings, kept[SECRET_MEMBER])
    preexisting = _require_empty_data_dir(settings)
    require_empty_database(settings)

    data_dir = settings.data_dir
    created = not data_dir.exists()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as work:
            staged = Path(work) / PurePosixPath(database_member).name

            def destination(name: str) -> Path | None:
                if name == database_member:
                    return staged
                if name == SECRET_MEMBER:
                    # A secret given in the environment (equal, checked above) stays there only.
                    return None if settings.secret_key else data_dir / SECRET_FILE
                path = PurePosixPath(name)
                if path.parts[0] == PHOTOS_MEMBER and len(path.parts) > 1:
                    return settings.photo_dir.joinpath(*path.parts[1:])
                raise ArchiveRejected(name, "not a file a Fieldmeter backup holds")

            extract_members(archive, manifest, destination)
            load_database(settings, staged)
        engine = engine_for(settings)
        try:
            migrate(engine)
            _audit_restore(engine, settings, archive, manifest)
            with engine.connect() as connection:
                revision, counts = summarize(connection)
        finally:
            engine.dispose()
    except BaseException:
        _undo(settings, created, preexisting, kind)
        raise
    return RestoreResult(
        data_dir=data_dir,
        database=kind.value,
        archived_revision=manifest["database"].get("schema_revision"),
        schema_revision=revision,
        row_counts=counts,
        photos=sum(1 for entry in manifest["files"] if str(entry["path"]).startswith(f"{PHOTOS_MEMBER}/")),
        secret="FIELDMETER_SECRET_KEY" if settings.secret_key else str(data_dir / SECRET_FILE),
        manifest=manifest,
    )


def _audit_restore(engine: Engine, settings: Settings, archive: Path, manifest: dict[str, Any]) -> None:
    with Session(engine) as session:
        session.add(
            AuditEvent(
                at=settings.clock()(),
                action="backup.restored",
                entity="backup",
                entity_id=archive.name[:64],
                reason="fieldmeter restore",
                detail={
                    "archive": archive.name,
                    "created_at": manifest["created_at"],
                    "fieldmeter_version": manifest.get("fieldmeter_version"),
                    "schema_revision": manifest["database"].get("schema_revision"),
                },
            )
        )
        session.commit()


def _undo(settings: Settings, created: bool, preexisting: set[str], kind: DatabaseKind) -> None:
    """Remove what a failed restore wrote: the target was empty (checked), so all of it is ours."""
    data_dir = settings.data_dir
    if kind is DatabaseKind.SQLITE:
        path = sqlite_path(settings)
        for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            companion.unlink(missing_ok=True)
    if created:
        shutil.rmtree(data_dir, ignore_errors=True)
        return
    for entry in data_dir.iterdir():
        if entry.name in preexisting:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
