"""Paged, searchable lists: one way for every list route to take ``q``, ``limit`` and ``offset`` and answer a
``Page``, so the console pages and searches every list alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import Select
from sqlmodel import Session

from shared_billing.api_types import PageLimit, PageOffset, SearchText

__all__ = ["PageParams", "PageQuery", "count_of", "matching", "paginate"]


@dataclass(frozen=True)
class PageParams:
    q: str | None
    limit: int
    offset: int


def _page_params(
    q: Annotated[
        SearchText | None, Query(description="Text to look for (case-insensitive, anywhere in the listed names)")
    ] = None,
    limit: Annotated[PageLimit, Query(description="Items per page")] = 50,
    offset: Annotated[PageOffset, Query(description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(q=q, limit=limit, offset=offset)


PageQuery = Annotated[PageParams, Depends(_page_params)]


def paginate(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    page: PageParams,
    search: Sequence[ColumnElement[Any] | Mapped[Any]] = (),
) -> tuple[list[Any], int]:
    """Rows of ``statement`` for ``page`` (filtered by ``page.q`` on the ``search`` columns) and the total count.

    ``statement`` must have a deterministic ORDER BY, or pages may overlap."""
    if page.q and search:
        statement = statement.where(matching(page.q, search))
    total = count_of(session, statement)
    rows = session.execute(statement.limit(page.limit).offset(page.offset)).all()
    return [row[0] if len(row) == 1 else tuple(row) for row in rows], int(total)


def matching(q: str, search: Sequence[ColumnElement[Any] | Mapped[Any]]) -> ColumnElement[bool]:
    """Any of the ``search`` columns contains ``q``, case-insensitively. The text is matched literally: % and _
    typed in a search box are not wildcards."""
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    needle = f"%{escaped}%"
    return or_(*(func.lower(column).like(needle, escape="\\") for column in search))


def count_of(session: Session, statement: Select[*tuple[Any, ...]]) -> int:
    """How many rows ``statement`` selects, in one query."""
    return int(session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one())
