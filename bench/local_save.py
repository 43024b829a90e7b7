"""Saving a reading on the phone: ``mobile_app.store.record_reading`` vs. a raw sqlite3 insert of the same row.

    python bench/local_save.py [--saves 500] [--warmup 20] [--dir DIR]

Each side gets a fresh SQLite file in a fresh temporary directory (under ``--dir``, default the system temp dir;
put it on the disk you care about: fsync cost is the point) with the same durability settings: journal_mode=WAL,
synchronous=FULL (every commit fsyncs the WAL).

- store: ``record_reading(store=..., reading=...)`` — builds the row from the protocol-v1 reading (wire JSON,
  payload SHA-256), checks the uuid is new, inserts the reading and its outbox row, commits; one transaction each.
- raw: ``sqlite3`` with ``isolation_level=None``; ``BEGIN IMMEDIATE`` → ``INSERT`` of the same columns into an
  equivalent table (the DDL SQLAlchemy emits for ``local_readings``, indexes included) → ``COMMIT``. Row tuples
  (including the JSON and hash) are built before the clock starts.
- raw + outbox (context only): the same, plus the outbox row in the same transaction — the durable work
  ``record_reading`` does, without the ORM.

The sides are interleaved save by save so background load hits them alike. Prints per-save mean and median (µs)
and store/raw (target ≤ 3×). Checks (not timing) that both files hold identical reading rows and the store one
an outbox row per reading.

On the 2-CPU VM this was written on (median store vs raw, three runs each): files on its disk (/tmp) 645 vs 318 µs
= 1.8–2.0×; on tmpfs (``--dir /dev/shm``: no fsync, so only the Python and SQLite CPU cost shows) 110–177 vs
29–41 µs = 3.75–4.3×. On the phone every save fsyncs to flash, so the disk figure is the one that matters.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from mobile_app.store import open_store, record_reading
from mobile_app.store.tables import LocalBase, LocalReading, LocalState, OutboxEntry
from shared_billing.protocol import ReadingV1, payload_sha256

COLUMNS = (
    "uuid",
    "meter_id",
    "read_type",
    "skip_reason",
    "value",
    "captured_at",
    "gps_lat",
    "gps_lon",
    "gps_accuracy_m",
    "photo_sha256",
    "note",
    "replaces",
    "payload_json",
    "payload_sha256",
    "photo_path",
    "state",
    "flags",
)
INSERT_READING = f"INSERT INTO local_readings ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
INSERT_OUTBOX = "INSERT INTO outbox (reading_uuid, attempts) VALUES (?, 0)"


def make_readings(count: int) -> list[ReadingV1]:
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    return [
        ReadingV1(
            uuid=uuid4(),
            meter_id=1 + i % 200,
            read_type="actual",
            value=f"{1000 + i * 7.3:.1f}",
            captured_at=start + timedelta(minutes=i),
            gps_lat=12.97 + i * 1e-5,
            gps_lon=77.59 - i * 1e-5,
            gps_accuracy_m=6.0,
            note="meter cabinet behind the stairs" if i % 10 == 0 else None,
        )
        for i in range(count)
    ]


def raw_row(reading: ReadingV1) -> tuple[Any, ...]:
    """The values record_reading stores, as sqlite3 parameters (datetimes as SQLAlchemy's SQLite text form)."""
    captured = reading.captured_at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return (
        str(reading.uuid),
        reading.meter_id,
        reading.read_type.value,
        reading.skip_reason.value if reading.skip_reason else None,
        reading.value,
        captured,
        reading.gps_lat,
        reading.gps_lon,
        reading.gps_accuracy_m,
        reading.photo_sha256,
        reading.note,
        str(reading.replaces) if reading.replaces else None,
        reading.model_dump_json(),
        payload_sha256(reading),
        None,
        LocalState.SAVED.value,
        "[]",
    )


def open_raw(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    dialect = sqlite_dialect.dialect()
    for name in (LocalReading.__tablename__, OutboxEntry.__tablename__):
        table = LocalBase.metadata.tables[str(name)]
        connection.execute(str(CreateTable(table).compile(dialect=dialect)))
        for index in table.indexes:
            connection.execute(str(CreateIndex(index).compile(dialect=dialect)))
    return connection


def raw_save(connection: sqlite3.Connection, row: tuple[Any, ...], *, outbox: bool) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(INSERT_READING, row)
        if outbox:
            connection.execute(INSERT_OUTBOX, (row[0],))
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    work()
    return (time.perf_counter_ns() - start) / 1000


def summary(label: str, samples: Sequence[float]) -> str:
    return (
        f"{label:<34} mean {statistics.fmean(samples):8.0f} µs   median {statistics.median(samples):8.0f} µs   "
        f"p95 {statistics.quantiles(samples, n=20)[-1]:8.0f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--saves", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary SQLite files go")
    args = parser.parse_args()

    total = args.warmup + args.saves
    readings = make_readings(total)
    rows = [raw_row(reading) for reading in readings]
    with tempfile.TemporaryDirectory(prefix="fieldmeter-local-save-", dir=args.dir) as tmp:
        folder = Path(tmp)
        store = open_store(path=folder / "store.db")
        raw = open_raw(folder / "raw.db")
        raw_outbox = open_raw(folder / "raw_outbox.db")
        times: dict[str, list[float]] = {"store": [], "raw": [], "raw_outbox": []}
        try:
            for i, (reading, row) in enumerate(zip(readings, rows, strict=True)):
                sample = {
                    "store": timed(partial(record_reading, store=store, reading=reading)),
                    "raw": timed(partial(raw_save, raw, row, outbox=False)),
                    "raw_outbox": timed(partial(raw_save, raw_outbox, row, outbox=True)),
                }
                if i >= args.warmup:
                    for key, value in sample.items():
                        times[key].append(value)
            # Same rows on both sides (the benchmark's premise), and every store save has its outbox row.
            select_rows = f"SELECT {', '.join(COLUMNS)} FROM local_readings ORDER BY seq"
            with sqlite3.connect(folder / "store.db") as check:
                stored = check.execute(select_rows).fetchall()
                outbox_rows = check.execute("SELECT count(*) FROM outbox").fetchone()[0]
            check.close()
            assert stored == raw.execute(select_rows).fetchall(), "store and raw rows differ"
            assert len(stored) == outbox_rows == total, (len(stored), outbox_rows)
        finally:
            store.close()
            raw.close()
            raw_outbox.close()

    print(
        f"{args.saves} saves each (after {args.warmup} warm-up), one transaction per save, "
        f"WAL + synchronous=FULL, files in {Path(tmp).parent}"
    )
    print(summary("store  record_reading", times["store"]))
    print(summary("raw    sqlite3 INSERT reading", times["raw"]))
    print(summary("raw    + outbox row (context)", times["raw_outbox"]))
    mean_ratio = statistics.fmean(times["store"]) / statistics.fmean(times["raw"])
    median_ratio = statistics.median(times["store"]) / statistics.median(times["raw"])
    print(f"ratio store/raw: mean {mean_ratio:.2f}×, median {median_ratio:.2f}× (target ≤ 3×)")
    outbox_ratio = statistics.median(times["store"]) / statistics.median(times["raw_outbox"])
    print(f"ratio store/(raw + outbox): median {outbox_ratio:.2f}×")


if __name__ == "__main__":
    main()
