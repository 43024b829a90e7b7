"""The phone's schema versions: a numbered list of small migrations, the version kept in ``PRAGMA user_version``.

An app update reaches a phone that holds unsynced readings, so its database is upgraded in place, never rebuilt:
``migrate`` applies every pending migration in order inside ONE ``BEGIN IMMEDIATE`` transaction (SQLite's DDL and
``user_version`` are transactional), so a failure rolls everything back and the file stays at its old version.

Rules for a new migration (append it; never edit or renumber a released one):

- Write literal SQL, never ``tables.py``'s models: migration 1 must build the first release's tables forever, and
  tests/mobile_app/test_mobile_store_migrations.py checks that the replayed list equals what ``tables.py`` declares.
- Use ``db.execute`` statement by statement: ``executescript`` commits the open transaction first.
- Foreign keys are off while migrating (SQLite ignores that pragma inside a transaction, so it is set before), so
  a table rebuild (create new, copy, drop old, rename) is possible; ``PRAGMA foreign_key_check`` must pass before
  the commit.

Databases made before versioning (``user_version`` 0 with tables in it) are recognised by their columns: they are
whatever one of ``UNVERSIONED`` versions built, and continue from there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mobile_app.store.errors import MigrationFailedError, SchemaTooNewError, UnknownSchemaError

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "Migration",
    "columns_by_table",
    "migrate",
    "schema_version",
]

# Seconds to wait for another connection's write lock (the app's sync thread, or a second process opening it).
BUSY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Migration:
    version: int  # the user_version the database has once this is applied
    name: str
    apply: Callable[[sqlite3.Connection], None]


def _run(db: sqlite3.Connection, *statements: str) -> None:
    for statement in statements:
        db.execute(statement)


def create_first_release_tables(db: sqlite3.Connection) -> None:
    """Version 1: the tables the first released app made with ``create_all``, column for column."""
    _run(
        db,
        """CREATE TABLE local_readings (
            seq INTEGER NOT NULL, uuid VARCHAR(36) NOT NULL, meter_id INTEGER NOT NULL, read_type VARCHAR NOT NULL,
            skip_reason VARCHAR, value VARCHAR, captured_at DATETIME NOT NULL, gps_lat FLOAT, gps_lon FLOAT,
            gps_accuracy_m FLOAT, photo_sha256 VARCHAR, note VARCHAR, replaces VARCHAR, payload_json VARCHAR NOT NULL,
            payload_sha256 VARCHAR NOT NULL, photo_path VARCHAR, state VARCHAR NOT NULL, server_code VARCHAR,
            server_message VARCHAR, answered_at DATETIME, flags JSON NOT NULL, review_status VARCHAR,
            review_reason VARCHAR, reviewed_at DATETIME,
            PRIMARY KEY (seq), UNIQUE (uuid)
        )""",
        "CREATE INDEX ix_local_readings_meter_id ON local_readings (meter_id)",
        "CREATE INDEX ix_local_readings_state ON local_readings (state)",
        "CREATE INDEX ix_local_readings_photo_sha256 ON local_readings (photo_sha256)",
        """CREATE TABLE local_photos (
            sha256 VARCHAR NOT NULL, local_path VARCHAR NOT NULL, uploaded_at DATETIME, error_code VARCHAR,
            error_message VARCHAR, error_is_terminal BOOLEAN NOT NULL,
            PRIMARY KEY (sha256)
        )""",
        """CREATE TABLE cached_meters (
            meter_id INTEGER NOT NULL, meter_number VARCHAR NOT NULL, unit_code VARCHAR, block_code VARCHAR NOT NULL,
            kind VARCHAR NOT NULL, dials INTEGER NOT NULL, decimals INTEGER NOT NULL, multiplier VARCHAR NOT NULL,
            lat FLOAT, lon FLOAT, previous_value VARCHAR, previous_captured_at DATETIME,
            PRIMARY KEY (meter_id)
        )""",
        "CREATE INDEX ix_cached_meters_meter_number ON cached_meters (meter_number)",
        """CREATE TABLE sync_state ("key" VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY ("key"))""",
        """CREATE TABLE outbox (
            reading_uuid VARCHAR(36) NOT NULL, attempts INTEGER NOT NULL, next_attempt_at DATETIME,
            last_error VARCHAR,
            PRIMARY KEY (reading_uuid),
            FOREIGN KEY(reading_uuid) REFERENCES local_readings (uuid) ON DELETE RESTRICT
        )""",
        "CREATE INDEX ix_outbox_next_attempt_at ON outbox (next_attempt_at)",
    )


def add_outbox_parking(db: sqlite3.Connection) -> None:
    """Version 2: per-reading 500 counting and parking (the sync engine's poison-reading rule).

    Existing outbox rows get 0 failures and are not parked; the DEFAULT is what makes NOT NULL addable.
    """
    _run(
        db,
        "ALTER TABLE outbox ADD COLUMN server_failures INTEGER DEFAULT '0' NOT NULL",
        "ALTER TABLE outbox ADD COLUMN parked_at DATETIME",
    )


def add_reading_replacement(db: sqlite3.Connection) -> None:
    """Version 3: a reading may report a meter replacement (protocol 2); readings saved before have none."""
    _run(
        db,
        "ALTER TABLE local_readings ADD COLUMN replacement_old_final_value VARCHAR",
        "ALTER TABLE local_readings ADD COLUMN replacement_new_meter_number VARCHAR",
        "ALTER TABLE local_readings ADD COLUMN replacement_new_initial_value VARCHAR",
    )


def add_walk_order(db: sqlite3.Connection) -> None:
    """Version 4: the route's walk order as the server sends it; meters cached before have none until the next pull."""
    _run(db, "ALTER TABLE cached_meters ADD COLUMN walk_order INTEGER")


def add_route_facts(db: sqlite3.Connection) -> None:
    """Version 5 (issue 12): what the route and the capture screen need offline, and who owns each reading.

    The meter cache gains the pull's history, usage window, tariff and this period's server read (filled by the
    next pull); a reading gains its re-read due date and its owner. Readings saved before belong to the last
    engineer who signed in (``field.last_user_id``, the only one who could have saved them: another engineer's
    sign-in was refused while any waited); NULL on a phone nobody signed in to.
    """
    _run(
        db,
        "ALTER TABLE cached_meters ADD COLUMN history_json VARCHAR",
        "ALTER TABLE cached_meters ADD COLUMN usage_json VARCHAR",
        "ALTER TABLE cached_meters ADD COLUMN tariff_code VARCHAR",
        "ALTER TABLE cached_meters ADD COLUMN unit_type VARCHAR",
        "ALTER TABLE cached_meters ADD COLUMN sanctioned_load_kw VARCHAR",
        "ALTER TABLE cached_meters ADD COLUMN period_read_json VARCHAR",
        "ALTER TABLE local_readings ADD COLUMN due_on DATE",
        "ALTER TABLE local_readings ADD COLUMN owner_user_id INTEGER",
        "CREATE INDEX ix_local_readings_owner_user_id ON local_readings (owner_user_id)",
        """UPDATE local_readings SET owner_user_id = (
            SELECT CAST(value AS INTEGER) FROM sync_state WHERE "key" = 'field.last_user_id'
        )""",
    )


def add_photo_dhash(db: sqlite3.Connection) -> None:
    """Version 6 (issue 15): each kept photo's difference hash, so a new photo is checked against the engineer's
    recent ones (``mobile_app.photo_checks``). Photos kept before have none: they are simply not compared."""
    _run(db, "ALTER TABLE local_photos ADD COLUMN dhash VARCHAR")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "first release tables", create_first_release_tables),
    Migration(2, "outbox server failures and parking", add_outbox_parking),
    Migration(3, "reading meter replacement", add_reading_replacement),
    Migration(4, "route walk order", add_walk_order),
    Migration(5, "route facts and reading owners", add_route_facts),
    Migration(6, "photo difference hashes", add_photo_dhash),
)
LATEST_VERSION = MIGRATIONS[-1].version

