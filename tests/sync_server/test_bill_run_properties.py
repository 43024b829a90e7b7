"""Property: a bill run is deterministic and idempotent — repeated, or run on an identical database, it gives
identical bills (hypothesis over the units read this month and their consumption)."""

from __future__ import annotations

import tempfile
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from sync_server.billing.runs import execute_run, start_run
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.demo import seed_demo
from sync_server.main import create_app
from sync_server.models import Bill, Block, Meter, Reading, ReadingSource, ReadingStatus, ReadType, Unit, User
from sync_server.periods import period_of
from tests.sync_server.factories import NOW

# Block B flats not on the motor (billable on their own reading) and their use this month.
FLATS = ["2BHK-B1-GF", "2BHK-B1-FF", "2BHK-B1-SF", "2BHK-B2-GF", "2BHK-B2-FF", "2BHK-B2-SF", "4BHK-B5-GF", "4BHK-B6-GF"]
uses = st.dictionaries(st.sampled_from(FLATS), st.integers(min_value=0, max_value=2_000), max_size=len(FLATS))


def _bills_after_runs(use: dict[str, int], runs: int) -> tuple[list[Any], list[int]]:
    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(NOW)
        app = create_app(Settings(data_dir=Path(folder), secret_key="p" * 40, mount_web_app=False), clock=clock)
        engine = app.state.context.engine
        tz = app.state.context.settings.tz
        seed_demo(engine, now=clock(), tz=tz)
        with Session(engine) as session:
            admin = session.exec(select(User).where(User.username == "admin")).one()
            block = session.exec(select(Block).where(Block.code == "B")).one()
            for code, units in sorted(use.items()):
                meter = session.exec(
                    select(Meter).join(Unit, col(Unit.id) == col(Meter.unit_id)).where(Unit.code == code)
                ).one()
                previous = session.exec(
                    select(Reading).where(Reading.meter_id == meter.id).order_by(col(Reading.captured_at).desc())
                ).first()
                assert previous is not None
                assert previous.value is not None
                at = clock() - timedelta(hours=1)
                session.add(
                    Reading(
                        uuid=uuid.uuid4(),
                        meter_id=meter.id or 0,
                        read_type=ReadType.ACTUAL,
                        value_text=str(previous.value + units),
                        value=previous.value + units,
                        captured_at=at,
                        received_at=at,
                        period=period_of(at, tz),
                        photo_required=False,
                        source=ReadingSource.SEED,
                        status=ReadingStatus.APPROVED,
                        decided_at=at,
                    )
                )
            session.commit()
            created = []
            for _ in range(runs):
                run = start_run(
                    session, block_id=block.id or 0, period=period_of(clock(), tz), actor=admin, now=clock()
                )
                created.append(execute_run(engine, run.id or 0, clock=clock).created)
            bills = session.exec(select(Bill).join(Unit, col(Unit.id) == col(Bill.unit_id)).order_by(col(Unit.code)))
            snapshot = [(b.unit_id, b.period, b.lines, b.trace, b.total, b.round_off, b.payable) for b in bills]
        engine.dispose()
        return snapshot, created


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(use=uses)
def test_bill_run_repeated_or_replayed_gives_identical_bills(use: dict[str, int]) -> None:
    once, created_once = _bills_after_runs(use, runs=1)
    twice, created_twice = _bills_after_runs(use, runs=2)
    assert created_once == [len(use)]
    assert created_twice == [len(use), 0]  # the second run makes nothing new
    assert twice == once  # and a replay on an identical database gives the same bills, line for line
    for _, _, lines, _, total, round_off, payable in once:
        assert sum(Decimal(line["amount"]) for line in lines if line["code"] != "round_off") == total
        assert total + round_off == payable
