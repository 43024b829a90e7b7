"""Sync ingest throughput: protocol-v1 pushes through the real server vs. a raw bulk insert of the same rows.

    python bench/sync_ingest.py [--backend sqlite|postgresql|both] [--readings 10000] [--batch 500]

Per backend:

1. Start ``fieldmeter serve --demo`` under uvicorn as a subprocess, on a free 127.0.0.1 port, with a fresh temp
   data dir (and, for PostgreSQL, a fresh database this script creates and drops). The server migrates the
   schema and seeds the demo society itself; the script waits for ``/api/health`` (bounded).
2. Seed the workload directly in the database (Core bulk inserts, before any push): ``--meters`` meters
   (default: one per reading, so each meter gets one reading this month, as in real life) in a bench block,
   assigned to engineer1, each with an approved reading last month.
3. Sign in as engineer1 and push ``--readings`` protocol-v1 readings in batches of ``--batch`` to
   ``/api/sync/push`` (one request after the other over one keep-alive connection, like a phone): values above
   the previous approved value, GPS a few metres from the meter (6 m accuracy), captured this month, no photo.
   Request bodies are serialized before the clock starts; the time is from the first request to the last
   response. Every outcome must be ``stored``.
4. Against the same database and the same ``reading`` table (same indexes, now holding the pushed rows too),
   time ``connection.execute(insert(Reading.__table__), rows)`` of as many equivalent rows (new UUIDs, the
   columns the push path fills, rows built before the clock starts), one commit per batch, on an engine made
   by the server's own ``create_db_engine`` (same SQLite pragmas: WAL, synchronous=FULL).

The push path also writes its audit rows (one per push) and flag rows (for flagged readings): part of its cost.
The server is always stopped and the PostgreSQL database always dropped. Exit status 1 when a check fails or
the PostgreSQL push/raw ratio is below ``--min-pg-ratio`` (default 0.2).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from bench_support import DEFAULT_PG_ADMIN_URL, HOST, BenchError, BenchServer, batches, fresh_pg_database
from geopy.distance import great_circle
from sqlalchemy import Engine, func, insert, select
from sqlmodel import col

from shared_billing.protocol import MAX_BATCH, PushRequest, ReadingV1, ReadType, payload_sha256
from sync_server.config import Settings
from sync_server.db import create_db_engine
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import (
    Assignment,
    AuditEvent,
    Block,
    Meter,
    MeterKind,
    MeterStatus,
    Reading,
    ReadingFlagRecord,
    ReadingSource,
    ReadingStatus,
    User,
)
from sync_server.periods import period_of

ENGINEER = "engineer1"
DEVICE_ID = "bench-device-1"
BENCH_BLOCK = "BENCH"
REQUEST_TIMEOUT_S = 120.0
ORIGIN = (30.9100, 75.8600)  # a bench block near the demo society
DEG_PER_M = 1 / 111_320  # degrees of latitude per metre (close enough for "a few metres away")
TZ = ZoneInfo(Settings.model_fields["society_timezone"].default)


@dataclass(frozen=True)
class BenchMeter:
    id: int
    lat: float
    lon: float
    previous: int


@dataclass
class Result:
    backend: str
    readings: int
    batch: int
    push_s: float
    raw_s: float
    push_rows_flags: int
    push_rows_audit: int
    response_flags: Counter[str]

    @property
    def push_rate(self) -> float:
        return self.readings / self.push_s

    @property
    def raw_rate(self) -> float:
        return self.readings / self.raw_s

    @property
    def ratio(self) -> float:
        return self.push_rate / self.raw_rate


# --- processes and databases ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def sqlalchemy_url(database_url: str | None, data_dir: Path) -> str:
    """The URL the server computes from the same inputs (Settings.sqlalchemy_url)."""
    if database_url is None:
        return f"sqlite:///{(data_dir / 'fieldmeter.db').resolve()}"
    return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")


# --- workload ---------------------------------------------------------------------------------------------


def seed_meters(engine: Engine, count: int, engineer_id: int, now: datetime, rng: random.Random) -> list[BenchMeter]:
    """``count`` meters in a bench block, assigned to the engineer, each with last month's approved reading."""
    month_start = now.astimezone(TZ).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month_at = (month_start - timedelta(days=6, hours=14)).astimezone(UTC)
    with engine.connect() as conn:
        supervisor_id = conn.execute(select(col(User.id)).where(col(User.username) == "supervisor")).scalar_one()
        block_id = conn.execute(
            insert(Block).values(code=BENCH_BLOCK, name="Bench block").returning(col(Block.id))
        ).scalar_one()
        conn.execute(
            insert(Meter),
            [
                {
                    "number": f"BENCH-{i:06d}",
                    "block_id": block_id,
                    "unit_id": None,
                    "kind": MeterKind.UNIT,
                    "label": None,
                    "dials": 6,
                    "decimals": 0,
                    "multiplier": Decimal(1),
                    "lat": round(ORIGIN[0] + (i // 100) * 0.0002, 6),
                    "lon": round(ORIGIN[1] + (i % 100) * 0.0002, 6),
                    "status": MeterStatus.ACTIVE,
                }
                for i in range(count)
            ],
        )
        rows = conn.execute(
            select(col(Meter.id), col(Meter.lat), col(Meter.lon))
            .where(col(Meter.block_id) == block_id)
            .order_by(col(Meter.id))
        ).all()
        meters = []
        for m_id, lat, lon in rows:
            assert m_id is not None
            assert lat is not None
            assert lon is not None
            meters.append(BenchMeter(m_id, lat, lon, rng.randrange(1_000, 900_000)))
        conn.execute(
            insert(Assignment),
            [{"meter_id": m.id, "engineer_id": engineer_id, "assigned_at": now} for m in meters],
        )
        conn.execute(
            insert(Reading),
            [
                {
                    "uuid": uuid.uuid4(),
                    "meter_id": m.id,
                    "engineer_id": engineer_id,
                    "read_type": ReadType.ACTUAL,
                    "value_text": str(m.previous),
                    "value": Decimal(m.previous),
                    "captured_at": last_month_at,
                    "received_at": last_month_at,
                    "period": period_of(last_month_at, TZ),
                    "photo_required": False,
                    "source": ReadingSource.SEED,
                    "status": ReadingStatus.APPROVED,
                    "decided_by_id": supervisor_id,
                    "decided_at": last_month_at,
                }
                for m in meters
            ],
        )
        conn.commit()
    return meters


def build_readings(meters: list[BenchMeter], count: int, now: datetime, rng: random.Random) -> list[ReadingV1]:
    """Valid readings: meter i % len(meters), value above the previous one, GPS 2–8 m away, captured this month."""
    month_start = now.astimezone(TZ).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = max((now - month_start).total_seconds() - 60, 1.0)
    readings = []
    reads_of: Counter[int] = Counter()
    for i in range(count):
        meter = meters[i % len(meters)]
        reads_of[meter.id] += 1
        value = meter.previous + reads_of[meter.id] * rng.randrange(20, 600)
        offset_m = rng.uniform(2, 8)
        readings.append(
            ReadingV1(
                uuid=uuid.uuid4(),
                meter_id=meter.id,
                read_type=ReadType.ACTUAL,
                value=str(value),
                captured_at=(month_start + timedelta(seconds=rng.uniform(0, span))).astimezone(UTC),
                gps_lat=round(meter.lat + offset_m * DEG_PER_M, 7),
                gps_lon=round(meter.lon - offset_m * DEG_PER_M, 7),
                gps_accuracy_m=6.0,
            )
        )
    return readings


def raw_rows(
    readings: list[ReadingV1], meters: dict[int, BenchMeter], engineer_id: int, sent_at: datetime
) -> list[dict[str, Any]]:
    """Reading rows equivalent to what the push path stores (new UUIDs), computed up front."""
    received_at = datetime.now(UTC)
    rows = []
    for pushed in readings:
        reading = pushed.model_copy(update={"uuid": uuid.uuid4()})
        meter = meters[reading.meter_id]
        assert reading.value is not None
        rows.append(
            {
                "uuid": reading.uuid,
                "meter_id": reading.meter_id,
                "engineer_id": engineer_id,
                "device_id": DEVICE_ID,
                "read_type": reading.read_type,
                "skip_reason": None,
                "value_text": reading.value,
                "value": Decimal(reading.value),
                "captured_at": reading.captured_at,
                "sent_at": sent_at,
                "received_at": received_at,
                "period": period_of(reading.captured_at, TZ),
                "gps_lat": reading.gps_lat,
                "gps_lon": reading.gps_lon,
                "gps_accuracy_m": reading.gps_accuracy_m,
                "distance_m": float(great_circle((meter.lat, meter.lon), (reading.gps_lat, reading.gps_lon)).meters),
                "photo_sha256": None,
                "photo_required": True,
                "note": None,
                "replaces": None,
                "payload_sha256": payload_sha256(reading),
                "source": ReadingSource.FIELD,
                "status": ReadingStatus.SUBMITTED,
            }
        )
    return rows


# Columns that legitimately differ between a pushed row and its raw twin.
_OWN_COLUMNS = {"id", "uuid", "payload_sha256", "received_at"}


def check_equivalent(engine: Engine, pushed: ReadingV1, raw: dict[str, Any]) -> None:
    """The raw rows fill the same columns with the same values as the server did (but for identity)."""
    table = Reading.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = conn.execute(select(table).where(table.c.uuid == pushed.uuid)).mappings().one()
    expected_columns = {c.name for c in table.columns if stored[c.name] is not None} - _OWN_COLUMNS
    if missing := expected_columns - raw.keys():
        raise BenchError(f"raw rows leave out columns the push path fills: {sorted(missing)}")
    differ = {
        name: (stored[name], raw[name])
        for name in expected_columns
        if not (stored[name] == raw[name] or (isinstance(raw[name], float) and abs(stored[name] - raw[name]) < 1e-6))
    }
    if differ:
        raise BenchError(f"raw row differs from the pushed row: {differ}")


# --- one backend ------------------------------------------------------------------------------------------


def _count(engine: Engine, stmt: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def run_backend(backend: str, args: argparse.Namespace) -> Result:
    rng = random.Random(20261127)
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"fm-bench-{backend}-")))
        database_url = stack.enter_context(fresh_pg_database(args.pg_admin_url)) if backend == "postgresql" else None
        server = BenchServer(data_dir, free_port(), database_url)
        stack.callback(server.stop)
        server.wait_healthy()

        engine = create_db_engine(sqlalchemy_url(database_url, data_dir))
        stack.callback(engine.dispose)
        with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as client:
            login = client.post(
                "/api/auth/login",
                json={"username": ENGINEER, "password": DEMO_PASSWORD, "device_id": DEVICE_ID},
            )
            if login.status_code != 200:
                raise BenchError(f"login failed: {login.status_code} {login.text[:300]}")
            engineer_id = login.json()["user_id"]
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

            now = datetime.now(UTC)
            meters = seed_meters(engine, args.meters or args.readings, engineer_id, now, rng)
            readings = build_readings(meters, args.readings, now, rng)
            sent_at = datetime.now(UTC)
            bodies = [
                PushRequest(device_id=DEVICE_ID, sent_at=sent_at, readings=chunk).model_dump_json().encode()
                for chunk in batches(readings, args.batch)
            ]
            before = _count(engine, select(func.count()).select_from(Reading))
            headers = {"Content-Type": "application/json"}

            responses: list[httpx.Response] = []
            started = time.perf_counter()
            for body in bodies:
                response = client.post("/api/sync/push", content=body, headers=headers)
                if response.status_code != 200:
                    raise BenchError(f"push failed: {response.status_code} {response.text[:500]}")
                responses.append(response)
            push_s = time.perf_counter() - started

        outcomes: Counter[str] = Counter()
        response_flags: Counter[str] = Counter()
        problems: list[str] = []
        for response in responses:
            for result in response.json()["results"]:
                outcomes[result["outcome"]] += 1
                response_flags.update(result["flags"])
                if result["outcome"] != "stored" and len(problems) < 5:
                    problems.append(json.dumps(result))
        if outcomes != Counter(stored=args.readings):
            raise BenchError(f"not every reading was stored: {dict(outcomes)}; e.g. {problems}")
        stored = _count(engine, select(func.count()).select_from(Reading).where(col(Reading.device_id) == DEVICE_ID))
        if stored != args.readings:
            raise BenchError(f"{stored} rows from the bench device in the reading table, expected {args.readings}")
        flag_rows = _count(engine, select(func.count()).select_from(ReadingFlagRecord))
        audit_rows = _count(
            engine, select(func.count()).select_from(AuditEvent).where(col(AuditEvent.action) == "sync.push")
        )

        rows = raw_rows(readings, {m.id: m for m in meters}, engineer_id, sent_at)
        table = Reading.__table__  # type: ignore[attr-defined]
        check_equivalent(engine, readings[0], rows[0])
        with engine.connect() as conn:
            conn.execute(select(1)).scalar_one()  # connected (and pragmas applied) before the clock starts
            conn.commit()
            started = time.perf_counter()
            for chunk in batches(rows, args.batch):
                conn.execute(insert(table), chunk)
                conn.commit()
            raw_s = time.perf_counter() - started
        after = _count(engine, select(func.count()).select_from(Reading))
        if after != before + 2 * args.readings:
            raise BenchError(f"reading table has {after} rows, expected {before + 2 * args.readings}")

    return Result(backend, args.readings, args.batch, push_s, raw_s, flag_rows, audit_rows, response_flags)


