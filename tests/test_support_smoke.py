"""Smoke tests of the test infrastructure: a throwaway PostgreSQL database, Debian chromium + Playwright."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.browser import (
    ServerProcess,
    first_page,
    free_port,
    launch_browser,
    wait_http_ok,
    wait_settled_screenshot,
)
from tests.support.postgres import (
    DATABASE_PREFIX,
    database_exists,
    fresh_postgres_database,
    libpq_url,
    require_postgres_admin_url,
    sqlalchemy_url,
)


def test_postgres_url_forms() -> None:
    admin = "postgresql://postgres@127.0.0.1:5432/test"
    assert sqlalchemy_url(admin) == "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert sqlalchemy_url(admin, database="x") == "postgresql+psycopg://postgres@127.0.0.1:5432/x"
    assert libpq_url("postgresql+psycopg://u:p%40ss@db:5433/x", database="y") == "postgresql://u:p%40ss@db:5433/y"


@pytest.mark.postgres
def test_fresh_postgres_database_is_usable_and_dropped_afterwards() -> None:
    admin = require_postgres_admin_url()
    with fresh_postgres_database(admin) as url:
        name = make_url(url).database
        assert name is not None
        assert name.startswith(DATABASE_PREFIX)
        assert url.startswith("postgresql+psycopg://")
        assert database_exists(admin, name)

        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                assert conn.execute(text("SELECT current_database()")).scalar_one() == name
                assert conn.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
                conn.execute(text("CREATE TABLE bill (id int PRIMARY KEY, amount text)"))
                conn.execute(text("INSERT INTO bill VALUES (1, '₹ 1,234.50')"))
            with engine.connect() as conn:
                assert conn.execute(text("SELECT amount FROM bill")).scalar_one() == "₹ 1,234.50"
        finally:
            engine.dispose()

        # A connection the test forgot to close must not keep the database alive.
        leaked = psycopg.connect(libpq_url(url))
    try:
        assert not database_exists(admin, name)
    finally:
        leaked.close()


@pytest.mark.postgres
def test_fresh_postgres_database_is_dropped_when_the_body_raises() -> None:
    admin = require_postgres_admin_url()
    names: list[str] = []

    def use_and_fail() -> None:
        with fresh_postgres_database(admin) as url:
            names.append(str(make_url(url).database))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        use_and_fail()
    assert names
    assert not database_exists(admin, names[0])


@pytest.mark.browser
@pytest.mark.slow
def test_chromium_opens_a_local_page_and_nothing_else(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        "<!doctype html><html><head><title>Fieldmeter smoke</title></head>"
        "<body><h1>ok</h1><img src='https://example.com/outside.png'></body></html>",
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(site),
    ]
    with ServerProcess(command, log_path=tmp_path / "http.log", name="http.server") as server:
        wait_http_ok(url, timeout=20, process=server)
        blocked: list[str] = []
        geolocation = {"latitude": 12.9716, "longitude": 77.5946, "accuracy": 8.0}
        with sync_playwright() as playwright:
            context = launch_browser(playwright, tmp_path, geolocation, blocked=blocked)
            try:
                page = first_page(context)
                page.goto(url, wait_until="load")
                assert page.title() == "Fieldmeter smoke"
                assert page.get_by_role("heading", name="ok").is_visible()
                # What flet-geolocator will read in the browser.
                position = page.evaluate(
                    """() => new Promise((resolve, reject) => navigator.geolocation.getCurrentPosition(
                        p => resolve([p.coords.latitude, p.coords.longitude, p.coords.accuracy]),
                        e => reject(new Error(e.message)), {timeout: 10000}))"""
                )
                assert position == pytest.approx([12.9716, 77.5946, 8.0])
                shot = wait_settled_screenshot(page, tmp_path / "smoke.png", timeout=10)
                assert shot.startswith(b"\x89PNG")
            finally:
                context.close()
        assert server.is_running()
    assert blocked == ["https://example.com/outside.png"], json.dumps(blocked)
    assert "GET / HTTP" in (tmp_path / "http.log").read_text()
