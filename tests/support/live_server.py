"""A real ``fieldmeter serve`` process for tests that need real concurrency (a pytest plugin).

``live_server`` runs the server as its own process on SQLite and on PostgreSQL (a fresh database per test, created
and dropped here), seeded with the demo society, the clock pinned with ``FIELDMETER_NOW`` and the browser console
not mounted. Requests to it go over TCP on 127.0.0.1, so concurrent requests really overlap in the server::

    def test_something(live_server: LiveServer) -> None:
        admin = live_server.login("admin")
        with live_server.client(admin) as http:
            http.get("/api/health")
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sync_server.demo import DEMO_PASSWORD
from tests.support.browser import ServerProcess, free_port, wait_http_ok
from tests.support.postgres import fresh_postgres_database, require_postgres_admin_url

__all__ = ["LIVE_NOW", "LiveServer", "live_server", "start_live_server"]

# Mid-month in India and in UTC alike: tests that care about a month boundary pass their own instant.
LIVE_NOW = "2026-11-20T10:00:00+05:30"
FIELDMETER = Path(sys.executable).with_name("fieldmeter")
CLIENT_TIMEOUT_S = 60.0  # a liveness bound (an answer must come), not a speed figure


@dataclass
class LiveServer:
    url: str
    database_url: str
    data_dir: Path
    process: ServerProcess
    tokens: dict[str, str] = field(default_factory=dict)

    def login(self, username: str, password: str = DEMO_PASSWORD, device_id: str = "test") -> str:
        """An access token for ``username`` (cached per user)."""
        if username not in self.tokens:
            with httpx.Client(base_url=self.url, timeout=CLIENT_TIMEOUT_S, trust_env=False) as http:
                answer = http.post(
                    "/api/auth/login", json={"username": username, "password": password, "device_id": device_id}
                )
                answer.raise_for_status()
                self.tokens[username] = answer.json()["access_token"]
        return self.tokens[username]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=CLIENT_TIMEOUT_S, trust_env=False)

    def async_client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        return httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=CLIENT_TIMEOUT_S, trust_env=False, limits=limits
        )


def start_live_server(
    stack: ExitStack,
    tmp_path: Path,
    backend: str,
    *,
    env: dict[str, str] | None = None,
    now: str = LIVE_NOW,
    database_url: str | None = None,
) -> LiveServer:
    """Start a demo-seeded server on ``backend`` ("sqlite" or "postgresql"); ``stack`` stops it and drops its DB.

    ``database_url``: a PostgreSQL database the caller made (e.g. reached through tests/support/tcp_proxy.py)."""
    if database_url is None and backend == "postgresql":
        database_url = stack.enter_context(fresh_postgres_database(require_postgres_admin_url()))
    elif database_url is None:
        database_url = ""  # the embedded default: a SQLite file in the data dir
    port = free_port()
    data_dir = tmp_path / f"live-{backend}"
    command = [str(FIELDMETER), "serve", "--demo", "--port", str(port), "--data-dir", str(data_dir)]
    server_env = {
        "DATABASE_URL": database_url,
        "FIELDMETER_NOW": now,
        "FIELDMETER_MOUNT_WEB_APP": "false",
        "FIELDMETER_SECRET_KEY": "",
        "TZ": os.environ.get("TZ", "UTC"),
        **(env or {}),
    }
    process = ServerProcess(command, log_path=tmp_path / f"live-{backend}.log", env=server_env, name="fieldmeter")
    stack.enter_context(process)
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(f"{url}/api/health", timeout=90, process=process)
    sqlite_url = f"sqlite:///{(data_dir / 'fieldmeter.db').resolve()}"
    return LiveServer(url=url, database_url=database_url or sqlite_url, data_dir=data_dir, process=process)


@pytest.fixture(params=["sqlite", "postgresql"])
def live_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    with ExitStack() as stack:
        yield start_live_server(stack, tmp_path, request.param)