# Versions an app without user_version could have left on a phone (the first release; this week's build, made
# fresh by create_all or grown in place by its ALTER TABLE); every later version is stamped in user_version.
UNVERSIONED = (1, 2)


def check_numbering(migrations: Sequence[Migration]) -> None:
    """Versions must run 1, 2, 3, ... with no gap or repeat: the position in the list is the version."""
    versions = [migration.version for migration in migrations]
    if not versions or versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1..n in order, got {versions}")


def schema_version(db: sqlite3.Connection) -> int:
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def columns_by_table(db: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """Every table of the database (SQLite's own excluded) with the names of its columns."""
    names = [
        row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    # Table names come from sqlite_master itself; quoting keeps any name a valid identifier.
    return {name: frozenset(row[1] for row in db.execute(f'PRAGMA table_info("{name}")')) for name in names}


def _shape_of(version: int, migrations: Sequence[Migration]) -> Mapping[str, frozenset[str]]:
    """The tables and columns ``migrations`` build up to ``version``, replayed on an empty in-memory database."""
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for migration in migrations[:version]:
            migration.apply(scratch)
        return columns_by_table(scratch)
    finally:
        scratch.close()


def unversioned_version(db: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The version of a database with ``user_version`` 0: 0 when it has no tables, else the one it matches."""
    found = columns_by_table(db)
    if not found:
        return 0
    for version in UNVERSIONED:
        if found == _shape_of(version, migrations):
            return version
    raise UnknownSchemaError(
        "this phone's database has tables but no schema version, and they match no earlier app's "
        f"({', '.join(f'{name}: {len(columns)} columns' for name, columns in sorted(found.items()))}); "
        "it was left untouched"
    )


def _current_version(db: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    version = schema_version(db)
    return version if version else unversioned_version(db, migrations)


def _apply_pending(db: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Inside the open transaction: refuse a newer schema, else apply what is pending; the version reached."""
    latest = migrations[-1].version
    version = _current_version(db, migrations)
    if version > latest:
        raise SchemaTooNewError(found=version, latest=latest)
    previous = version
    for migration in migrations[version:]:
        try:
            migration.apply(db)
        except Exception as exc:
            raise MigrationFailedError(migration.version, migration.name, previous) from exc
        if not db.in_transaction:
            # Something committed half way (executescript does): later steps would not roll back with it.
            raise MigrationFailedError(migration.version, f"{migration.name}: ended the transaction", previous)
        version = migration.version
    if db.execute("PRAGMA foreign_key_check").fetchone() is not None:
        raise MigrationFailedError(version, "foreign keys no longer hold after the upgrade", previous)
    # Stamped even when nothing ran: an unversioned file recognised as the latest is versioned from now on. The
    # version is an int we own; PRAGMA takes no bound parameters.
    db.execute(f"PRAGMA user_version = {int(version)}")
    return version


def migrate(path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the phone's database at ``path`` (created if missing) to the last of ``migrations``; its version.

    Raises ``SchemaTooNewError`` for a file from a newer app, ``UnknownSchemaError`` for an unversioned file that
    no earlier app made, ``MigrationFailedError`` when a step fails; in every case nothing in the file changed.
    """
    check_numbering(migrations)
    # isolation_level=None: the sqlite3 module must not open or commit transactions on its own here.
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    try:
        if schema_version(db) == migrations[-1].version:
            return migrations[-1].version  # the usual open: nothing to do, no write lock taken
        db.execute("PRAGMA foreign_keys=OFF")  # only outside a transaction; see the module docstring
        db.execute("PRAGMA synchronous=FULL")  # the upgraded file survives power loss once committed
        # IMMEDIATE: a second process opening the same file waits here, then sees the version this one reached.
        db.execute("BEGIN IMMEDIATE")
        try:
            version = _apply_pending(db, migrations)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # some errors (a full disk) have already rolled back
                db.execute("ROLLBACK")
            raise
        return version
    finally:
        db.close()
