"""Small SQL helpers that keep queries portable between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Column, ColumnElement, Row, Select, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlmodel import col

__all__ = ["insert_ignoring", "one_of", "plain_rows", "table_of"]


def one_of(session: Session, column: Any, values: Iterable[Any], item_type: Any) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``, one parameter however many values.

    A batch of 500 ids as 500 bind parameters costs psycopg a pure-Python parse of the statement on every call
    (it caches only short statements); one array parameter keeps the statement small and cached.
    """
    items = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return col(column) == any_(bindparam(None, items, type_=ARRAY(item_type)))
    return col(column).in_(items)


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
