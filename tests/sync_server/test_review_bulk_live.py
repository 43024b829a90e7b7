"""Bulk approval under real concurrency: two supervisors' tabs approve the same clean readings at the same moment
on a real server process. One approves them all, the other is told the count changed; every reading is approved
once, with one audit event and one decision event for its engineer."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from sync_server.db import create_db_engine
from sync_server.models import AuditEvent, Reading, ReadingStatus, SyncEvent, SyncEventKind
from tests.support.live_server import LIVE_NOW, LiveServer
from tests.sync_server.review_seed import submit_readings

PENDING = 300
TABS = 4


def _decided(database_url: str) -> tuple[int, int, int]:
    """Approved readings, their audit events and the engineers' decision events in the server's database."""
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            approved = session.exec(select(func.count()).where(Reading.status == ReadingStatus.APPROVED)).one()
            audited = session.exec(select(func.count()).where(AuditEvent.action == "reading.approved")).one()
            told = session.exec(select(func.count()).where(SyncEvent.kind == SyncEventKind.DECISION)).one()
    finally:
        engine.dispose()
    return approved, audited, told


def test_concurrent_bulk_approvals_approve_each_clean_reading_once(live_server: LiveServer) -> None:
    engine = create_db_engine(live_server.database_url)
    try:
        submit_readings(engine, PENDING, start=0, now=datetime.fromisoformat(LIVE_NOW), period="2026-11")
    finally:
        engine.dispose()
    token = live_server.login("supervisor")
    with live_server.client(token) as http:
        clean = http.get("/api/review/readings", params={"limit": 1}).json()["clean"]
    assert clean > 0
    before = _decided(live_server.database_url)

    async def approve_at_once() -> list[httpx.Response]:
        async with live_server.async_client(token) as http:
            body = {"filter": {}, "expected": clean}
            return await asyncio.gather(
                *(http.post("/api/review/readings/approve-clean", json=body) for _ in range(TABS))
            )

    answers = asyncio.run(approve_at_once())
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * (TABS - 1), [answer.text for answer in answers]
    [won] = [answer for answer in answers if answer.status_code == 200]
    assert won.json() == {"approved": clean}
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"review.bulk_changed"}

    after = _decided(live_server.database_url)
    assert tuple(now - then for now, then in zip(after, before, strict=True)) == (clean, clean, clean)
    with live_server.client(token) as http:
        page = http.get("/api/review/readings", params={"limit": 1}).json()
    assert (page["total"], page["clean"]) == (PENDING - clean, 0)
