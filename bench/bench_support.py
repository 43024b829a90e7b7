"""What the benchmarks share: a throw-away PostgreSQL database, batching, the error they stop on."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_PG_ADMIN_URL", "BenchError", "batches", "fresh_pg_database"]

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


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
