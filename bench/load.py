"""Load: many devices pushing at once to a real server on PostgreSQL, with 1 and then 2 worker processes.

    python bench/load.py [--devices 50] [--readings 200] [--batch 10] [--workers 1 2] [--pg-admin-url URL]

Per worker count, on a fresh PostgreSQL database (created and dropped here):

1. Start ``fieldmeter serve --demo --workers N`` (its own process group, a temp data dir), wait for /api/health.
2. Seed ``devices × readings`` meters directly in the database (``sync_ingest.seed_meters``: one reading per meter
   this month, last month's approved reading before it) and ``devices`` engineers (``bench-eng-NN``, the demo
   password), each assigned their own slice of meters.
3. Every device signs in (its own connection, like a phone), pulls its route once, and then, all devices together,
   pushes its readings in batches of ``--batch`` one request after the other (a phone syncing as it goes).
   Bodies are serialized before the clock starts.

Printed, not asserted (the load generator, the server and PostgreSQL share this machine's cores): readings per
second from the first push to the last answer, p50/p99/max push latency, and errors (a non-200 answer, or a
reading not ``stored``). The server is always stopped and the database always dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from bench_support import DEFAULT_PG_ADMIN_URL, BenchError, BenchServer, batches, fresh_pg_database
from sqlalchemy import Engine, insert, select, update
from sqlmodel import col
from sync_ingest import build_readings, free_port, seed_meters, sqlalchemy_url

from shared_billing.protocol import PushRequest
from sync_server.db import create_db_engine
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import Assignment, Role, User

REQUEST_TIMEOUT_S = 300.0


@dataclass
class RunResult:
    workers: int
    readings: int
    wall_s: float
    latencies_s: list[float]
    errors: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        ordered = sorted(self.latencies_s)
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        errors = sum(self.errors.values())
        detail = f" {dict(self.errors)}" if errors else ""
        return (
            f"workers={self.workers}: {self.readings} readings in {self.wall_s:6.1f} s = "
            f"{self.readings / self.wall_s:7.1f} readings/s, {len(ordered) / self.wall_s:6.1f} pushes/s; "
            f"push latency p50 {p50 * 1000:6.0f} ms, p99 {p99 * 1000:6.0f} ms, max {ordered[-1] * 1000:6.0f} ms; "
            f"errors {errors}{detail}"
        )


def seed_devices(engine: Engine, devices: int, per_device: int, batch: int, rng: random.Random) -> list[list[bytes]]:
    """Engineers ``bench-eng-NN`` with ``per_device`` meters each; returns each device's serialized push bodies."""
    now = datetime.now(UTC)
    with engine.connect() as conn:
        demo = conn.execute(select(col(User.id), col(User.password_hash)).where(col(User.username) == "engineer1"))
        engineer1_id, password_hash = demo.one()
    assert engineer1_id is not None  # read back from the table: always set
    meters = seed_meters(engine, devices * per_device, engineer1_id, now, rng)
    names = [f"bench-eng-{n:02d}" for n in range(1, devices + 1)]
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {"username": name, "full_name": name, "role": Role.ENGINEER, "password_hash": password_hash}
                | {"created_at": now, "active": True}
                for name in names
            ],
        )
        ids = dict(conn.execute(select(col(User.username), col(User.id)).where(col(User.username).in_(names))).all())
        for index, name in enumerate(names):
            mine = [m.id for m in meters[index * per_device : (index + 1) * per_device]]
            conn.execute(update(Assignment).where(col(Assignment.meter_id).in_(mine)).values(engineer_id=ids[name]))
    sent_at = datetime.now(UTC)
    bodies = []
    for index in range(devices):
        readings = build_readings(meters[index * per_device : (index + 1) * per_device], per_device, now, rng)
        bodies.append(
            [
                PushRequest(device_id=f"bench-device-{index + 1:02d}", sent_at=sent_at, readings=chunk)
                .model_dump_json()
                .encode()
                for chunk in batches(readings, batch)
            ]
        )
    return bodies


async def _device(
    base_url: str, index: int, bodies: list[bytes], start: asyncio.Event, result: RunResult, ready: list[int]
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as client:
        login = await client.post(
            "/api/auth/login",
            json={"username": f"bench-eng-{index + 1:02d}", "password": DEMO_PASSWORD, "device_id": f"bench-{index}"},
        )
        if login.status_code != 200:
            raise BenchError(f"login failed: {login.status_code} {login.text[:300]}")
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        pulled = await client.get("/api/sync/pull")
        if pulled.status_code != 200:
            raise BenchError(f"pull failed: {pulled.status_code} {pulled.text[:300]}")
        ready.append(index)
        await start.wait()
        headers = {"Content-Type": "application/json"}
        for body in bodies:
            sent = time.perf_counter()
            try:
                response = await client.post("/api/sync/push", content=body, headers=headers)
            except httpx.HTTPError as error:
                result.errors[type(error).__name__] += 1
                continue
            result.latencies_s.append(time.perf_counter() - sent)
            if response.status_code != 200:
                result.errors[f"HTTP {response.status_code}"] += 1
                continue
            for answer in response.json()["results"]:
                if answer["outcome"] != "stored":
                    result.errors[answer["outcome"]] += 1


async def _drive(base_url: str, bodies: list[list[bytes]], result: RunResult) -> None:
    start = asyncio.Event()
    ready: list[int] = []
    tasks = [asyncio.create_task(_device(base_url, i, mine, start, result, ready)) for i, mine in enumerate(bodies)]
    while len(ready) < len(tasks):  # every device signed in and pulled: then all push together
        done = [task for task in tasks if task.done() and task.exception() is not None]
        if done:
            raise done[0].exception()  # type: ignore[misc]
        await asyncio.sleep(0.05)
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    result.wall_s = time.perf_counter() - started


def run(workers: int, args: argparse.Namespace) -> RunResult:
    rng = random.Random(20261201)
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"fm-load-{workers}-")))
        database_url = stack.enter_context(fresh_pg_database(args.pg_admin_url))
        server = BenchServer(
            data_dir, free_port(), database_url, workers=workers, env={"FIELDMETER_MOUNT_WEB_APP": "false"}
        )
        stack.callback(server.stop)
        server.wait_healthy()
        engine = create_db_engine(sqlalchemy_url(database_url, data_dir))
        stack.callback(engine.dispose)
        bodies = seed_devices(engine, args.devices, args.readings, args.batch, rng)
        result = RunResult(workers=workers, readings=args.devices * args.readings, wall_s=0.0, latencies_s=[])
        asyncio.run(_drive(server.base_url, bodies, result))
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--readings", type=int, default=200, help="readings per device")
    parser.add_argument("--batch", type=int, default=10, help="readings per push")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pg-admin-url", default=os.environ.get("FIELDMETER_TEST_PG_URL") or DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args()
    print(
        f"{args.devices} devices x {args.readings} readings, pushes of {args.batch}, PostgreSQL, "
        f"{os.cpu_count()} CPUs shared by load generator, server and database"
    )
    try:
        for workers in args.workers:
            print(run(workers, args).line(), flush=True)
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
