"""Saving readings (with their outbox row, atomically) and listing them for the sync screen."""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import ColumnElement, Dialect, Table, insert, or_, true
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlmodel import col, select

from mobile_app.store.database import Store
from mobile_app.store.errors import DuplicateReadingError, PhotoMismatchError
from mobile_app.store.tables import LocalPhoto, LocalReading, LocalState, OutboxEntry
from shared_billing.protocol import (
    Evidence,
    ReadingStatus,
    ReadingV1,
    ReadingV3,
    ReadType,
    Replacement,
    SkipReason,
    as_latest,
    payload_sha256,
)

__all__ = ["ReadingRecord", "finite_gps", "list_readings", "owned_by", "record_reading"]


@dataclass(frozen=True)
class ReadingRecord:
    """A saved reading as the sync screen shows it."""

    reading: ReadingV3
    state: LocalState
    server_code: str | None
    server_message: str | None
    answered_at: datetime | None
    flags: tuple[str, ...]
    review_status: ReadingStatus | None
    review_reason: str | None
    reviewed_at: datetime | None
    photo_path: str | None
    photo_pending: bool  # names a photo that has not reached the server yet
    photo_error: str | None
    in_outbox: bool
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None  # diagnostics only: the sync screen never shows it
    server_failures: int = 0  # times the server failed (500) on this reading alone
    parked_at: datetime | None = None  # held back after repeated server failures; retried rarely
    due_on: date | None = None  # a rejection's or re-read's due date, as the supervisor's decision set it
    owner_user_id: int | None = None  # the engineer who saved it (None: unknown, sent by whoever signs in)

    @property
    def parked(self) -> bool:
        return self.in_outbox and self.parked_at is not None


def _check_photo(reading: ReadingV3, photo_path: Path | None) -> None:
    # Caught here, the engineer can retake the photo; caught by the server, the reading stays photo pending.
    if photo_path is None:
        if reading.photo_sha256 is not None:
            raise PhotoMismatchError(f"reading {reading.uuid} names photo {reading.photo_sha256} but no file")
        return
    if reading.photo_sha256 is None:
        raise PhotoMismatchError(f"reading {reading.uuid} has a photo file but no photo_sha256")
    with photo_path.open("rb") as stream:
        actual = hashlib.file_digest(stream, "sha256").hexdigest()
    if actual != reading.photo_sha256:
        raise PhotoMismatchError(f"{photo_path} hashes to {actual}, the reading says {reading.photo_sha256}")


def _not_finite(value: float | None) -> bool:
    return value is not None and not math.isfinite(value)


def finite_gps(reading: ReadingV3) -> ReadingV3:
    """``reading`` without GPS numbers JSON cannot carry: a non-finite coordinate drops the position (half a
    position is no position), a non-finite accuracy becomes unknown. The same object when nothing changes."""
    update: dict[str, None] = {}
    if _not_finite(reading.gps_lat) or _not_finite(reading.gps_lon):
        update.update(gps_lat=None, gps_lon=None)
    if _not_finite(reading.gps_accuracy_m):
        update["gps_accuracy_m"] = None
    # model_copy skips validation: the reading was valid, and removing optional numbers keeps it so.
    return reading.model_copy(update=update) if update else reading


