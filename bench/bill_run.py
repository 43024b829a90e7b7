"""Bill run throughput: ``start_run`` + ``execute_run`` and ``issue_run`` in-process vs. a raw bulk insert of bills.

    python bench/bill_run.py [--backend sqlite|postgresql|both] [--units 10000] [--repeat 3] [--profile DIR]

Per backend:

1. A fresh database (SQLite in a temp dir; for PostgreSQL a fresh database this script creates and drops) on an
   engine made by the server's ``create_db_engine`` (same SQLite pragmas: WAL, synchronous=FULL; same psycopg
   settings), migrated with ``sync_server.db.migrate`` and seeded with ``seed_demo``.
2. A synthetic block (Core bulk inserts): ``--units`` flats (2BHK/4BHK mix, the demo's Blessings tariff), each
   with a unit meter, last month's approved reading and this month's approved reading (50–600 units used), then
   ``refresh_statistics`` as an import does after its bulk load (PostgreSQL's planner would otherwise take the
   block for a few rows and nested-loop its units with their meters: seconds per query at 10,000 units). A
   warm-up block of 50 such flats is billed and issued first, unmeasured: the measured run then meets SQLAlchemy's
   statement cache as a serving process does after its first run (the raw inserts below reuse the statements the
   measured run compiled, so a cold run alone would pay for compiling).
3. The run, exactly as ``POST /api/billing/runs`` does it: ``start_run`` in a request-like session, then
   ``execute_run(engine, run_id, clock=...)`` (the background task). Checks: status done, created == units.
   The run reads the clock as each batch of ``PROGRESS_EVERY`` units starts, so its call times give the pace
   of the first and of the last batch.
4. Issuing, as ``POST /api/billing/runs/{id}/issue`` does it: ``issue_run`` + ``commit`` (numbers, ledger).
   Checks: every draft issued, one ledger charge per bill.
5. Raw, drafting's rows: the draft rows read back (as they were before issuing), given last month's period and
   last month's reading (so ``uq_bill_unit_period`` and the unique ``reading_id`` hold), inserted with
   ``connection.execute(insert(bill), rows)`` into the same ``bill`` table, one commit per 500 rows.
6. Raw, issuing's rows: what issuing wrote (the issued bills, their ledger charges, their audit events, the
   consumers' outbox rows: email and SMS are configured and every unit has both addresses) read back and inserted
   the same way (the bills two months back, numbered ``RW/…``, no reading: the unique
   columns hold), one commit per 500 bills with their charges and events.

Each phase is compared with the raw insert of its own rows: drafting ≈ run/raw, issuing ≈ issue/raw.
``--repeat N`` does all of it N times per backend, each in a fresh database, and also prints the ratios of the
best times (each phase's fastest run against the raw insert's fastest: noise on a shared machine only ever adds
time, mostly to the fsync of each commit) and the median of the runs' ratios. One run's ratios swing by ±20 % or
more on a shared 2-core machine.

SQL statements and commits are counted and timed per phase (engine events around ``cursor.execute`` and the
DBAPI commit; a few µs each) and printed per unit: what the database (and driver) costs, and the rest, Python.
A run longer than 3 minutes is pointed out (measure a smaller ``--units`` and extrapolate). ``--profile DIR``
also runs pyinstrument over the run and the issue (timings then include its overhead) and writes text and HTML
reports to DIR. The PostgreSQL database is always dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from bench_support import DEFAULT_PG_ADMIN_URL, BenchError, batches, fresh_pg_database
from sqlalchemy import Engine, event, func, insert, select
from sqlmodel import Session, col

from shared_billing.tariffs import blessings_tariff
from sync_server.billing.runs import PROGRESS_EVERY, execute_run, issue_run, start_run
from sync_server.config import Settings
from sync_server.db import create_db_engine, migrate, refresh_statistics
from sync_server.demo import demo_times, seed_demo
from sync_server.models import (
    AuditEvent,
    Bill,
    BillStatus,
    Block,
    LedgerEntry,
    Meter,
    MeterKind,
    MeterStatus,
    Notification,
    Reading,
    ReadingSource,
    ReadingStatus,
    ReadType,
    RunStatus,
    TariffRecord,
    Unit,
    UnitCategory,
    User,
)
from sync_server.periods import period_of, previous_period
from sync_server.serving import settle_heap
from sync_server.sql import table_of

BENCH_BLOCK = "BENCH"
WARM_UP_BLOCK, WARM_UP_UNITS = "WARM", 50
RAW_BATCH = 500
SLOW_RUN_S = 180.0


# --- statement counting -----------------------------------------------------------------------------------

_OP = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)\s", re.IGNORECASE)
_FROM = re.compile(r"\bFROM\s+(\"?\w+\"?)", re.IGNORECASE)
_TARGET = re.compile(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\"?\w+\"?)", re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\s+(.*?)(?:\s+ORDER BY|\s+LIMIT|\s+FOR UPDATE|\s+RETURNING|$)", re.IGNORECASE | re.S)


def _label(statement: str) -> str:
    """``SELECT reading WHERE meter_id = ? AND period < ? ...``: op, table and the shape of the filter."""
    op = _OP.match(statement)
    if op is None:
        return statement.split(None, 1)[0].upper()
    verb = op.group(1).split()[0].upper()
    table_match = (_FROM if verb == "SELECT" else _TARGET).search(statement)
    table = table_match.group(1).strip('"') if table_match else "?"
    label = f"{verb} {table}"
    where = _WHERE.search(statement)
    if where:
        cond = re.sub(r"\s+", " ", where.group(1))
        cond = re.sub(r"\"?\w+\"?\.", "", cond)  # drop table qualifiers
        cond = re.sub(r"%\(\w+\)s(::\w+)?|\?", "?", cond)  # placeholders, either paramstyle
        label += f" WHERE {cond}"
    if re.search(r"\bFOR UPDATE\b", statement, re.IGNORECASE):
        label += " FOR UPDATE"
    return label[:96]


@dataclass
class Phase:
    statements: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # in cursor.execute
    commits: int = 0
    commit_s: float = 0.0


class StatementCounter:
    """Counts and times statements (by label) and commits on an engine into the current phase, if any."""

    def __init__(self, engine: Engine) -> None:
        self.phase: Phase | None = None
        self._labels: dict[str, str] = {}
        self._started: tuple[str, float] | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        do_commit = engine.dialect.do_commit

        def timed_commit(dbapi_connection: Any) -> None:
            started = time.perf_counter()
            do_commit(dbapi_connection)
            if self.phase is not None:
                self.phase.commits += 1
                self.phase.commit_s += time.perf_counter() - started

        setattr(engine.dialect, "do_commit", timed_commit)  # noqa: B010 - this engine's dialect only

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.phase is not None:
            label = self._labels.get(statement)
            if label is None:
                label = self._labels[statement] = _label(statement)
            self._started = (label, time.perf_counter())

    def _after(self, *_args: Any) -> None:
        if self.phase is not None and self._started is not None:
            label, started = self._started
            self.phase.statements[label] += 1
            self.phase.seconds[label] += time.perf_counter() - started
        self._started = None

    @contextlib.contextmanager
    def counting(self) -> Iterator[Phase]:
        self.phase = Phase()
        try:
            yield self.phase
        finally:
            self.phase = None


# --- databases --------------------------------------------------------------------------------------------


# --- workload ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchBlock:
    id: int
    period: str
    previous_reading_of_unit: dict[int, int]  # unit id → last month's approved reading id


def seed_block(
    engine: Engine, count: int, now: datetime, settings: Settings, rng: random.Random, *, code: str = BENCH_BLOCK
) -> BenchBlock:
    """``count`` flats in a block ``code``, each with a unit meter and approved readings last month and this month."""
    tz = settings.tz
    times = demo_times(now, tz)
    with engine.connect() as conn:
        users = {name: user_id for name, user_id in conn.execute(select(col(User.username), col(User.id)))}
        tariff_id = conn.execute(
            select(col(TariffRecord.id)).where(col(TariffRecord.code) == blessings_tariff().code)
        ).scalar_one()
        block_id = conn.execute(
            insert(Block).values(code=code, name=f"Bench block {code}").returning(col(Block.id))
        ).scalar_one()
        floors = ("GF", "FF", "SF")
        unit_types = [("2BHK" if rng.random() < 0.6 else "4BHK") for _ in range(count)]
        conn.execute(
            insert(Unit),
            [
                {
                    "code": f"{unit_types[i]}-{code[0]}{i // 3 + 1:05d}-{floors[i % 3]}",
                    "block_id": block_id,
                    "category": UnitCategory.FLAT,
                    "unit_type": unit_types[i],
                    "floor": floors[i % 3],
                    "consumer_name": f"Bench resident {i + 1:05d}",
                    "email": f"resident{i + 1:05d}@bench.invalid",
                    "phone": f"98{i + 1:08d}",
                    "tariff_id": tariff_id,
                    "rate_override": None,
                    "fixed_charge_waived": False,
                }
                for i in range(count)
            ],
        )
        unit_ids: list[int] = [
            unit_id
            for unit_id in conn.execute(
                select(col(Unit.id)).where(col(Unit.block_id) == block_id).order_by(col(Unit.id))
            ).scalars()
            if unit_id is not None
        ]
        conn.execute(
            insert(Meter),
            [
                {
                    "number": f"{code}-{i:06d}",
                    "block_id": block_id,
                    "unit_id": unit_id,
                    "kind": MeterKind.UNIT,
                    "label": None,
                    "dials": 6,
                    "decimals": 0,
                    "multiplier": Decimal(1),
                    "lat": round(30.9100 + (i // 100) * 0.0002, 6),
                    "lon": round(75.8600 + (i % 100) * 0.0002, 6),
                    "status": MeterStatus.ACTIVE,
                }
                for i, unit_id in enumerate(unit_ids)
            ],
        )
        meter_of_unit: dict[int, int] = {
            u: m
            for u, m in conn.execute(select(col(Meter.unit_id), col(Meter.id)).where(col(Meter.block_id) == block_id))
            if u is not None and m is not None
        }
        rows: list[dict[str, Any]] = []
        for unit_id in unit_ids:
            previous = rng.randrange(1_000, 60_000)
            current = previous + rng.randrange(50, 600)
            for value, at in ((previous, times.last_month_at), (current, times.this_month_at)):
                rows.append(
                    {
                        "uuid": uuid.uuid4(),
                        "meter_id": meter_of_unit[unit_id],
                        "engineer_id": users["engineer1"],
                        "read_type": ReadType.ACTUAL,
                        "value_text": str(value),
                        "value": Decimal(value),
                        "captured_at": at,
                        "received_at": at,
                        "period": period_of(at, tz),
                        "photo_required": False,
                        "source": ReadingSource.SEED,
                        "status": ReadingStatus.APPROVED,
                        "decided_by_id": users["supervisor"],
                        "decided_at": at,
                    }
                )
        conn.execute(insert(Reading), rows)
        period = period_of(times.this_month_at, tz)
        last = previous_period(period)
        previous_reading: dict[int, int] = {
            u: r
            for u, r in conn.execute(
                select(col(Meter.unit_id), col(Reading.id))
                .join(Meter, col(Meter.id) == col(Reading.meter_id))
                .where(col(Meter.block_id) == block_id, col(Reading.period) == last)
            )
            if u is not None and r is not None
        }
        conn.commit()
    if len(previous_reading) != count:
        raise BenchError(f"seeded {len(previous_reading)} previous readings for {count} units")
    assert block_id is not None
    return BenchBlock(block_id, period, previous_reading)


# --- one backend ------------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    units: int
    start_s: float
    execute_s: float
    issue_s: float
    raw_s: float
    raw_issue_s: float  # the rows issuing writes (bill, charge, event, outbox rows per unit), bulk inserted
    run_phase: Phase
    issue_phase: Phase
    pace_first_ms: float  # mean ms per unit over the run's first batch
    pace_last_ms: float  # ... and over its last batch
    profiled: bool

    @property
    def run_s(self) -> float:
        return self.start_s + self.execute_s

    @property
    def run_rate(self) -> float:
        return self.units / self.run_s

    @property
    def issue_rate(self) -> float:
        return self.units / self.issue_s

    @property
    def raw_rate(self) -> float:
        return self.units / self.raw_s

    @property
    def ratio(self) -> float:
        return self.run_rate / self.raw_rate

    @property
    def raw_issue_rate(self) -> float:
        return self.units / self.raw_issue_s

    @property
    def issue_ratio(self) -> float:
        return self.issue_rate / self.raw_issue_rate


class TimedClock:
    """The run's clock: real UTC time, and a perf_counter stamp per call.

    ``execute_run`` calls it as each batch starts, at each progress commit between batches, and once at the
    finish: [start 1, commit 1, start 2, commit 2, ..., start n, finish].
    """

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def __call__(self) -> datetime:
        self.stamps.append(time.perf_counter())
        return datetime.now(UTC)

    def pace_ms(self, units: int) -> tuple[float, float]:
        """ms per unit over the first batch and over the last one."""
        first_units = min(PROGRESS_EVERY, units)
        last_units = units - PROGRESS_EVERY * ((units - 1) // PROGRESS_EVERY)
        first = (self.stamps[1] - self.stamps[0]) / first_units
        last = (self.stamps[-1] - self.stamps[-2]) / last_units
        return first * 1000, last * 1000


@contextlib.contextmanager
def maybe_profile(directory: Path | None, name: str) -> Iterator[None]:
    if directory is None:
        yield
        return
    try:
        from pyinstrument import Profiler
    except ImportError:  # an optional tool: not a dependency of the project
        raise BenchError("--profile needs pyinstrument: .venv/bin/pip install pyinstrument") from None

    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{name}.txt").write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        (directory / f"{name}.html").write_text(profiler.output_html())
        print(f"  profile written: {directory / name}.txt / .html", flush=True)


def raw_issue_insert(engine: Engine, run_id: int, period: str, units: int) -> float:
    """Seconds to bulk insert again the rows issuing wrote for the run: bills, ledger charges, audit events and the
    consumers' outbox rows."""
    bills, charges, events = (table_of(model) for model in (Bill, LedgerEntry, AuditEvent))
    outbox = table_of(Notification)
    with engine.connect() as conn:
        mine = (bills.c.run_id == run_id) & bills.c.bill_number.is_not(None)  # not the raw drafts' copies
        issued = [dict(row) for row in conn.execute(select(bills).where(mine)).mappings()]
        ids = [row["id"] for row in issued]
        numbers = [row["bill_number"] for row in issued]
        charged = [dict(r) for r in conn.execute(select(charges).where(charges.c.bill_id.in_(ids))).mappings()]
        recorded = [
            dict(r)
            for r in conn.execute(
                select(events).where(events.c.action == "bill.issued", events.c.entity_id.in_(numbers))
            ).mappings()
        ]
        told = [dict(r) for r in conn.execute(select(outbox).where(outbox.c.bill_id.in_(ids))).mappings()]
    if not len(issued) == len(charged) == len(recorded) == units:
        raise BenchError(f"issuing wrote {len(issued)} bills, {len(charged)} charges, {len(recorded)} events")
    # Unique columns kept apart from the originals: another period, no reading, another number prefix.
    bill_rows = [
        {**_without(row, "id"), "period": period, "reading_id": None, "bill_number": "RW/" + row["bill_number"][3:]}
        for row in issued
    ]
    charge_rows = [_without(row, "id") for row in charged]
    event_rows = [_without(row, "id", "txid", "seq", "prev_digest", "digest") for row in recorded]
    # The same messages under another key (each message is unique by it), in batches of the bills' size.
    outbox_rows = [{**_without(row, "id"), "dedupe_key": "raw:" + row["dedupe_key"]} for row in told]
    starts = range(0, units, RAW_BATCH)
    per_batch = -(-len(outbox_rows) // len(starts)) if starts else 0  # spread evenly over the commits
    with engine.connect() as conn:
        conn.execute(select(1)).scalar_one()  # connected (and pragmas applied) before the clock starts
        conn.commit()
        started = time.perf_counter()
        for batch, start in enumerate(starts):
            conn.execute(insert(bills), bill_rows[start : start + RAW_BATCH])
            conn.execute(insert(charges), charge_rows[start : start + RAW_BATCH])
            conn.execute(insert(events), event_rows[start : start + RAW_BATCH])
            if told_rows := outbox_rows[batch * per_batch : (batch + 1) * per_batch]:
                conn.execute(insert(outbox), told_rows)
            conn.commit()
        return time.perf_counter() - started


def _without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


def _scalar(engine: Engine, stmt: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def warm_up(engine: Engine, block: BenchBlock, admin_id: int, settings: Settings) -> None:
    """Bill and issue a small block first, unmeasured: a serving process has compiled its statements by its second
    run (SQLAlchemy's cache), and the raw inserts reuse the statements the measured run compiled."""
    with Session(engine, expire_on_commit=False) as session:
        admin = session.get_one(User, admin_id)
        run = start_run(session, block_id=block.id, period=block.period, actor=admin, now=datetime.now(UTC))
        assert run.id is not None
        run_id = run.id
    done = execute_run(engine, run_id, clock=lambda: datetime.now(UTC))
    with Session(engine, expire_on_commit=False) as session:
        issued = issue_run(
            session, run_id, actor=session.get_one(User, admin_id), now=datetime.now(UTC), settings=settings
        )
        session.commit()
    if done.created != WARM_UP_UNITS or len(issued) != WARM_UP_UNITS:
        raise BenchError(f"the warm-up run drafted {done.created} and issued {len(issued)} of {WARM_UP_UNITS} bills")


def run_backend(backend: str, args: argparse.Namespace) -> Result:
    rng = random.Random(20261127)
    # Email and SMS configured (never contacted: no notifications job runs here), so issuing enqueues what a
    # society that tells its consumers enqueues: two outbox rows a bill.
    settings = Settings(smtp_host="smtp.bench.invalid", sms_provider_url="https://sms.bench.invalid/send")
    with contextlib.ExitStack() as stack:
        if backend == "postgresql":
            url = stack.enter_context(fresh_pg_database(args.pg_admin_url, driver="postgresql+psycopg"))
        else:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fm-bench-billrun-")))
            url = f"sqlite:///{(data_dir / 'fieldmeter.db').resolve()}"
        engine = create_db_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        now = datetime.now(UTC)
        if not seed_demo(engine, now=now, tz=settings.tz):
            raise BenchError("seed_demo found a non-empty database")
        t0 = time.perf_counter()
        block = seed_block(engine, args.units, now, settings, rng)
        print(f"  seeded {args.units} units in {time.perf_counter() - t0:.1f} s; billing {block.period}", flush=True)
        admin_id = _scalar(engine, select(col(User.id)).where(col(User.username) == "admin"))
        refresh_statistics(engine)  # as an import does after its bulk load (the block was bulk inserted too)
        warm_up(engine, seed_block(engine, WARM_UP_UNITS, now, settings, rng, code=WARM_UP_BLOCK), admin_id, settings)
        counter = StatementCounter(engine)
        profile_dir = args.profile / backend if args.profile else None
        settle_heap()  # as `fieldmeter serve` does once its app is built: the start-up heap out of the GC's scans

        # The run: start_run in a request's session, then the background task.
        clock = TimedClock()
        with counter.counting() as run_phase, maybe_profile(profile_dir, "run"):
            with Session(engine, expire_on_commit=False) as session:
                admin = session.get_one(User, admin_id)
                started = time.perf_counter()
                run = start_run(session, block_id=block.id, period=block.period, actor=admin, now=datetime.now(UTC))
                assert run.id is not None
                run_id = run.id
            start_s = time.perf_counter() - started
            started = time.perf_counter()
            run = execute_run(engine, run_id, clock=clock)
            execute_s = time.perf_counter() - started
        if run.status != RunStatus.DONE or run.created != args.units:
            raise BenchError(
                f"run {run.status} ({run.error}): created {run.created} of {args.units}; skipped e.g. {run.skipped[:3]}"
            )
        pace_first, pace_last = clock.pace_ms(args.units)
        print(f"  run: {start_s + execute_s:.1f} s, created {run.created}", flush=True)
        if start_s + execute_s > SLOW_RUN_S:
            print(
                f"  NOTE: the run took more than {SLOW_RUN_S / 60:.0f} minutes at {args.units} units; "
                "measure at --units 2000 too and extrapolate",
                flush=True,
            )

        bill_table = Bill.__table__  # type: ignore[attr-defined]
        with engine.connect() as conn:
            drafts = [
                dict(row)
                for row in conn.execute(
                    select(bill_table).where(bill_table.c.run_id == run_id).order_by(bill_table.c.id)
                ).mappings()
            ]
        if len(drafts) != args.units or any(d["status"] != BillStatus.DRAFT for d in drafts):
            raise BenchError(f"{len(drafts)} rows for the run in the bill table, expected {args.units} drafts")

        # Issuing: issue_run + commit in one request's session.
        with (
            counter.counting() as issue_phase,
            maybe_profile(profile_dir, "issue"),
            Session(engine, expire_on_commit=False) as session,
        ):
            admin = session.get_one(User, admin_id)
            started = time.perf_counter()
            issued = issue_run(session, run_id, actor=admin, now=datetime.now(UTC), settings=settings)
            session.commit()
            issue_s = time.perf_counter() - started
        if len(issued) != args.units:
            raise BenchError(f"issue_run issued {len(issued)} bills, expected {args.units}")
        numbered = _scalar(
            engine,
            select(func.count())
            .select_from(Bill)
            .where(
                col(Bill.run_id) == run_id,
                col(Bill.status) == BillStatus.ISSUED,
                col(Bill.bill_number).is_not(None),
            ),
        )
        charges = _scalar(
            engine,
            select(func.count())
            .select_from(LedgerEntry)
            .where(col(LedgerEntry.bill_id).in_(select(col(Bill.id)).where(col(Bill.run_id) == run_id))),
        )
        if numbered != args.units or charges != args.units:
            raise BenchError(f"{numbered} numbered bills and {charges} ledger charges, expected {args.units} of each")

        # Raw: the same draft rows for last month (its period and its reading), Core bulk insert.
        last = previous_period(block.period)
        rows = []
        for draft in drafts:
            row = {k: v for k, v in draft.items() if k != "id"}
            row["period"] = last
            row["reading_id"] = block.previous_reading_of_unit[draft["unit_id"]]
            rows.append(row)
        before = _scalar(engine, select(func.count()).select_from(Bill))
        with engine.connect() as conn:
            conn.execute(select(1)).scalar_one()  # connected (and pragmas applied) before the clock starts
            conn.commit()
            started = time.perf_counter()
            for chunk in batches(rows, RAW_BATCH):
                conn.execute(insert(bill_table), chunk)
                conn.commit()
            raw_s = time.perf_counter() - started
        after = _scalar(engine, select(func.count()).select_from(Bill))
        if after != before + args.units:
            raise BenchError(f"bill table has {after} rows, expected {before + args.units}")
        raw_issue_s = raw_issue_insert(engine, run_id, previous_period(last), args.units)

    return Result(
        backend,
        args.units,
        start_s,
        execute_s,
        issue_s,
        raw_s,
        raw_issue_s,
        run_phase,
        issue_phase,
        pace_first,
        pace_last,
        profile_dir is not None,
    )


# --- report -----------------------------------------------------------------------------------------------


_SHOWN = 12  # statement shapes listed per phase


def print_statements(title: str, phase: Phase, seconds: float, units: int) -> None:
    total = sum(phase.statements.values())
    in_db = sum(phase.seconds.values()) + phase.commit_s
    print(
        f"  {title}: {seconds / units * 1000:.2f} ms/unit; {total / units:.3f} statements and "
        f"{phase.commits / units:.3f} commits per unit ({total} / {phase.commits})"
    )
    print(f"    {'per unit':>8} {'ms/unit':>8}")
    # The costliest statement shapes (per unit, per batch, or the batch's one bulk write); the rest summed.
    shown = sorted(phase.statements, key=lambda label: phase.seconds[label], reverse=True)[:_SHOWN]
    for label in shown:
        print(f"    {phase.statements[label] / units:8.3f} {phase.seconds[label] / units * 1000:8.3f}  {label}")
    others = sum(n for label, n in phase.statements.items() if label not in shown)
    other_s = sum(phase.seconds[label] for label in phase.statements if label not in shown)
    print(f"    {others / units:8.3f} {other_s / units * 1000:8.3f}  (the other statements)")
    print(f"    {phase.commits / units:8.3f} {phase.commit_s / units * 1000:8.3f}  COMMIT")
    print(
        f"    {'':8} {in_db / units * 1000:8.3f}  = in the driver/database ({in_db / seconds:.0%}); "
        f"the rest, {(seconds - in_db) / units * 1000:.3f} ms/unit, is Python (ORM, pricing)"
    )


def print_table(results: list[Result]) -> None:
    header = (
        f"{'backend':<11} {'units':>6} {'run s':>7} {'run bills/s':>11} {'issue s':>7} {'issue bills/s':>13} "
        f"{'raw s':>6} {'raw rows/s':>10} {'run/raw':>7} {'raw issue s':>11} {'issue/raw':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:<11} {r.units:>6} {r.run_s:>7.2f} {r.run_rate:>11,.0f} {r.issue_s:>7.2f} "
            f"{r.issue_rate:>13,.0f} {r.raw_s:>6.2f} {r.raw_rate:>10,.0f} {r.ratio:>7.4f} "
            f"{r.raw_issue_s:>11.2f} {r.issue_ratio:>9.4f}"
        )


def _per_unit(phase: Phase, units: int) -> str:
    return f"{sum(phase.statements.values()) / units:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per backend, each in a fresh database")
    parser.add_argument("--profile", type=Path, default=None, help="write pyinstrument reports to this directory")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("FIELDMETER_BENCH_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL),
        help="PostgreSQL database to connect to for CREATE/DROP DATABASE",
    )
    args = parser.parse_args(argv)
    if args.units < 10:
        parser.error("--units must be ≥ 10")
    if args.repeat < 1:
        parser.error("--repeat must be ≥ 1")

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: list[Result] = []
    failed = False
    for backend in [name for name in backends for _ in range(args.repeat)]:
        print(f"[{backend}] bill run over {args.units} units{' (profiled)' if args.profile else ''} ...", flush=True)
        try:
            result = run_backend(backend, args)
        except (BenchError, OSError, psycopg.Error) as exc:
            print(f"[{backend}] FAILED: {exc}", flush=True)
            failed = True
            continue
        results.append(result)
        r = result
        print(
            f"  start_run {r.start_s:.2f} s + execute_run {r.execute_s:.2f} s; pace {r.pace_first_ms:.2f} ms/unit "
            f"over the first batch of {PROGRESS_EVERY}, {r.pace_last_ms:.2f} ms/unit over the last"
        )
        print_statements("run (start_run + execute_run)", r.run_phase, r.run_s, r.units)
        print_statements("issue (issue_run + commit)", r.issue_phase, r.issue_s, r.units)

    print()
    print_table(results)
    print()
    for r in results:
        note = " (under pyinstrument: timings inflated)" if r.profiled else ""
        print(
            f"{r.backend}: drafting {r.run_rate:,.0f} bills/s vs raw insert of its rows {r.raw_rate:,.0f} bills/s: "
            f"run/raw {r.ratio:.4f}, {_per_unit(r.run_phase, r.units)} statements/unit; issuing "
            f"{r.issue_rate:,.0f} bills/s vs raw insert of its rows (bill + charge + event + outbox) "
            f"{r.raw_issue_rate:,.0f} bills/s: issue/raw {r.issue_ratio:.4f}, "
            f"{_per_unit(r.issue_phase, r.units)} statements/unit{note}"
        )
    if args.repeat > 1:
        for backend in backends:
            mine = [r for r in results if r.backend == backend]
            if mine:
                best_run = min(r.raw_s for r in mine) / min(r.run_s for r in mine)
                best_issue = min(r.raw_issue_s for r in mine) / min(r.issue_s for r in mine)
                print(
                    f"{backend}, {len(mine)} runs: best times run/raw {best_run:.4f}, issue/raw {best_issue:.4f}; "
                    f"median ratios run/raw {statistics.median(r.ratio for r in mine):.4f}, "
                    f"issue/raw {statistics.median(r.issue_ratio for r in mine):.4f}"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
