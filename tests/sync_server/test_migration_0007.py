"""Migration 0007: the bill run's old flag ``negative_consumption`` becomes ``below_previous`` (a reading that
already had ``below_previous`` keeps one), and the old skip code in stored bill runs becomes
``reading.below_previous``; other flags and codes are left as they were."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from sync_server.db import create_db_engine, migrate
from sync_server.demo import seed_demo
from sync_server.models import BillRun, Block, ReadingFlag, ReadingFlagRecord, User
from tests.sync_server.factories import NOW

OLD_FLAG, OLD_CODE = "negative_consumption", "bill.negative_consumption"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_old_flags_and_codes_are_renamed_and_no_reading_gets_the_flag_twice(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert seed_demo(engine, now=NOW, tz=ZoneInfo("Asia/Kolkata"))
        with Session(engine) as session:
            admin = session.exec(select(User).where(User.username == "admin")).one()
            block = session.exec(select(Block)).first()
            assert admin.id is not None
            assert block is not None
            assert block.id is not None
            skipped = [
                {"unit": "A-1", "code": OLD_CODE, "message": "Meter 1: below"},
                {"unit": "A-2", "code": "bill.no_approved_reading", "estimate": "consumption.no_history"},
            ]
            session.add(
                BillRun(block_id=block.id, period="2025-01", started_by_id=admin.id, started_at=NOW, skipped=skipped)
            )
            session.commit()
        migrate(engine, "0006")
        with engine.begin() as connection:
            ids = connection.execute(text("SELECT id FROM reading ORDER BY id")).scalars().all()
            only_old, both, old_twice, other = ids[:4]
            rows = [
                (only_old, OLD_FLAG),
                (both, "below_previous"),
                (both, OLD_FLAG),
                (both, "gps_far"),
                (old_twice, OLD_FLAG),
                (old_twice, OLD_FLAG),
                (other, "clock_drift"),
            ]
            for reading_id, code in rows:
                connection.execute(
                    text(
                        "INSERT INTO reading_flag (reading_uuid, code) SELECT uuid, :code FROM reading WHERE id = :id"
                    ),
                    {"code": code, "id": reading_id},
                )

        migrate(engine)

        with Session(engine) as session:
            found = session.execute(
                text(
                    "SELECT reading.id, reading_flag.code FROM reading_flag "
                    "JOIN reading ON reading.uuid = reading_flag.reading_uuid"
                )
            ).all()
            assert sorted((reading_id, code) for reading_id, code in found) == sorted(
                [
                    (only_old, "below_previous"),
                    (both, "below_previous"),
                    (both, "gps_far"),
                    (old_twice, "below_previous"),
                    (other, "clock_drift"),
                ]
            )
            # Every stored flag now loads as a ReadingFlag (the old name would fail the load).
            assert {flag.code for flag in session.exec(select(ReadingFlagRecord)).all()} == {
                ReadingFlag.BELOW_PREVIOUS,
                ReadingFlag.GPS_FAR,
                ReadingFlag.CLOCK_DRIFT,
            }
            run = session.exec(select(BillRun)).one()
            assert run.skipped == [
                {"unit": "A-1", "code": "reading.below_previous", "message": "Meter 1: below"},
                skipped[1],
            ]
    finally:
        engine.dispose()