def record_reading(
    *,
    store: Store,
    reading: ReadingV1,
    photo_path: Path | str | None = None,
    owner_user_id: int | None = None,
    photo_dhash: str | None = None,
) -> ReadingV3:
    """Save ``reading`` and its outbox row in one transaction (both or neither); returns the reading as saved.

    A ``ReadingV3`` may carry a meter replacement: it is saved and pushed the same way, in protocol 2.
    ``owner_user_id`` is the signed-in engineer: only they push it (``pending_outbox(owner=...)``).
    ``photo_dhash`` is the photo's difference hash (hex), kept for the reuse check of later photos.

    Non-finite GPS numbers are dropped first (``finite_gps``; capture already does it) so the saved payload, its
    hash and what is pushed are the same forever. Raises ``DuplicateReadingError`` if the uuid is already saved
    (nothing changes) and ``PhotoMismatchError`` if ``photo_path`` is missing, extra, or does not hash to
    ``reading.photo_sha256``.
    """
    reading = finite_gps(as_latest(reading))
    replacement = reading.replacement
    path = Path(photo_path) if photo_path is not None else None
    _check_photo(reading, path)
    uuid = str(reading.uuid)
    row = {
        "uuid": uuid,
        "meter_id": reading.meter_id,
        "read_type": reading.read_type,
        "skip_reason": reading.skip_reason,
        "value": reading.value,
        "captured_at": reading.captured_at,
        "gps_lat": reading.gps_lat,
        "gps_lon": reading.gps_lon,
        "gps_accuracy_m": reading.gps_accuracy_m,
        "photo_sha256": reading.photo_sha256,
        "note": reading.note,
        "replaces": str(reading.replaces) if reading.replaces else None,
        "replacement_old_final_value": replacement.old_final_value if replacement else None,
        "replacement_new_meter_number": replacement.new_meter_number if replacement else None,
        "replacement_new_initial_value": replacement.new_initial_value if replacement else None,
        # Without a replacement, exactly the bytes protocol 1 saved (ReadingV3 leaves the key out).
        "payload_json": reading.model_dump_json(),
        "payload_sha256": payload_sha256(reading),
        "photo_path": str(path) if path else None,
        "state": LocalState.SAVED,
        "server_code": None,
        "server_message": None,
        "answered_at": None,
        "flags": [],
        "review_status": None,
        "review_reason": None,
        "reviewed_at": None,
        "due_on": None,
        "owner_user_id": owner_user_id,
    }
    try:
        with store.write() as db:
            _insert(db, _table(LocalReading), row, dialect=store.engine.dialect)
            outbox = {"reading_uuid": uuid, "attempts": 0, "next_attempt_at": None, "last_error": None}
            _insert(db, _table(OutboxEntry), outbox, dialect=store.engine.dialect)
            if reading.photo_sha256 is not None:
                # Photos are content-addressed: a second reading naming the same bytes shares the row.
                photo = {
                    "sha256": reading.photo_sha256,
                    "local_path": str(path),
                    "uploaded_at": None,
                    "error_code": None,
                    "error_message": None,
                    "error_is_terminal": False,
                    "dhash": photo_dhash,
                }
                _insert(db, _table(LocalPhoto), photo, dialect=store.engine.dialect, on_conflict_do_nothing=True)
    except sqlite3.IntegrityError as error:
        # The unique uuid (BEGIN IMMEDIATE serializes writers, so this is the only way in for a duplicate).
        if "local_readings.uuid" in str(error):
            raise DuplicateReadingError(uuid) from error
        raise
    return reading


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True)
class _PreparedColumn:
    key: str
    process: Callable[[Any], Any] | None  # the column type's bind processor
    fixed: bool  # not in the row: the column's scalar default, as a Core insert fills it in
    default: Any


@dataclass(frozen=True)
class _PreparedInsert:
    sql: str
    columns: tuple[_PreparedColumn, ...]


@lru_cache(maxsize=8)
def _prepared_insert(
    table: Table, keys: tuple[str, ...], dialect: Dialect, on_conflict_do_nothing: bool
) -> _PreparedInsert:
    """An INSERT compiled once, with each column's own bind processor and scalar default: the stored row is exactly
    what a Core insert writes, without compiling and building an execution context for every save
    (bench/local_save.py)."""
    statement = sqlite_insert(table).on_conflict_do_nothing() if on_conflict_do_nothing else insert(table)
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    columns = []
    for key in compiled.positiontup or []:
        column = table.c[key]
        fixed = key not in keys
        scalar = column.default if isinstance(column.default, ScalarElementColumnDefault) else None
        if fixed and scalar is None:
            raise ValueError(f"{table.name}.{key}: no value and no scalar default")
        default = scalar.arg if fixed and scalar is not None else None
        process = column.type.dialect_impl(dialect).bind_processor(dialect)  # as Core binds: the dialect's type
        columns.append(_PreparedColumn(key, process, fixed, default))
    return _PreparedInsert(str(compiled), tuple(columns))


