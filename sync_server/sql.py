"""Small SQL helpers that keep queries portable between SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Column, ColumnElement, Row, Select, String, Table, any_, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import to_instance
from sqlmodel import col

__all__ = ["insert_ignoring", "one_of", "plain_rows", "table_of"]


def one_of(session: Session, column: Any, values: Iterable[Any], item_type: Any) -> ColumnElement[bool]:
    """``column`` is one of ``values``, as one parameter however many values: ``column = ANY(:array)`` on
    PostgreSQL, ``column IN (SELECT value FROM json_each(:json))`` on SQLite.

    A batch of 500 ids as 500 bind parameters costs the statement's compilation and the driver's parse on every
    call (psycopg caches only short statements; SQLAlchemy renders an expanding IN afresh each time): a bill run
    asks a few such questions per 500 units (bench/bill_run.py).
    """
    items = list(values)
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        return col(column) == any_(bindparam(None, items, type_=ARRAY(item_type)))
    # As the column stores them (a UUID as its 32 hex digits on SQLite), then as JSON.
    to_stored = to_instance(item_type).bind_processor(dialect)
    stored = [to_stored(item) for item in items] if to_stored is not None else items
    array = bindparam(None, json.dumps(stored), type_=String)
    return col(column).in_(select(text("value")).select_from(func.json_each(array)).scalar_subquery())


def table_of(model: type[Any]) -> Table:
    """The Core table of a SQLModel table class (for executemany inserts without the ORM's bulk path)."""
    return cast(Table, model.__table__)


def plain_rows(session: Session, query: Select[Any]) -> list[Row[Any]]:
    """The rows of a query of columns, through the session's connection (after flushing its pending changes, as
    ``Session.execute`` would): without the ORM's result machinery, which costs more than the rows themselves
    when a bill run reads a block's thousands of readings (bench/bill_run.py)."""
    session.flush()
    return list(session.connection().execute(query))


def insert_ignoring(dialect: str, table: Table, *keys: Column[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``table`` that skips the rows clashing on the unique ``keys`` (any unique key when none are
    named): PostgreSQL and SQLite both spell it ON CONFLICT DO NOTHING, each from its own dialect's ``insert``."""
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_nothing(index_elements=list(keys) or None)
