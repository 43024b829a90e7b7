"""The review queue at volume in Chromium (issue 13): 46 readings waiting, filtered to one engineer, a photo opened
full-size and zoomed, three approvals with the A key, then the clean ones approved in bulk after a confirmation —
and the counts on screen and in the server's database agree.

Screenshots go to a temporary folder (printed at the end); with FIELDMETER_E2E_DOCS=1 the ones docs/review.md shows
are written into docs/ as well. The server's clock is pinned (FIELDMETER_NOW), so is the seed's.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import func
from sqlmodel import Session, select

from sync_server.db import create_db_engine
from sync_server.models import Reading, ReadingStatus, User
from tests.e2e.test_billing_console import push_b17_with_photo
from tests.e2e.test_offline_reading_to_bill import FIELDMETER, _eventually, _sign_in, _visible
from tests.support.browser import (
    ServerProcess,
    first_page,
    free_port,
    launch_browser,
    wait_http_ok,
    wait_settled_screenshot,
)
from tests.sync_server.review_seed import submit_readings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T10:00:00+05:30"
SEEDED = 45
DOCS_SHOTS = {
    "review-queue.png": "review-queue.png",
    "photo-zoom.png": "review-photo-zoom.png",
    "bulk-confirm.png": "review-bulk-confirm.png",
}


@contextmanager
def _server(port: int, data: Path, log: Path) -> Iterator[ServerProcess]:
    command = [FIELDMETER, "serve", "--demo", "--port", str(port), "--data-dir", str(data)]
    env = {"DATABASE_URL": "", "FIELDMETER_NOW": NOW, "TZ": "Asia/Kolkata"}
    with ServerProcess(command, log_path=log, env=env, name="server") as server:
        wait_http_ok(f"http://127.0.0.1:{port}/api/health", timeout=60, process=server)
        yield server


def _meter_photo() -> bytes:
    """A meter face with big digits: something worth zooming into."""
    image = Image.new("RGB", (1200, 900), (235, 235, 225))
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 350, 1000, 550), fill=(20, 20, 20))
    for place, digit in enumerate("32253"):
        draw.text((260 + place * 150, 400), digit, fill=(250, 250, 250))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _counts(database: str) -> tuple[int, int]:
    """Submitted and approved readings in the server's database."""
    engine = create_db_engine(database)
    try:
        with Session(engine) as session:
            submitted = session.exec(select(func.count()).where(Reading.status == ReadingStatus.SUBMITTED)).one()
            approved = session.exec(select(func.count()).where(Reading.status == ReadingStatus.APPROVED)).one()
    finally:
        engine.dispose()
    return submitted, approved


def _clean_count(page: Page) -> int:
    """The count on the bulk button ("Approve 12 clean readings")."""
    label = page.get_by_role("button", name=re.compile(r"^Approve \d+ clean reading")).first.inner_text()
    found = re.search(r"Approve (\d+) clean", label) or re.search(r"(\d+)", label)
    assert found is not None, label
    return int(found.group(1))


def test_filter_zoom_keyboard_approvals_and_bulk_approval_in_chromium(tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    data = tmp_path / "server"
    database = f"sqlite:///{(data / 'fieldmeter.db').resolve()}"
    with _server(port, data, tmp_path / "server.log"), sync_playwright() as playwright:
        engine = create_db_engine(database)
        try:
            submit_readings(engine, SEEDED, start=0, now=datetime.fromisoformat(NOW), period="2026-11", photos=False)
            with Session(engine) as session:
                engineer1 = session.exec(select(User).where(User.username == "engineer1")).one()
                theirs = session.exec(
                    select(func.count()).where(
                        Reading.engineer_id == engineer1.id, Reading.status == ReadingStatus.SUBMITTED
                    )
                ).one()
        finally:
            engine.dispose()
        push_b17_with_photo(f"{url}api", _meter_photo(), NOW)
        theirs += 1
        waiting, approved_before = _counts(database)
        assert waiting == SEEDED + 1

        browser = launch_browser(playwright, tmp_path)
        try:
            page = first_page(browser)
            page.set_viewport_size({"width": 1400, "height": 1000})
            _sign_in(page, url, "supervisor")
            _eventually(lambda: _visible(page, f"{waiting} readings waiting"), 30, "the queue's true total")
            assert _visible(page, f"1–20 of {waiting}")
            wait_settled_screenshot(page, shots / "review-queue.png")

            # One engineer's readings: the dropdown names them with their count.
            page.get_by_role("button", name="Engineer").click()
            page.get_by_text(f"{engineer1.full_name} ({theirs})").last.click()
            _eventually(lambda: _visible(page, f"{theirs} readings waiting"), 30, "engineer1's readings")

            # The newest first: the photographed reading on top; its photo full-size, zoomed in.
            page.get_by_role("button", name="Order").click()
            page.get_by_text("Newest first").last.click()
            _eventually(lambda: _visible(page, "5BHK-B17-FF"), 30, "the photographed reading first")
            page.get_by_role("button", name="Full size").first.click()
            zoom_in = page.locator('[aria-label="Zoom in"]')
            _eventually(lambda: zoom_in.count() > 0, 15, "the photo full-size")
            zoom_in.first.click()
            zoom_in.first.click()
            wait_settled_screenshot(page, shots / "photo-zoom.png")
            page.get_by_role("button", name="Close").click()
            _eventually(lambda: zoom_in.count() == 0, 15, "the zoom closed")

            # The keyboard: Z opens the framed card's photo too; three approvals with A, the frame moving on.
            page.mouse.click(5, 5)  # no text field keeps the keys
            page.keyboard.press("z")
            _eventually(lambda: zoom_in.count() > 0, 15, "the photo full-size by its key")
            page.get_by_role("button", name="Close").click()
            _eventually(lambda: zoom_in.count() == 0, 15, "the zoom closed again")
            for done in range(1, 4):
                page.keyboard.press("a")
                count = f"{theirs - done} readings waiting"
                _eventually(lambda count=count: _visible(page, count), 30, f"approval {done}")  # type: ignore[misc]
            assert _counts(database) == (waiting - 3, approved_before + 3)

            # The clean ones of this filter, after a confirmation naming the count.
            clean = _clean_count(page)
            assert clean > 0
            page.get_by_role("button", name=re.compile(r"^Approve \d+ clean reading")).first.click()
            _eventually(lambda: _visible(page, f"Approve {clean} clean readings?"), 15, "the confirmation")
            wait_settled_screenshot(page, shots / "bulk-confirm.png")
            page.get_by_role("button", name="Approve", exact=True).last.click()
            _eventually(lambda: _visible(page, f"Approved {clean} readings"), 30, "the bulk approval")
            left = theirs - 3 - clean
            _eventually(lambda: _visible(page, f"{left} readings waiting"), 30, "the count after the bulk approval")
            assert _counts(database) == (waiting - 3 - clean, approved_before + 3 + clean)
        finally:
            browser.close()
    if os.environ.get("FIELDMETER_E2E_DOCS") == "1":
        for shot, name in DOCS_SHOTS.items():
            shutil.copyfile(shots / shot, ROOT / "docs" / name)
    print(f"\nscreenshots: {shots}")
