"""``sql.one_of`` on both databases: one parameter however many values (an array on PostgreSQL, a JSON array read
by ``json_each`` on SQLite), the same rows as an IN list for integers, strings and UUIDs, none for no values."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import Integer, String, Uuid
from sqlmodel import Session, col, select

from sync_server.models import Reading, Unit
from sync_server.sql import one_of


def test_one_of_finds_the_rows_of_ints_strings_and_uuids_and_none_for_nothing(demo_app: FastAPI) -> None:
    with Session(demo_app.state.context.engine) as session:
        readings = session.exec(select(Reading).order_by(col(Reading.id))).all()
        units = session.exec(select(Unit).order_by(col(Unit.id))).all()
        assert len(readings) >= 3
        assert len(units) >= 3
        chosen = readings[::2]

        ids = [reading.id for reading in chosen if reading.id is not None]
        found = session.exec(select(Reading.id).where(one_of(session, Reading.id, [*ids, 10**9], Integer))).all()
        assert sorted(found, key=str) == sorted(ids, key=str)

        uuids = [reading.uuid for reading in chosen]
        query = select(Reading.uuid).where(one_of(session, Reading.uuid, [*uuids, uuid.uuid4()], Uuid))
        assert sorted(session.exec(query).all()) == sorted(uuids)

        codes = [unit.code for unit in units[1::2]]
        named = select(Unit.code).where(one_of(session, Unit.code, [*codes, "NO-SUCH-UNIT", 'quo"te'], String))
        assert sorted(session.exec(named).all()) == sorted(codes)

        assert session.exec(select(Reading.id).where(one_of(session, Reading.id, [], Integer))).all() == []