# --- report -----------------------------------------------------------------------------------------------


def print_table(results: list[Result]) -> None:
    header = (
        f"{'backend':<11} {'readings':>8} {'batch':>5} {'push s':>7} {'push readings/s':>15} "
        f"{'raw s':>6} {'raw readings/s':>14} {'push/raw':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:<11} {r.readings:>8} {r.batch:>5} {r.push_s:>7.2f} {r.push_rate:>15,.0f} "
            f"{r.raw_s:>6.2f} {r.raw_rate:>14,.0f} {r.ratio:>8.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--readings", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=MAX_BATCH)
    parser.add_argument("--meters", type=int, default=None, help="bench meters to seed (default: as many as readings)")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("FIELDMETER_BENCH_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL),
        help="PostgreSQL database to connect to for CREATE/DROP DATABASE",
    )
    parser.add_argument("--min-pg-ratio", type=float, default=0.2)
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= MAX_BATCH:
        parser.error(f"--batch must be 1..{MAX_BATCH}")
    if args.readings < 1 or (args.meters is not None and args.meters < 1):
        parser.error("--readings and --meters must be ≥ 1")

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: list[Result] = []
    failed = False
    for backend in backends:
        print(f"[{backend}] pushing {args.readings} readings in batches of {args.batch} ...", flush=True)
        try:
            result = run_backend(backend, args)
        except (BenchError, OSError, psycopg.Error) as exc:
            print(f"[{backend}] FAILED: {exc}", flush=True)
            failed = True
            continue
        results.append(result)
        flags = ", ".join(f"{k}={v}" for k, v in sorted(result.response_flags.items())) or "none"
        print(
            f"[{backend}] all {result.readings} stored; push wrote {result.push_rows_audit} audit rows and "
            f"{result.push_rows_flags} flag rows; flags in responses: {flags}",
            flush=True,
        )

    print()
    print_table(results)
    print()
    for r in results:
        if r.backend == "postgresql":
            ok = r.ratio >= args.min_pg_ratio
            failed = failed or not ok
            verdict = f"{'OK' if ok else 'BELOW'} (required ≥ {args.min_pg_ratio})"
        else:
            verdict = "(no threshold)"
        print(
            f"{r.backend}: push {r.push_rate:,.0f} readings/s, raw insert {r.raw_rate:,.0f} readings/s, "
            f"push/raw {r.ratio:.3f} {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
