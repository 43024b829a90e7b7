"""PostgreSQL for tests: a fresh, throwaway database on the server named by ``FIELDMETER_TEST_PG_URL``.

``FIELDMETER_TEST_PG_URL`` is a libpq URL to an existing database that the tests may use to create others,
e.g. ``postgresql://postgres@127.0.0.1:5432/test`` (what ``scripts/test`` exports when the local server
answers). It is used only to ``CREATE DATABASE``/``DROP DATABASE``; every test works in its own
``fieldmeter_t_<hex>`` database::

    def test_something() -> None:
        with fresh_postgres_database(require_postgres_admin_url()) as url:  # postgresql+psycopg://…/fieldmeter_t_…
            engine = create_engine(url)
            ...
            engine.dispose()

When the variable is unset (or empty), ``require_postgres_admin_url()`` skips the test with
``PG_SKIP_REASON``; ``tests/conftest.py`` counts those skips in the terminal summary and, with ``CI=true``,
fails the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = [
    "DATABASE_PREFIX",
    "ENV_VAR",
    "PG_SKIP_REASON",
    "database_exists",
    "fresh_postgres_database",
    "libpq_url",
    "postgres_admin_url",
    "require_postgres_admin_url",
    "sqlalchemy_url",
]

ENV_VAR = "FIELDMETER_TEST_PG_URL"
DATABASE_PREFIX = "fieldmeter_t_"
PG_SKIP_REASON = f"PostgreSQL test: {ENV_VAR} is not set (scripts/test sets it when the local server is up)"
CONNECT_TIMEOUT_S = 10


def postgres_admin_url() -> str | None:
    """The admin URL from ``FIELDMETER_TEST_PG_URL``, or None when unset or empty."""
    url = os.environ.get(ENV_VAR, "").strip()
    return url or None


def require_postgres_admin_url() -> str:
    """The admin URL, or skip the calling test (with ``PG_SKIP_REASON``) when none is configured."""
    url = postgres_admin_url()
    if url is None:
        pytest.skip(PG_SKIP_REASON)
    return url


def sqlalchemy_url(url: str, database: str | None = None) -> str:
    """Turn a libpq URL (``postgresql://…``) into SQLAlchemy's psycopg 3 form (``postgresql+psycopg://…``).

    ``database`` replaces the database name. The password, if any, is kept (this is for tests, not for logs).
    """
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def libpq_url(url: str, database: str | None = None) -> str:
    """The libpq form (``postgresql://…``) that psycopg and ``psql`` accept, from either form."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _admin_connection(admin_url: str) -> psycopg.Connection[tuple[object, ...]]:
    # CREATE/DROP DATABASE cannot run inside a transaction block: autocommit.
    return psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)


def database_exists(admin_url: str, name: str) -> bool:
    with _admin_connection(admin_url) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def _drop_database(admin_url: str, name: str) -> None:
    with _admin_connection(admin_url) as conn:
        # Connections a test left open (a pool, a leaked session) must not keep the database alive.
        # WITH (FORCE) (PostgreSQL 13+) terminates them too; terminating first keeps the intent explicit.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """Create an empty UTF-8 database ``fieldmeter_t_<random hex>``, yield its SQLAlchemy URL, then drop it.

    The admin connection is used only to create and drop; the database is dropped even when the body raises,
    after terminating any connections still open to it.
    """
    name = DATABASE_PREFIX + secrets.token_hex(8)
    with _admin_connection(admin_url) as conn:
        # template0: copying template1 fails while anyone else is connected to it (parallel test runs).
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))
    try:
        yield sqlalchemy_url(admin_url, database=name)
    finally:
        _drop_database(admin_url, name)
