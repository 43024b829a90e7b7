"""Paged lists: search, page bounds and totals (sync_server/api/paging.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, SQLModel, col, create_engine, select

from sync_server.api.paging import PageParams, paginate
from sync_server.models import Block


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        for code, name in [("A", "Alpha 10%"), ("B", "Beta_1"), ("C", "Gamma"), ("D", "Delta"), ("E", "beta two")]:
            session.add(Block(code=code, name=name))
        session.commit()
        yield session


def _codes(session: Session, q: str | None, limit: int = 50, offset: int = 0) -> tuple[list[str], int]:
    statement = select(Block).order_by(col(Block.code))
    rows, total = paginate(session, statement, PageParams(q=q, limit=limit, offset=offset), search=[col(Block.name)])
    return [row.code for row in rows], total


def test_pages_split_the_list_and_count_all(session: Session) -> None:
    assert _codes(session, None, limit=2) == (["A", "B"], 5)
    assert _codes(session, None, limit=2, offset=2) == (["C", "D"], 5)
    assert _codes(session, None, limit=2, offset=4) == (["E"], 5)
    assert _codes(session, None, limit=2, offset=6) == ([], 5)


def test_search_is_case_insensitive_and_counts_the_matches(session: Session) -> None:
    assert _codes(session, "BETA") == (["B", "E"], 2)
    assert _codes(session, "beta", limit=1, offset=1) == (["E"], 2)


def test_wildcards_typed_in_the_search_are_literal(session: Session) -> None:
    assert _codes(session, "%") == (["A"], 1)
    assert _codes(session, "a_") == (["B"], 1)
