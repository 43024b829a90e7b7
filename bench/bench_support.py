"""What the benchmarks share: a server process, a throw-away PostgreSQL database, batching, the error they stop on."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_PG_ADMIN_URL", "HOST", "BenchError", "BenchServer", "batches", "fresh_pg_database"]

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0


class BenchError(RuntimeError):
    """A check the benchmark makes on its own results failed: the figures would mean nothing."""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_pg_database(admin_url: str, *, driver: str = "postgresql") -> Iterator[str]:
    """Create ``fieldmeter_bench_<hex>``; yield its URL (with ``driver``); drop it (forcefully) afterwards."""
    name = "fieldmeter_bench_" + secrets.token_hex(6)
    admin = _libpq(admin_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))
    try:
        yield make_url(admin).set(drivername=driver, database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BenchServer:
    """``fieldmeter serve --demo`` in its own process group, output to ``data_dir/server.log``.

    The server gets a clean environment (no stray FIELDMETER_* / DATABASE_URL from the caller's shell) plus
    ``env``; ``database_url`` None is the embedded SQLite default.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        database_url: str | None = None,
        *,
        workers: int = 1,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        self.log_path = data_dir / "server.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("FIELDMETER_") and k != "DATABASE_URL"}
        clean["PYTHONUNBUFFERED"] = "1"
        if database_url is not None:
            clean["DATABASE_URL"] = database_url
        clean.update(env or {})
        exe = shutil.which("fieldmeter") or str(Path(sys.executable).with_name("fieldmeter"))
        command = [exe, "serve", "--demo", "--data-dir", str(data_dir), "--host", HOST, "--port", str(port)]
        if workers != 1:
            command += ["--workers", str(workers)]
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=clean,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_healthy(self, timeout: float = START_TIMEOUT_S) -> None:
        """Until ``/api/health`` answers 200: the database, the schema and the data dir all check out."""
        deadline = time.monotonic() + timeout
        last = "no attempt"
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    response = client.get(f"{self.base_url}/api/health")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if response.is_success:
                        return
                    last = f"HTTP {response.status_code} {response.text[:200]}"
                time.sleep(0.2)
        raise BenchError(f"/api/health not OK after {timeout:.0f} s (last: {last}):\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL after a grace period; reap the process."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_S)
        self._log.close()
