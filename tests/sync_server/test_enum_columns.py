"""Enumerated columns (sync_server/db_types.py ``StrEnumColumn``): stored as the value's text, loaded as the
member, a value outside the enum refused before it reaches the table, on SQLite and PostgreSQL."""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import Session, SQLModel, col, select

from sync_server.db import create_db_engine
from sync_server.db_types import StrEnumColumn
from sync_server.demo import seed_demo
from sync_server.models import (
    BillRun,
    Meter,
    MeterKind,
    Reading,
    ReadingSource,
    ReadingStatus,
    ReadType,
    Role,
    SyncEvent,
    SyncEventKind,
    Unit,
    UnitCategory,
    User,
)
from tests.sync_server.factories import NOW

TZ = ZoneInfo("Asia/Kolkata")


def _enum_columns() -> dict[str, type[StrEnum]]:
    return {
        f"{table.name}.{column.name}": column.type.enum_cls
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, StrEnumColumn)
    }


def test_every_enumerated_column_is_typed_with_its_enum() -> None:
    columns = _enum_columns()
    # The model field is annotated with the same enum the column loads (what code compares against).
    for name, enum_cls in columns.items():
        table_name, column_name = name.split(".")
        model = next(m for m in SQLModel.__subclasses__() if getattr(m, "__tablename__", None) == table_name)
        annotation = str(model.model_fields[column_name].annotation)
        assert enum_cls.__name__ in annotation, (name, annotation)
    assert {
        "user.role",
        "unit.category",
        "meter.kind",
        "reading.read_type",
        "reading.skip_reason",
        "reading.source",
        "reading.status",
        "reading_flag.code",
        "sync_event.kind",
        "bill.status",
        "bill_run.status",
        "bill_note.kind",
        "payment.mode",
        "ledger_entry.kind",
    } <= set(columns)


def test_a_column_too_short_for_its_enum_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 4"):
        StrEnumColumn(ReadingStatus, 4)  # "submitted" needs 9


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_enum_columns_store_the_value_and_load_the_member(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert seed_demo(engine, now=NOW, tz=TZ)
        with Session(engine) as session:
            engineer = session.exec(select(User).where(User.username == "engineer1")).one()
            assert type(engineer.role) is Role
            assert engineer.role is Role.ENGINEER
            kinds = set(session.exec(select(Meter.kind)).all())
            assert kinds == {MeterKind.UNIT, MeterKind.SHARED}
            assert all(type(kind) is MeterKind for kind in kinds)
            assert {type(c) for c in session.exec(select(Unit.category)).all()} == {UnitCategory}
            seeded = session.exec(select(Reading)).first()
            assert seeded is not None
            assert (seeded.read_type, seeded.source, seeded.status, seeded.skip_reason) == (
                ReadType.ACTUAL,
                ReadingSource.SEED,
                ReadingStatus.APPROVED,
                None,
            )
            assert type(seeded.status) is ReadingStatus
            assert {type(k) for k in session.exec(select(SyncEvent.kind)).all()} == {SyncEventKind}
            # Filters take members; the database holds the plain value.
            approved = session.exec(select(Reading.id).where(Reading.status == ReadingStatus.APPROVED)).all()
            assert len(approved) == len(session.exec(select(Reading.id)).all())
            stored = session.execute(text("SELECT DISTINCT status FROM reading")).scalars().all()
            assert stored == ["approved"]
            role = session.execute(text("SELECT role FROM \"user\" WHERE username = 'engineer1'")).scalar_one()
            assert (type(role), role) == (str, "engineer")
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_value_outside_the_enum_is_refused_and_nothing_is_stored(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert seed_demo(engine, now=NOW, tz=TZ)
        with Session(engine) as session:
            admin = session.exec(select(User).where(User.username == "admin")).one()
            block_id = session.exec(select(Meter.block_id)).first()
            assert block_id is not None
            assert admin.id is not None
            run = BillRun(block_id=block_id, period="2025-01", started_by_id=admin.id, started_at=NOW)
            run.status = "finished"  # type: ignore[assignment]  # what mypy refuses, the column refuses too
            session.add(run)
            with pytest.raises(StatementError, match="'finished' is not a RunStatus"):
                session.commit()
            session.rollback()
            with pytest.raises(StatementError, match="'superuser' is not a Role"):
                session.exec(select(User).where(col(User.role) == "superuser")).all()
        with Session(engine) as session:
            assert session.exec(select(BillRun)).all() == []
            # A plain string that is a member's value is that member (a StrEnum member is its value).
            assert session.exec(select(User).where(col(User.role) == "admin")).one().role is Role.ADMIN
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_stored_value_the_enum_does_not_know_fails_loudly(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert seed_demo(engine, now=NOW, tz=TZ)
        with Session(engine) as session:
            session.execute(text("UPDATE \"user\" SET role = 'ghost' WHERE username = 'admin'"))
            session.commit()
            with pytest.raises(ValueError, match="'ghost' is not a Role"):
                session.exec(select(User).where(User.username == "admin")).one()
    finally:
        engine.dispose()
