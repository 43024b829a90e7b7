"""Job leases: one holder at a time across contenders, renewable, passed over once expired; jobs run under them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from sync_server.clock import FixedClock
from sync_server.db import create_db_engine
from sync_server.housekeeping import leased_loop
from sync_server.leases import current_holder, new_holder_id, release, try_acquire
from tests.sync_server.factories import NOW

TTL = timedelta(seconds=30)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def test_a_lease_is_held_renewed_refused_to_others_and_passed_over_on_expiry(engine: Engine) -> None:
    clock = FixedClock(NOW)
    assert try_acquire(engine, "job", "a", TTL, clock=clock) is True
    assert try_acquire(engine, "job", "b", TTL, clock=clock) is False
    assert current_holder(engine, "job", clock=clock) == "a"

    clock.advance(timedelta(seconds=20))
    assert try_acquire(engine, "job", "a", TTL, clock=clock) is True  # renewed: now runs to 50 s
    clock.advance(timedelta(seconds=20))
    assert try_acquire(engine, "job", "b", TTL, clock=clock) is False  # 40 s: still a's thanks to the renewal

    clock.advance(timedelta(seconds=10))  # 50 s: a stopped renewing (died)
    assert current_holder(engine, "job", clock=clock) is None
    assert try_acquire(engine, "job", "b", TTL, clock=clock) is True
    assert try_acquire(engine, "job", "a", TTL, clock=clock) is False
    assert try_acquire(engine, "other job", "a", TTL, clock=clock) is True  # leases are per job

    assert release(engine, "job", "a", clock=clock) is False  # not a's to give
    assert release(engine, "job", "b", clock=clock) is True
    assert try_acquire(engine, "job", "a", TTL, clock=clock) is True  # handed over at once


@pytest.mark.parametrize("expired", [False, True], ids=["new", "expired"])
def test_exactly_one_of_many_concurrent_contenders_wins(engine: Engine, expired: bool) -> None:
    clock = FixedClock(NOW)
    if expired:  # a dead holder's lease: everyone races to take it over
        assert try_acquire(engine, "race", "dead", timedelta(seconds=1), clock=clock)
        clock.advance(timedelta(seconds=2))
    contenders = [new_holder_id() for _ in range(8)]
    assert len(set(contenders)) == 8
    start = threading.Barrier(len(contenders))
    won: dict[str, bool] = {}

    def contend(holder: str) -> None:
        start.wait()
        won[holder] = try_acquire(engine, "race", holder, TTL, clock=clock)

    threads = [threading.Thread(target=contend, args=(holder,)) for holder in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [holder for holder, result in won.items() if result]
    assert len(won) == len(contenders)
    assert len(winners) == 1
    assert current_holder(engine, "race", clock=clock) == winners[0]


def test_a_leased_loop_runs_its_job_in_one_process_and_another_takes_over_when_it_dies(engine: Engine) -> None:
    """Two servers run the same hourly-style job loop (here every 20 ms): only the lease holder works."""
    ran: list[str] = []

    async def scenario() -> None:
        loops = {
            holder: asyncio.create_task(
                leased_loop(
                    engine,
                    lease="refresh",
                    holder=holder,
                    every_s=0.02,
                    ttl=timedelta(seconds=0.5),
                    job=lambda holder=holder: ran.append(holder),  # type: ignore[misc]
                )
            )
            for holder in ("first", "second")
        }
        await asyncio.sleep(0.4)
        first_phase = set(ran)
        assert len(first_phase) == 1, first_phase
        (holder,) = first_phase
        loops[holder].cancel()  # it dies without releasing
        await asyncio.gather(loops[holder], return_exceptions=True)  # its last pass has ended
        ran.clear()
        await asyncio.sleep(1.2)  # the lease expires (0.5 s) and the other loop takes over
        loops["second" if holder == "first" else "first"].cancel()
        await asyncio.gather(*loops.values(), return_exceptions=True)
        assert set(ran) == {"second" if holder == "first" else "first"}

    asyncio.run(scenario())
