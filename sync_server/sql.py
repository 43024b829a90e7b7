"""Small SQL helpers that keep queries portable between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlmodel import col

__all__ = ["one_of", "table_of"]


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
