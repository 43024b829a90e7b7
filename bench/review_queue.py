"""The supervisor's review queue with 10 and with 1,000 readings waiting (issue 13): a page of the list, one
approval, and bulk approval of the clean ones.

    python bench/review_queue.py [--small 10] [--large 1000] [--runs 7] [--page 20] [--pg-admin-url URL]

For each size a throw-away server (the app in process, behind FastAPI's test client: the same routes, auth and
serialisation the console calls) on a fresh database — SQLite in a temporary directory, or a fresh PostgreSQL
database created and dropped through ``--pg-admin-url`` — seeded with the demo society and that many submitted
readings (tests/sync_server/review_seed.py: every meter, both engineers, flags, photos in and pending). Timed, median
of ``--runs``: ``GET /api/review/readings`` for the console's page (``--page``) and for a 500-reading page, and
``POST …/approve`` of one reading (each run a different one). Then one ``approve-clean`` of all the clean readings.
The ratios large/small are printed: a queue that does not slow with its length has ratios near 1 for the page and the
approval. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.demo import DEMO_PASSWORD, seed_demo
from sync_server.main import create_app
from sync_server.periods import period_of
from tests.support.postgres import fresh_postgres_database
from tests.sync_server.review_seed import submit_readings

NOW = datetime(2026, 3, 20, 4, 30, tzinfo=UTC)  # 20 March 2026, 10:00 in India: pinned, never today's date


@dataclass(frozen=True)
class Figures:
    pending: int
    page_ms: float
    page_500_ms: float
    approve_ms: float
    bulk_ms: float
    bulk_count: int


def _median_ms(runs: int, action: Callable[[int], object]) -> float:
    times = []
    for run in range(runs):
        started = time.perf_counter()
        action(run)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@contextmanager
def _server(database_url: str | None, data_dir: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_dir, database_url=database_url or "", secret_key="b" * 40, mount_web_app=False)
    app = create_app(settings, clock=FixedClock(NOW), run_migrations=True)
    with TestClient(app) as client:
        engine = app.state.context.engine
        if not seed_demo(engine, now=NOW, tz=settings.tz):
            raise SystemExit("the database was not empty")
        yield client
    app.state.context.engine.dispose()


def _measure(pending: int, runs: int, page: int, database_url: str | None, data_dir: Path) -> Figures:
    with _server(database_url, data_dir) as client:
        engine = client.app.state.context.engine  # type: ignore[attr-defined]
        tz = client.app.state.context.settings.tz  # type: ignore[attr-defined]
        submit_readings(engine, pending, start=0, now=NOW, period=period_of(NOW, tz))
        answer = client.post(
            "/api/auth/login", json={"username": "supervisor", "password": DEMO_PASSWORD, "device_id": "bench"}
        )
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

        def listed(limit: int, _run: int = 0) -> dict[str, Any]:
            response = client.get("/api/review/readings", params={"limit": limit}, headers=headers)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        listed(page)  # warm: the first request compiles statements and fills the connection pool
        page_ms = _median_ms(runs, partial(listed, page))
        page_500_ms = _median_ms(runs, partial(listed, 500))
        approvable = [
            item["uuid"] for item in listed(500)["items"] if not item["photo_pending"] and item["replacement"] is None
        ][:runs]

        def approve(run: int) -> None:
            client.post(f"/api/review/readings/{approvable[run]}/approve", headers=headers).raise_for_status()

        # A small queue has only a few readings whose photo is in: as many runs as there are.
        approve_ms = _median_ms(len(approvable), approve) if approvable else float("nan")
        clean = listed(1)["clean"]
        if not clean:
            return Figures(pending, page_ms, page_500_ms, approve_ms, float("nan"), 0)
        started = time.perf_counter()
        bulk = client.post(
            "/api/review/readings/approve-clean", json={"filter": {}, "expected": clean}, headers=headers
        )
        bulk_ms = (time.perf_counter() - started) * 1000
        bulk.raise_for_status()
        return Figures(pending, page_ms, page_500_ms, approve_ms, bulk_ms, bulk.json()["approved"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--page", type=int, default=20, help="the console's page size")
    parser.add_argument("--pg-admin-url", default=None, help="PostgreSQL admin URL: fresh databases per size")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.pg_admin_url else "SQLite"
    figures = []
    for pending in (args.small, args.large):
        with ExitStack() as stack:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fieldmeter-review-bench-")))
            url = stack.enter_context(fresh_postgres_database(args.pg_admin_url)) if args.pg_admin_url else None
            figures.append(_measure(pending, args.runs, args.page, url, data_dir))
    small, large = figures
    print(f"review queue on {backend}, median of {args.runs} runs (ms)")
    print(f"{'pending':>8} {'page of ' + str(args.page):>11} {'page of 500':>12} {'approve one':>12} {'bulk':>9}")
    for each in figures:
        print(
            f"{each.pending:>8} {each.page_ms:>11.1f} {each.page_500_ms:>12.1f} {each.approve_ms:>12.1f}"
            f" {each.bulk_ms:>9.1f}  ({each.bulk_count} approved in bulk)"
        )
    print(
        f"ratio {large.pending}/{small.pending}: page of {args.page} {large.page_ms / small.page_ms:.2f}×, "
        f"page of 500 {large.page_500_ms / small.page_500_ms:.2f}× (it holds {min(500, large.pending)} readings, "
        f"not {min(500, small.pending)}), approve one {large.approve_ms / small.approve_ms:.2f}×"
    )


if __name__ == "__main__":
    main()
