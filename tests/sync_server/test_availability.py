"""A database that is down, hung or locked answers a prompt 503 service.unavailable with Retry-After, /api/health
says which dependency failed and never hangs, and the server recovers without a restart once the fault is gone.

Real ``fieldmeter serve`` processes; PostgreSQL's outages come from a TCP proxy in front of it (the shared cluster
is never stopped), its lock from another connection's ``LOCK TABLE``, SQLite's from another ``BEGIN EXCLUSIVE``.
The server runs with short bounds and the client's 5 s timeout is a liveness bound: an answer must come at all.
In-process: health on a database without schema and on a data dir that takes no file; which errors are "unavailable".
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc, text
from sqlmodel import Session, col, select

from sync_server.billing.runs import execute_run, start_run
from sync_server.config import Settings
from sync_server.db import create_db_engine
from sync_server.db_errors import unavailable_reason
from sync_server.db_guard import DatabaseLimits, allow_long_statements
from sync_server.demo import seed_demo
from sync_server.main import create_app
from sync_server.models import BillRun, Block, User
from tests.support.live_server import LiveServer, start_live_server
from tests.support.postgres import fresh_postgres_database, libpq_url, require_postgres_admin_url
from tests.support.tcp_proxy import TcpProxy
from tests.sync_server.factories import NOW

LIVENESS_S = 5.0  # the test client's timeout: not a speed figure, an answer must come
RETRY_AFTER = "7"
FAST = {
    "FIELDMETER_DB_CONNECT_TIMEOUT_S": "2",
    "FIELDMETER_DB_STATEMENT_TIMEOUT_S": "1.5",
    "FIELDMETER_DB_PING_TIMEOUT_S": "1",
    "FIELDMETER_DB_POOL_TIMEOUT_S": "2",
    "FIELDMETER_DB_BUSY_TIMEOUT_S": "1",
    "FIELDMETER_HEALTH_TIMEOUT_S": "2",
    "FIELDMETER_RETRY_AFTER_S": RETRY_AFTER,
    "FIELDMETER_STATUS_REFRESH_MINUTES": "0",
}


def _client(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=LIVENESS_S, trust_env=False)


def _assert_unavailable(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == RETRY_AFTER
    body: dict[str, Any] = answer.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "service.unavailable"
    assert "SELECT" not in answer.text  # never SQL text
    assert "LOCK" not in answer.text
    return body


def _assert_health_names(http: httpx.Client, dependency: str, reasons: set[str]) -> None:
    body = _assert_unavailable(http.get("/api/health"))
    assert body["details"]["status"] == "unavailable"
    assert body["details"]["checks"][dependency] in reasons, body
    assert dependency in body["message"]


def _recovers(call: Callable[[], httpx.Response], within_s: float = 15.0) -> httpx.Response:
    """The first 200 within ``within_s`` (no restart): a pool may need a request or two to drop dead connections."""
    deadline = time.monotonic() + within_s
    while True:
        answer = call()
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.3)


def _assert_healthy(http: httpx.Client, api_call: Callable[[httpx.Client], httpx.Response]) -> None:
    assert _recovers(lambda: api_call(http)).status_code == 200
    health = _recovers(lambda: http.get("/api/health"))
    assert health.status_code == 200, health.text
    assert health.json()["checks"] == {"database": "ok", "schema": "ok", "data_dir": "ok"}


def _clock(http: httpx.Client) -> httpx.Response:
    return http.get("/api/clock")  # authenticated: the caller's user is read from the database


@contextmanager
def _proxied_server(tmp_path: Path) -> Iterator[tuple[LiveServer, TcpProxy]]:
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_postgres_database(require_postgres_admin_url()))
        proxy = stack.enter_context(TcpProxy.before(database_url))
        server = start_live_server(stack, tmp_path, "postgresql", env=FAST, database_url=proxy.rewrite(database_url))
        yield server, proxy


def test_postgres_stopped_answers_503_then_recovers(tmp_path: Path) -> None:
    with _proxied_server(tmp_path) as (server, proxy), _client(server, server.login("supervisor")) as http:
        assert _clock(http).status_code == 200
        proxy.stop()
        body = _assert_unavailable(_clock(http))
        assert body["details"]["database"] == "unreachable"
        _assert_health_names(http, "database", {"unreachable"})
        proxy.start()
        _assert_healthy(http, _clock)


def test_postgres_hung_answers_503_within_the_bound_then_recovers(tmp_path: Path) -> None:
    with _proxied_server(tmp_path) as (server, proxy), _client(server, server.login("supervisor")) as http:
        assert _clock(http).status_code == 200
        proxy.hang()
        # Pooled connections (their ping) and new ones (the startup packet) both meet silence, and so does health.
        for _ in range(3):
            body = _assert_unavailable(_clock(http))
            assert body["details"]["database"] in {"unreachable", "timeout"}
        _assert_health_names(http, "database", {"timeout", "unreachable"})
        proxy.restore()
        _assert_healthy(http, _clock)


def test_postgres_locked_table_answers_503_then_recovers(tmp_path: Path) -> None:
    with ExitStack() as stack:
        server = start_live_server(stack, tmp_path, "postgresql", env=FAST)
        http = stack.enter_context(_client(server, server.login("supervisor")))
        assert _clock(http).status_code == 200
        with closing(psycopg.connect(libpq_url(server.database_url))) as locker:
            locker.execute('LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE')  # held until rollback
            body = _assert_unavailable(_clock(http))
            assert body["details"]["database"] in {"timeout", "locked"}
            _assert_health_names(http, "database", {"locked"})
            locker.rollback()
        _assert_healthy(http, _clock)


def _login(http: httpx.Client) -> httpx.Response:
    # A sign-in writes (its refresh token): in WAL mode a held write lock stops writers, not readers.
    return http.post(
        "/api/auth/login", json={"username": "engineer1", "password": "fieldmeter-demo", "device_id": "lock"}
    )


def test_sqlite_locked_answers_503_then_recovers(tmp_path: Path) -> None:
    with ExitStack() as stack:
        server = start_live_server(stack, tmp_path, "sqlite", env=FAST)
        http = stack.enter_context(_client(server))
        assert _login(http).status_code == 200
        with closing(sqlite3.connect(server.data_dir / "fieldmeter.db", isolation_level=None)) as locker:
            locker.execute("BEGIN EXCLUSIVE")
            body = _assert_unavailable(_login(http))
            assert body["details"]["database"] == "locked"
            _assert_health_names(http, "database", {"locked"})
            locker.execute("ROLLBACK")
        _assert_healthy(http, _login)


# In-process: the schema and data-dir checks, and the classification of errors.


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database as an operator might recreate it: reachable, no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with fresh_postgres_database(require_postgres_admin_url()) as url:
            yield url


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_health_is_503_on_a_database_without_schema(empty_database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=empty_database_url, secret_key="t" * 40, mount_web_app=False
    )
    app = create_app(settings, run_migrations=False)
    try:
        with TestClient(app) as client:
            answer = client.get("/api/health")
    finally:
        app.state.context.engine.dispose()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(settings.retry_after_s)
    checks = answer.json()["details"]["checks"]
    assert checks == {"database": "ok", "schema": "missing", "data_dir": "ok"}


def test_health_is_503_on_a_schema_behind_the_code(app: FastAPI) -> None:
    engine = app.state.context.engine
    with engine.begin() as connection:
        current = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    try:
        with TestClient(app) as client:
            answer = client.get("/api/health")
    finally:
        with engine.begin() as connection:  # the PostgreSQL database is shared by the session's tests
            connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{current}'")
    assert answer.status_code == 503
    assert answer.json()["details"]["checks"]["schema"] == f"at 0001, expected {current}"


def test_health_is_503_when_the_data_dir_takes_no_file(app: FastAPI) -> None:
    data_dir = app.state.context.settings.data_dir
    with TestClient(app) as client:
        assert client.get("/api/health").status_code == 200
        # The tests run as root, for whom permissions are no obstacle: the data dir's place is taken by a file.
        shutil.rmtree(data_dir)
        data_dir.write_text("not a directory")
        answer = client.get("/api/health")
    assert answer.status_code == 503
    checks = answer.json()["details"]["checks"]
    assert checks["database"] == "ok"
    assert checks["data_dir"].startswith("not writable")
    assert "data_dir" in answer.json()["message"]


def test_every_operation_declares_503_with_retry_after(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for item in paths.values():
        for operation in item.values():
            declared = operation["responses"]["503"]
            assert "Retry-After" in declared["headers"]
            assert declared["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}


def _raised(call: Callable[[], Any]) -> BaseException:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the point is to classify whatever comes
        call()
    return caught.value


def test_unavailable_reason_from_real_errors(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    engine = create_db_engine(f"sqlite:///{path}", DatabaseLimits(busy_timeout_s=0.05))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with closing(sqlite3.connect(path, isolation_level=None)) as locker:
        locker.execute("BEGIN EXCLUSIVE")

        def insert() -> None:
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES (1)")

        locked = _raised(insert)
        locker.execute("ROLLBACK")
    engine.dispose()
    assert unavailable_reason(locked) == "locked"

    with engine.connect() as connection:
        missing_table = _raised(lambda: connection.exec_driver_sql("SELECT * FROM nowhere"))
    assert isinstance(missing_table, exc.OperationalError)  # SQLite says so, yet it is a bug, not an outage
    assert unavailable_reason(missing_table) is None
    assert unavailable_reason(ValueError("x")) is None

    refused = create_db_engine("postgresql+psycopg://postgres@127.0.0.1:9/none", DatabaseLimits(connect_timeout_s=2))
    assert unavailable_reason(_raised(refused.connect)) == "unreachable"
    refused.dispose()
    assert unavailable_reason(exc.TimeoutError("pool")) == "busy"


def test_postgres_statement_timeout_is_timeout_and_a_lifted_limit_lets_it_run() -> None:
    with fresh_postgres_database(require_postgres_admin_url()) as url:
        engine = create_db_engine(url, DatabaseLimits(statement_timeout_s=0.3))
        try:
            with engine.connect() as connection:
                slow = _raised(lambda: connection.exec_driver_sql("SELECT pg_sleep(1)"))
            assert unavailable_reason(slow) == "timeout"
            with engine.begin() as connection:  # a background job's own transaction may take longer
                allow_long_statements(connection, 5)
                connection.exec_driver_sql("SELECT pg_sleep(0.6)")
            with engine.connect() as connection:  # and the limit is back for the next transaction
                assert unavailable_reason(_raised(lambda: connection.exec_driver_sql("SELECT pg_sleep(1)"))) == (
                    "timeout"
                )
        finally:
            engine.dispose()


def test_postgres_hung_mid_transaction_frees_the_thread_and_the_engine_recovers() -> None:
    """A statement sent into silence (no statement_timeout can come back) is cut by the client-side watchdog."""
    with fresh_postgres_database(require_postgres_admin_url()) as url, TcpProxy.before(url) as proxy:
        limits = DatabaseLimits(connect_timeout_s=2, statement_timeout_s=0.5, ping_timeout_s=0.5, watchdog_grace_s=0.5)
        engine = create_db_engine(proxy.rewrite(url), limits)
        try:
            with Session(engine) as session:
                assert session.execute(text("SELECT 1")).scalar_one() == 1  # the transaction is open
                proxy.hang()
                started = time.monotonic()
                cut = _raised(lambda: session.execute(text("SELECT 2")))
                assert time.monotonic() - started < LIVENESS_S
                assert unavailable_reason(cut) == "unreachable"
            # The session closed (its rollback on a lost connection) without raising; the pool recovers.
            proxy.restore()
            with Session(engine) as session:
                assert session.execute(text("SELECT 3")).scalar_one() == 3
        finally:
            engine.dispose()


@contextmanager
def _writer_holding_the_lock(database_url: str) -> Iterator[None]:
    """Another connection holding the bill table (PostgreSQL) or the write lock (SQLite), as a long writer would."""
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)) as locker:
            locker.execute("BEGIN EXCLUSIVE")
            yield
            locker.execute("ROLLBACK")
    else:
        with closing(psycopg.connect(libpq_url(database_url))) as locker:
            locker.execute("LOCK TABLE bill IN ACCESS EXCLUSIVE MODE")
            yield
            locker.rollback()


def test_a_background_bill_run_outlasts_a_writer_that_a_request_would_not(database_url: str) -> None:
    """Requests give up on a lock after the short bound (503); a bill run in the background waits it out."""
    engine = create_db_engine(database_url, DatabaseLimits(statement_timeout_s=0.3, busy_timeout_s=0.3))
    try:
        assert seed_demo(engine, now=NOW, tz=ZoneInfo("Asia/Kolkata"))
        with Session(engine, expire_on_commit=False) as session:
            admin = session.exec(select(User).where(User.username == "admin")).one()
            block = session.exec(select(Block).order_by(col(Block.id))).first()
            assert block is not None
            run = start_run(session, block_id=block.id or 0, period="2025-11", actor=admin, now=NOW)
        with _writer_holding_the_lock(database_url):
            finished: list[BillRun] = []
            worker = threading.Thread(
                target=lambda: finished.append(execute_run(engine, run.id or 0, clock=lambda: NOW))
            )
            worker.start()
            with Session(engine) as session:  # what a request meets meanwhile: the short bound

                def write() -> None:
                    session.execute(text("UPDATE bill SET status = status"))
                    session.commit()

                request_error = _raised(write)
            assert unavailable_reason(request_error) in {"locked", "timeout"}
            time.sleep(1.0)  # several request bounds
        worker.join(timeout=30)
        assert [done.status for done in finished] == ["done"]
        assert finished[0].processed == finished[0].total_units
    finally:
        engine.dispose()
