"""A real ``fieldmeter serve`` process on one data dir and database, restarted with a new clock for each phase.

A month in a society's life is a string of moments (the day the records come in, the reading week, the minute the
month ends in India, the due date); the test stops the server, moves ``FIELDMETER_NOW`` and starts it again on the
same database, as an operator's restart would. ``TZ=UTC`` on the process, so nothing may lean on the machine's zone::

    with ExitStack() as stack:
        society = PhasedServer.create(stack, tmp_path, "sqlite")
        society.cli("migrate")
        with society.phase("2026-10-31T10:00:00+05:30") as api:
            api.get("/api/health")

Unlike ``live_server`` there is no ``--demo``: the society starts empty.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.browser import ServerProcess, free_port, wait_http_ok
from tests.support.postgres import fresh_postgres_database, require_postgres_admin_url

__all__ = ["PhaseApi", "PhasedServer"]

FIELDMETER = Path(sys.executable).with_name("fieldmeter")
CLIENT_TIMEOUT_S = 60.0  # a liveness bound (an answer must come), not a speed figure
START_TIMEOUT_S = 90.0
CLI_TIMEOUT_S = 300.0
SECRET_KEY = "month-in-the-life-" + "s" * 32  # fixed, so the audit chain verifies across restarts


class PhaseApi:
    """HTTP calls to the server of one phase, with a signed-in token per username (tokens end with the phase)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT_S, trust_env=False)
        self.tokens: dict[str, str] = {}

    def close(self) -> None:
        self._http.close()

    def login(self, username: str, password: str) -> dict[str, Any]:
        answer = self._http.post(
            "/api/auth/login", json={"username": username, "password": password, "device_id": f"{username}-device"}
        )
        assert answer.status_code == 200, answer.text
        pair: dict[str, Any] = answer.json()
        self.tokens[username] = pair["access_token"]
        return pair

    def call(
        self, method: str, path: str, *, as_user: str | None = None, expect: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        """A request as ``as_user`` (signed in before); with ``expect``, fail on another status, body shown."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if as_user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[as_user]}"
        answer = self._http.request(method, path, headers=headers, **kwargs)
        if expect is not None:
            assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text[:2000]}"
        return answer

    def get(self, path: str, *, as_user: str | None = None, **kwargs: Any) -> Any:
        return self.call("GET", path, as_user=as_user, expect=200, **kwargs).json()

    def post(self, path: str, *, as_user: str, expect: int = 200, **kwargs: Any) -> Any:
        answer = self.call("POST", path, as_user=as_user, expect=expect, **kwargs)
        return answer.json() if answer.content else None

    def every(self, path: str, *, as_user: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged list (``Page``: items, total, limit, offset)."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(path, as_user=as_user, params={**params, "limit": 200, "offset": len(items)})
            items.extend(page["items"])
            if len(items) >= page["total"] or not page["items"]:
                return items


@dataclass
class PhasedServer:
    """One society's data dir and database, and the server currently running on them (if any)."""

    tmp_path: Path
    backend: str
    database_url: str  # empty on SQLite: the embedded default in the data dir
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    phases: int = 0

    @classmethod
    def create(
        cls, stack: ExitStack, tmp_path: Path, backend: str, env: Mapping[str, str] | None = None
    ) -> PhasedServer:
        """A new, empty society on ``backend`` ("sqlite" or "postgresql"); ``stack`` drops its database."""
        database_url = ""
        if backend == "postgresql":
            database_url = stack.enter_context(fresh_postgres_database(require_postgres_admin_url()))
        return cls(tmp_path, backend, database_url, tmp_path / f"society-{backend}", dict(env or {}))

    def env(self, now: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "FIELDMETER_DATA_DIR": str(self.data_dir),
            "FIELDMETER_NOW": now,
            "FIELDMETER_SECRET_KEY": SECRET_KEY,
            "FIELDMETER_MOUNT_WEB_APP": "false",
            "TZ": "UTC",
            **self.extra_env,
        }

    def cli(self, *args: str, now: str, stdin: str | None = None, expect: int = 0) -> subprocess.CompletedProcess[str]:
        """Run ``fieldmeter ARGS`` with the server's settings (its own process, as an operator would)."""
        done = subprocess.run(
            [str(FIELDMETER), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **self.env(now)},
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
        assert done.returncode == expect, f"fieldmeter {' '.join(args)}: exit {done.returncode}\n{done.stderr}"
        return done

    @contextmanager
    def phase(self, now: str) -> Iterator[PhaseApi]:
        """The server started with ``FIELDMETER_NOW=now`` for the block; stopped (SIGTERM) after it."""
        self.phases += 1
        port = free_port()
        log = self.tmp_path / f"serve-{self.backend}-{self.phases}.log"
        command = [str(FIELDMETER), "serve", "--port", str(port), "--data-dir", str(self.data_dir)]
        with ServerProcess(command, log_path=log, env=self.env(now), name=f"fieldmeter phase {self.phases}") as proc:
            url = f"http://127.0.0.1:{port}"
            wait_http_ok(f"{url}/api/health", timeout=START_TIMEOUT_S, process=proc)
            api = PhaseApi(url)
            try:
                yield api
            finally:
                api.close()
