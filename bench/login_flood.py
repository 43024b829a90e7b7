"""Sign-ins flooding a real server while ``/api/health`` is polled: bounded argon2 vs. (nearly) unbounded.

    python bench/login_flood.py [--logins 50] [--bounds 2 40]

For each bound, starts ``fieldmeter serve --demo`` (SQLite, in a temporary directory) with
``FIELDMETER_PASSWORD_HASH_CONCURRENCY`` set to it, fires ``--logins`` concurrent correct sign-ins (demo users,
one device each; throttling limits raised out of the way) and polls ``/api/health`` every 50 ms meanwhile. A
bound of 40 stands for the old behaviour (every sign-in hashing in its own thread of the 40-thread pool). Prints,
per bound, the time until every sign-in was answered and the health latencies (median, p95, max).
No timing asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from bench_support import BenchError

USERS = ("engineer1", "engineer2", "supervisor", "admin", "accountant")
PASSWORD = "fieldmeter-demo"


async def _flood(base_url: str, logins: int) -> tuple[float, list[float]]:
    limits = httpx.Limits(max_connections=logins + 8, max_keepalive_connections=logins + 8)
    async with httpx.AsyncClient(base_url=base_url, timeout=120.0, trust_env=False, limits=limits) as http:
        done = asyncio.Event()
        latencies: list[float] = []

        async def poll() -> None:
            while not done.is_set():
                started = time.perf_counter()
                if (await http.get("/api/health")).status_code != 200:
                    raise BenchError("health answered an error")
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)

        async def login(n: int) -> None:
            body = {"username": USERS[n % len(USERS)], "password": PASSWORD, "device_id": f"bench-{n}"}
            answer = await http.post("/api/auth/login", json=body)
            if answer.status_code != 200:
                raise BenchError(f"sign-in answered {answer.status_code}: {answer.text[:200]}")

        poller = asyncio.create_task(poll())
        started = time.perf_counter()
        await asyncio.gather(*(login(n) for n in range(logins)))
        wall = time.perf_counter() - started
        done.set()
        await poller
    return wall, latencies


@contextlib.contextmanager
def _server(bound: int, port: int) -> Iterator[str]:
    """A demo server on SQLite in a temporary directory with the given hashing bound; its URL."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDMETER_") and k != "DATABASE_URL"}
        env.update(FIELDMETER_MOUNT_WEB_APP="false", FIELDMETER_PASSWORD_HASH_CONCURRENCY=str(bound))
        # Measuring hashing, not throttling: with many slots, concurrent correct sign-ins of one user would
        # hold more reservations than the per-user limit allows in flight.
        env.update(FIELDMETER_LOGIN_MAX_FAILURES_PER_USER="1000", FIELDMETER_LOGIN_MAX_FAILURES_PER_ADDRESS="1000")
        exe = str(Path(sys.executable).with_name("fieldmeter"))
        command = [exe, "serve", "--demo", "--data-dir", tmp, "--port", str(port)]
        log = (Path(tmp) / "server.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while not _healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchError(f"the server did not start; see {log.name}")
                time.sleep(0.3)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            log.close()


def _healthy(url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"{url}/api/health", timeout=2.0, trust_env=False).is_success
    return False


def run(bound: int, logins: int, port: int) -> str:
    with _server(bound, port) as url:
        wall, latencies = asyncio.run(_flood(url, logins))
    ms = sorted(latency * 1000 for latency in latencies)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"hash bound {bound:>3}: {logins} sign-ins in {wall:5.2f} s; /api/health over {len(ms)} polls: "
        f"median {statistics.median(ms):6.0f} ms, p95 {p95:6.0f} ms, max {ms[-1]:6.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--bounds", type=int, nargs="+", default=[2, 40])
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    for bound in args.bounds:
        print(run(bound, args.logins, args.port), flush=True)


if __name__ == "__main__":
    main()
