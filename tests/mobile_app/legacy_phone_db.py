"""Phone databases as apps without schema versions left them, written with raw SQL (``user_version`` stays 0).

The DDL is what those apps' ``create_all`` emitted (git history of mobile_app/store/tables.py), copied rather than
generated, so a later change to the models or the migrations cannot change what "an old phone" is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

# The first release (0567b29): create_all of its tables.py.
FIRST_RELEASE = (
    """CREATE TABLE local_readings (
        seq INTEGER NOT NULL, uuid VARCHAR(36) NOT NULL, meter_id INTEGER NOT NULL, read_type VARCHAR NOT NULL,
        skip_reason VARCHAR, value VARCHAR, captured_at DATETIME NOT NULL, gps_lat FLOAT, gps_lon FLOAT,
        gps_accuracy_m FLOAT, photo_sha256 VARCHAR, note VARCHAR, replaces VARCHAR, payload_json VARCHAR NOT NULL,
        payload_sha256 VARCHAR NOT NULL, photo_path VARCHAR, state VARCHAR NOT NULL, server_code VARCHAR,
        server_message VARCHAR, answered_at DATETIME, flags JSON NOT NULL, review_status VARCHAR,
        review_reason VARCHAR, reviewed_at DATETIME, PRIMARY KEY (seq), UNIQUE (uuid)
    )""",
    "CREATE INDEX ix_local_readings_meter_id ON local_readings (meter_id)",
    "CREATE INDEX ix_local_readings_state ON local_readings (state)",
    "CREATE INDEX ix_local_readings_photo_sha256 ON local_readings (photo_sha256)",
    """CREATE TABLE local_photos (
        sha256 VARCHAR NOT NULL, local_path VARCHAR NOT NULL, uploaded_at DATETIME, error_code VARCHAR,
        error_message VARCHAR, error_is_terminal BOOLEAN NOT NULL, PRIMARY KEY (sha256)
    )""",
    """CREATE TABLE cached_meters (
        meter_id INTEGER NOT NULL, meter_number VARCHAR NOT NULL, unit_code VARCHAR, block_code VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, dials INTEGER NOT NULL, decimals INTEGER NOT NULL, multiplier VARCHAR NOT NULL,
        lat FLOAT, lon FLOAT, previous_value VARCHAR, previous_captured_at DATETIME, PRIMARY KEY (meter_id)
    )""",
    "CREATE INDEX ix_cached_meters_meter_number ON cached_meters (meter_number)",
    'CREATE TABLE sync_state ("key" VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY ("key"))',
    """CREATE TABLE outbox (
        reading_uuid VARCHAR(36) NOT NULL, attempts INTEGER NOT NULL, next_attempt_at DATETIME, last_error VARCHAR,
        PRIMARY KEY (reading_uuid), FOREIGN KEY(reading_uuid) REFERENCES local_readings (uuid) ON DELETE RESTRICT
    )""",
    "CREATE INDEX ix_outbox_next_attempt_at ON outbox (next_attempt_at)",
)

# A first-release file after last week's app opened it: its upgrade_schema's ALTER TABLEs.
GROWN_IN_PLACE = (
    *FIRST_RELEASE,
    "ALTER TABLE outbox ADD COLUMN server_failures INTEGER DEFAULT '0' NOT NULL",
    "ALTER TABLE outbox ADD COLUMN parked_at DATETIME",
)

# A phone first set up with last week's app (d0b2035): create_all with the outbox's new columns in the table.
MADE_LAST_WEEK = tuple(
    statement
    if not statement.startswith("CREATE TABLE outbox")
    else """CREATE TABLE outbox (
        reading_uuid VARCHAR(36) NOT NULL, attempts INTEGER NOT NULL, next_attempt_at DATETIME, last_error VARCHAR,
        server_failures INTEGER DEFAULT '0' NOT NULL, parked_at DATETIME,
        PRIMARY KEY (reading_uuid), FOREIGN KEY(reading_uuid) REFERENCES local_readings (uuid) ON DELETE RESTRICT
    )"""
    for statement in FIRST_RELEASE
)

SCHEMAS = {"first release": FIRST_RELEASE, "grown in place": GROWN_IN_PLACE, "made last week": MADE_LAST_WEEK}


def write_old_phone(path: Path, schema: tuple[str, ...], rows: dict[str, list[dict[str, Any]]]) -> None:
    """Create ``path`` with ``schema`` and insert ``rows`` (table -> rows as column -> value), as old code left it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN")
        for statement in schema:
            db.execute(statement)
        for table, table_rows in rows.items():
            for row in table_rows:
                names = ", ".join(f'"{name}"' for name in row)
                marks = ", ".join("?" for _ in row)
                db.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', tuple(row.values()))
        db.execute("COMMIT")
    finally:
        db.close()


def dump(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as column -> value, in rowid order."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        result: dict[str, list[dict[str, Any]]] = {}
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
            names = [d[0] for d in cursor.description]
            result[table] = [dict(zip(names, row, strict=True)) for row in cursor]
        return result
    finally:
        db.close()