def _insert(
    db: sqlite3.Connection,
    table: Table,
    row: dict[str, Any],
    *,
    dialect: Dialect,
    on_conflict_do_nothing: bool = False,
) -> None:
    prepared = _prepared_insert(table, tuple(row), dialect, on_conflict_do_nothing)
    values = []
    for column in prepared.columns:
        value = column.default if column.fixed else row[column.key]
        values.append(value if column.process is None else column.process(value))
    db.execute(prepared.sql, values)


class _SavedPayload(BaseModel):
    """``ReadingV1`` as the first app versions saved it, before the protocol bounded its numbers and times."""

    model_config = ConfigDict(extra="ignore")

    uuid: UUID
    meter_id: int
    read_type: ReadType
    skip_reason: SkipReason | None = None
    value: str | None = None
    captured_at: datetime
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_accuracy_m: float | None = None
    photo_sha256: str | None = None
    note: str | None = None
    replaces: UUID | None = None
    replacement: Replacement | None = None
    evidence: Evidence | None = None


def reading_from_row(row: LocalReading) -> ReadingV3:
    """The exact reading that was saved (and is pushed): rebuilt from the stored wire payload.

    A reading saved before the protocol's bounds tightened (a 1970 phone clock, a latitude of 91) must still
    be listed and pushed, never crash the sync screen or stop the outbox: it is rebuilt without validation so the
    server can judge it (and reject it per item, with a reason the engineer sees).
    """
    try:
        return ReadingV3.model_validate_json(row.payload_json)
    except ValidationError:
        saved = _SavedPayload.model_validate_json(row.payload_json)
        return finite_gps(ReadingV3.model_construct(**dict(saved)))


def owned_by(owner: int | None) -> ColumnElement[bool]:
    """Readings ``owner`` may push and see as theirs: their own, and any whose owner is unknown (saved before
    owners were kept, on a phone nobody had signed in to: never stranded). ``None``: every reading."""
    if owner is None:
        return true()
    return or_(col(LocalReading.owner_user_id) == owner, col(LocalReading.owner_user_id).is_(None))


def list_readings(*, store: Store, owner: int | None = None) -> list[ReadingRecord]:
    """The phone's readings (``owner``'s, see ``owned_by``; all by default), newest saved first, with their sync,
    review and photo state."""
    with store.transaction() as session:
        rows = session.exec(
            select(LocalReading, OutboxEntry, LocalPhoto)
            .join(OutboxEntry, col(OutboxEntry.reading_uuid) == col(LocalReading.uuid), isouter=True)
            .join(LocalPhoto, col(LocalPhoto.sha256) == col(LocalReading.photo_sha256), isouter=True)
            .where(owned_by(owner))
            .order_by(col(LocalReading.seq).desc())
        ).all()
    return [
        ReadingRecord(
            reading=reading_from_row(reading),
            state=reading.state,
            server_code=reading.server_code,
            server_message=reading.server_message,
            answered_at=reading.answered_at,
            flags=tuple(reading.flags),
            review_status=reading.review_status,
            review_reason=reading.review_reason,
            reviewed_at=reading.reviewed_at,
            photo_path=reading.photo_path,
            photo_pending=reading.photo_sha256 is not None and (photo is None or photo.uploaded_at is None),
            photo_error=photo.error_code if photo is not None else None,
            in_outbox=outbox is not None,
            attempts=outbox.attempts if outbox is not None else 0,
            next_attempt_at=outbox.next_attempt_at if outbox is not None else None,
            last_error=outbox.last_error if outbox is not None else None,
            server_failures=outbox.server_failures if outbox is not None else 0,
            parked_at=outbox.parked_at if outbox is not None else None,
            due_on=reading.due_on,
            owner_user_id=reading.owner_user_id,
        )
        for reading, outbox, photo in rows
    ]
