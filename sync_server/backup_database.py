"""The database's part of a backup: a consistent copy out (SQLite's online backup API, or ``pg_dump`` on an
exported snapshot) with its schema revision and row counts, and the copy back in (a file, or ``pg_restore``).

Both copies are consistent while the server writes: SQLite's one-step backup reads one snapshot (WAL lets writers
go on meanwhile); on PostgreSQL the counts and ``pg_dump`` share one exported snapshot, so the manifest's figures
are those of the dump. Passwords go to ``pg_dump``/``pg_restore`` through ``PGPASSWORD``, never on the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, NullPool, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from sync_server.backup_archive import BackupError, BackupRefused
from sync_server.config import Settings
from sync_server.db import engine_for
from sync_server.db_guard import allow_long_statements
from sync_server.models import AuditEvent, Bill, BillRun, Block, LedgerEntry, Meter, Payment, Photo, Reading, Unit, User
from sync_server.sql import table_of

__all__ = [
    "DatabaseCopy",
    "DatabaseKind",
    "database_kind",
    "dump_database",
    "load_database",
    "require_empty_database",
    "sqlite_path",
    "summarize",
]

# The tables whose row counts the manifest records: enough to see at a glance what an archive holds.
COUNTED = (Block, Unit, Meter, User, Reading, Photo, BillRun, Bill, Payment, LedgerEntry, AuditEvent)
_TOOL_TIMEOUT_S = 6 * 3600  # a liveness bound for pg_dump / pg_restore of a very large database


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class DatabaseCopy:
    kind: DatabaseKind
    schema_revision: str | None
    row_counts: dict[str, int]


def database_kind(settings: Settings) -> DatabaseKind:
    backend = make_url(settings.sqlalchemy_url).get_backend_name()
    if backend == "sqlite":
        return DatabaseKind.SQLITE
    if backend == "postgresql":
        return DatabaseKind.POSTGRESQL
    raise BackupRefused(f"backups know SQLite and PostgreSQL, not {backend}")


def sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.sqlalchemy_url).database
    if not database or database == ":memory:":
        raise BackupRefused("an in-memory SQLite database has nothing to back up")
    return Path(database)


def summarize(connection: Connection) -> tuple[str | None, dict[str, int]]:
    """The schema's Alembic revision and the row counts of the main tables (those the schema has)."""
    revision = MigrationContext.configure(connection).get_current_revision()
    present = set(inspect(connection).get_table_names())
    counts: dict[str, int] = {}
    for model in COUNTED:
        table = table_of(model)
        if table.name in present:
            counts[table.name] = int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    return revision, counts


def dump_database(settings: Settings, target: Path) -> DatabaseCopy:
    """Write a consistent copy of the configured database to ``target``."""
    kind = database_kind(settings)
    if kind is DatabaseKind.SQLITE:
        return _sqlite_backup(settings, target)
    return _pg_dump(settings, target)


def _sqlite_backup(settings: Settings, target: Path) -> DatabaseCopy:
    source_path = sqlite_path(settings)
    if not source_path.is_file():
        raise BackupRefused(f"no database at {source_path}: nothing to back up")
    source = sqlite3.connect(source_path, timeout=settings.db_busy_timeout_s)
    copy = sqlite3.connect(target)
    try:
        # pages=-1: the whole database in one step, i.e. from one read snapshot (a stepwise copy would restart
        # whenever the server writes in between).
        source.backup(copy, pages=-1)
        # A self-contained file: no -wal beside it to carry along (the server switches WAL on again at open).
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.commit()
    except sqlite3.Error as error:
        raise BackupError(f"the SQLite backup of {source_path} failed: {error}") from error
    finally:
        copy.close()
        source.close()
    engine = create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            revision, counts = summarize(connection)
    finally:
        engine.dispose()
    return DatabaseCopy(DatabaseKind.SQLITE, revision, counts)


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database's libpq URL without its password, and the environment that carries the password."""
    url: URL = make_url(settings.sqlalchemy_url)
    password = url.password or url.query.get("password")
    query = {key: value for key, value in url.query.items() if key != "password"}
    plain = url.set(drivername="postgresql", password=None, query=query)
    env = dict(os.environ)
    if isinstance(password, str) and password:
        env["PGPASSWORD"] = password
    env.setdefault("PGCONNECT_TIMEOUT", str(settings.db_connect_timeout_s))
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed (or not on PATH): install PostgreSQL's client programs "
            f"(Debian: apt-get install postgresql-client), the same major version as the server or newer"
        )
    return found


def _run_tool(command: list[str], env: dict[str, str]) -> None:
    name = Path(command[0]).name
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program with our own arguments, no shell
            command, env=env, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BackupError(f"{name} could not run: {error}") from error
    if done.returncode != 0:
        said = "\n".join(done.stderr.strip().splitlines()[-10:]) or "(no message)"
        raise BackupError(f"{name} failed (exit code {done.returncode}): {said}")


def _pg_dump(settings: Settings, target: Path) -> DatabaseCopy:
    program = _tool("pg_dump")
    conninfo, env = _libpq(settings)
    engine = engine_for(settings)
    try:
        # The counts and pg_dump read the same snapshot, exported by this transaction while it stays open.
        with (
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
            connection.begin(),
        ):
            allow_long_statements(connection, None)
            snapshot = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            revision, counts = summarize(connection)
            _run_tool(
                [program, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", f"--dbname={conninfo}"],
                env,
            )
    except SQLAlchemyError as error:
        raise BackupError(f"cannot read the database: {_first_line(error)}") from error
    finally:
        engine.dispose()
    return DatabaseCopy(DatabaseKind.POSTGRESQL, revision, counts)


def _first_line(error: SQLAlchemyError) -> str:
    # The driver's own message (e.g. 'database "x" does not exist'); SQLAlchemy's text would add the SQL.
    original = getattr(error, "orig", None)
    return (str(original) if original is not None else type(error).__name__).strip().splitlines()[0]


_USER_RELATIONS = text(
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
)


def require_empty_database(settings: Settings) -> None:
    """BackupRefused unless the target database is empty: no SQLite file, or no PostgreSQL table or sequence."""
    if database_kind(settings) is DatabaseKind.SQLITE:
        path = sqlite_path(settings)
        if path.exists():
            raise BackupRefused(f"{path} exists: restore only into an empty data dir (move the old one aside)")
        return
    engine = engine_for(settings)
    try:
        with engine.connect() as connection:
            relations = int(connection.execute(_USER_RELATIONS).scalar_one())
    except SQLAlchemyError as error:
        raise BackupRefused(
            f"cannot open the target database ({_first_line(error)}): create it empty first (createdb)"
        ) from error
    finally:
        engine.dispose()
    if relations:
        raise BackupRefused(
            f"the target database is not empty ({relations} tables, views or sequences): restore only into an "
            f"empty database (drop and create it again, or name another in DATABASE_URL)"
        )


def load_database(settings: Settings, dump: Path) -> None:
    """Put a verified copy in place: the SQLite file moved to its path, or ``pg_restore`` in one transaction."""
    if database_kind(settings) is DatabaseKind.SQLITE:
        path = sqlite_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.link(dump, path)  # never over a file that appeared meanwhile
        dump.unlink()
        return
    conninfo, env = _libpq(settings)
    # One transaction: a failed restore leaves the database as empty as it was.
    _run_tool(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={conninfo}",
            str(dump),
        ],
        env,
    )
