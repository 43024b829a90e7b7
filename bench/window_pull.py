"""Building a full pull with what the phone needs offline (issue 12): a 5,000-meter route against a 500-meter one.

    python bench/window_pull.py [--meters 5000] [--small 500] [--reads 12] [--runs 5] [--database-url URL]

Seeds a throw-away database (SQLite in a temporary directory unless ``--database-url`` names one, e.g. a fresh
PostgreSQL database: it must be empty) with two engineers' routes: every meter has ``--reads`` monthly approved
reads and a reading this period (every third one flagged), every unit a tariff. Then ``sync_server.pull.pull_for``
with cursor 0 — history, usage window, tariff and period read for every meter, the same call the route makes — is
timed ``--runs`` times per route (median printed, and the ratio of the two: linear growth would be the ratio of the
meter counts). Last, the window computation alone (``plausibility.usage_from_history`` + ``expected_window`` on six
reads) per meter. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlmodel import Session, col

from shared_billing.consumption import MeterRegister
from shared_billing.plausibility import expected_window, usage_from_history
from shared_billing.protocol import MeterKind, ReadingStatus, ReadType, Role, UnitCategory
from shared_billing.tariffs import blessings_tariff
from sync_server.db import create_db_engine, migrate
from sync_server.models import (
    Assignment,
    AssignmentHistory,
    Block,
    Meter,
    Reading,
    ReadingFlag,
    ReadingFlagRecord,
    ReadingSource,
    TariffRecord,
    Unit,
    User,
)
from sync_server.periods import period_of
from sync_server.pull import pull_for
from sync_server.sql import table_of

TZ = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 3, 20, 4, 30, tzinfo=UTC)  # 20 March 2026, 10:00 in India: pinned, never today's date
BATCH = 5_000  # rows per executemany


def _insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        session.connection().execute(insert(table_of(model)), rows[start : start + BATCH])


def _ids(session: Session, name: Any, key: Any, prefix: str) -> dict[str, int]:
    return {found: ident for found, ident in session.execute(select(name, key).where(name.startswith(prefix))).all()}


def _seed_route(session: Session, name: str, meters: int, reads: int, tariff_id: int, block_id: int) -> User:
    engineer = User(username=name, full_name=name, role=Role.ENGINEER, password_hash="x", created_at=NOW)
    session.add(engineer)
    session.flush()
    assert engineer.id is not None
    _insert(
        session,
        Unit,
        [
            {
                "code": f"{name}-U{i}",
                "block_id": block_id,
                "category": UnitCategory.FLAT,
                "unit_type": "2BHK",
                "tariff_id": tariff_id,
                "fixed_charge_waived": False,
            }
            for i in range(meters)
        ],
    )
    unit_ids = _ids(session, col(Unit.code), col(Unit.id), f"{name}-U")
    _insert(
        session,
        Meter,
        [
            {
                "number": f"{name}-M{i}",
                "block_id": block_id,
                "unit_id": unit_ids[f"{name}-U{i}"],
                "kind": MeterKind.UNIT,
                "dials": 6,
                "decimals": 0,
                "multiplier": Decimal(1),
                "status": "active",
            }
            for i in range(meters)
        ],
    )
    meter_ids = _ids(session, col(Meter.number), col(Meter.id), f"{name}-M")
    ids = [meter_ids[f"{name}-M{i}"] for i in range(meters)]
    assigned = [
        {"meter_id": m, "engineer_id": engineer.id, "assigned_at": NOW, "walk_order": k} for k, m in enumerate(ids)
    ]
    _insert(session, Assignment, assigned)
    _insert(session, AssignmentHistory, [{"meter_id": m, "engineer_id": engineer.id, "valid_from": NOW} for m in ids])
    readings: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    for k, meter_id in enumerate(ids):
        value = 1000 + k % 97
        for month in range(reads, 0, -1):
            at = NOW - timedelta(days=30 * month + k % 5)
            value += 250 + (month * 37 + k) % 90
            readings.append(_reading(meter_id, value, at, ReadingStatus.APPROVED, ReadingSource.IMPORT))
        current = _reading(
            meter_id, value + 180, NOW - timedelta(hours=2), ReadingStatus.SUBMITTED, ReadingSource.FIELD
        )
        readings.append(current)
        if k % 3 == 0:
            flags.append({"reading_uuid": current["uuid"], "code": ReadingFlag.GPS_FAR})
    _insert(session, Reading, readings)
    _insert(session, ReadingFlagRecord, flags)
    return engineer


def _reading(meter_id: int, value: int, at: datetime, status: ReadingStatus, source: ReadingSource) -> dict[str, Any]:
    return {
        "uuid": uuid.uuid4(),
        "meter_id": meter_id,
        "read_type": ReadType.ACTUAL,
        "value_text": str(value),
        "value": Decimal(value),
        "captured_at": at,
        "received_at": at,
        "period": period_of(at, TZ),
        "photo_required": False,
        "source": source,
        "status": status,
    }


def _time_pull(session: Session, engineer: User, runs: int, meters: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        pulled = pull_for(session, engineer, 0, NOW, tz=TZ)
        times.append(time.perf_counter() - started)
        if len(pulled.meters) != meters or any(m.usage is None or m.period_read is None for m in pulled.meters):
            raise SystemExit("the pull lacks meters, usage or period reads: the figures would mean nothing")
    return statistics.median(times)


def _time_windows(meters: int) -> float:
    register = MeterRegister(dials=6)
    histories = [
        [(NOW - timedelta(days=30 * month + k % 5), Decimal(1000 + k % 97 + 300 * (6 - month))) for month in range(6)]
        for k in range(meters)
    ]
    started = time.perf_counter()
    for history in histories:
        usage = usage_from_history(history, register=register)
        assert usage is not None
        expected_window(usage, NOW, register=register)
    return (time.perf_counter() - started) / meters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=5000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--reads", type=int, default=12, help="approved monthly reads per meter")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_db_engine(url)
        migrate(engine)
        with Session(engine) as session:
            config = blessings_tariff()
            tariff = TariffRecord(code=config.code, name=config.name, valid_from=NOW.date(), config=config.to_dict())
            block = Block(code="BENCH", name="Bench block")
            session.add_all([tariff, block])
            session.flush()
            assert tariff.id is not None
            assert block.id is not None
            started = time.perf_counter()
            large = _seed_route(session, "large", args.meters, args.reads, tariff.id, block.id)
            small = _seed_route(session, "small", args.small, args.reads, tariff.id, block.id)
            session.commit()
            seeded = time.perf_counter() - started
            total = args.meters + args.small
            print(f"seeded {total} meters × {args.reads + 1} readings in {seeded:.1f} s ({engine.dialect.name})")
            _time_pull(session, small, 1, args.small)  # warm the statement caches
            small_s = _time_pull(session, small, args.runs, args.small)
            large_s = _time_pull(session, large, args.runs, args.meters)
        engine.dispose()
    per_meter = _time_windows(args.meters)
    for meters, seconds in ((args.small, small_s), (args.meters, large_s)):
        each = seconds / meters * 1e6
        print(f"full pull, {meters:>5} meters: median {seconds * 1000:8.1f} ms ({each:6.1f} µs a meter)")
    growth = args.meters / args.small
    print(f"ratio {args.meters} / {args.small}: {large_s / small_s:.1f}× (meters ×{growth:.0f}; {args.runs} runs each)")
    print(f"window alone (usage_from_history + expected_window, six reads): {per_meter * 1e6:.1f} µs a meter")


if __name__ == "__main__":
    main()
