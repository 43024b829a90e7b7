"""Sign-in and refresh against a real server process, with requests that really overlap (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from sync_server.auth import PasswordHashing
from sync_server.config import Settings
from sync_server.db import create_db_engine
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import RefreshToken
from tests.support.live_server import LiveServer, start_live_server

USERS = ("engineer1", "engineer2", "supervisor", "admin", "accountant")


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    # A grace far longer than the test can take: every loser of the race is a race, never a "leak".
    env = {"FIELDMETER_REFRESH_REUSE_GRACE_SECONDS": "120"}
    with ExitStack() as stack:
        yield start_live_server(stack, tmp_path, request.param, env=env)


@pytest.fixture(params=["sqlite", "postgresql"])
def hashing_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server hashing at the production cost, not the suite's floor (tests/conftest.py): a flood of sign-ins
    must really load it."""
    fields = PasswordHashing.model_fields
    env = {
        "FIELDMETER_PASSWORD_HASH_MEMORY_KIB": str(fields["memory_kib"].default),
        "FIELDMETER_PASSWORD_HASH_TIME_COST": str(fields["time_cost"].default),
    }
    with ExitStack() as stack:
        yield start_live_server(stack, tmp_path, request.param, env=env)


def _family_size(server: LiveServer, device_id: str) -> int:
    """How many refresh tokens the (one) sign-in of ``device_id`` has issued."""
    engine = create_db_engine(Settings(database_url=server.database_url).sqlalchemy_url)
    try:
        with Session(engine) as session:
            family = session.exec(select(RefreshToken.family).where(RefreshToken.device_id == device_id)).first()
            count = session.exec(select(func.count()).where(RefreshToken.family == family)).one()
    finally:
        engine.dispose()
    return int(count)


async def _refresh_race(server: LiveServer) -> None:
    async with server.async_client() as http:
        body = {"username": "engineer1", "password": DEMO_PASSWORD, "device_id": "race-phone"}
        pair = (await http.post("/api/auth/login", json=body)).json()
        presented = {"refresh_token": pair["refresh_token"], "device_id": "race-phone"}
        answers = await asyncio.gather(*(http.post("/api/auth/refresh", json=presented) for _ in range(10)))
        outcomes = Counter((a.status_code, a.json().get("code")) for a in answers)
        assert outcomes == {(200, None): 1, (401, "auth.refresh_in_use"): 9}, outcomes
        winner = next(a.json() for a in answers if a.status_code == 200)
        # Exactly one new session in the family: the sign-in's token and the winner's.
        assert _family_size(server, "race-phone") == 2
        # The family survived the race: the winner's tokens work.
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {winner['access_token']}"})
        assert me.status_code == 200
        again = await http.post(
            "/api/auth/refresh", json={"refresh_token": winner["refresh_token"], "device_id": "race-phone"}
        )
        assert again.status_code == 200


def test_ten_concurrent_refreshes_have_one_winner_and_the_family_lives(server: LiveServer) -> None:
    asyncio.run(_refresh_race(server))


async def _logins_while_polling_health(server: LiveServer) -> tuple[list[httpx.Response], list[float]]:
    async with server.async_client() as http:
        done = asyncio.Event()
        latencies: list[float] = []

        async def poll_health() -> None:
            while not done.is_set():
                started = time.perf_counter()
                answer = await http.get("/api/health")
                assert answer.status_code == 200
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)

        async def login(n: int) -> httpx.Response:
            body = {"username": USERS[n % len(USERS)], "password": DEMO_PASSWORD, "device_id": f"crowd-{n}"}
            return await http.post("/api/auth/login", json=body)

        poller = asyncio.create_task(poll_health())
        logins = await asyncio.gather(*(login(n) for n in range(50)))
        done.set()
        await poller
    return logins, latencies


def test_health_answers_while_fifty_sign_ins_are_hashed(hashing_server: LiveServer) -> None:
    logins, latencies = asyncio.run(_logins_while_polling_health(hashing_server))
    assert [answer.status_code for answer in logins] == [200] * 50
    # Liveness (every poll answered within the client's generous timeout, and several did while sign-ins ran),
    # not a speed figure: the figures are printed for the record.
    assert len(latencies) >= 3
    median_ms, max_ms = statistics.median(latencies) * 1000, max(latencies) * 1000
    print(f"\n/api/health during 50 sign-ins: {len(latencies)} polls, median {median_ms:.0f} ms, max {max_ms:.0f} ms")


async def _guess_burst(server: LiveServer) -> Counter[int]:
    async with server.async_client() as http:
        body = {"username": "supervisor", "password": "wrong", "device_id": "burst"}
        answers = await asyncio.gather(*(http.post("/api/auth/login", json=body) for _ in range(10)))
    return Counter(answer.status_code for answer in answers)


def test_ten_concurrent_wrong_passwords_cannot_slip_past_the_limit(server: LiveServer) -> None:
    # All ten pass the quick check together (nothing counted yet); the counted reservation still stops five.
    assert asyncio.run(_guess_burst(server)) == {401: 5, 429: 5}
