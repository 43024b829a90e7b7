"""Billing in the browser console (Chromium): a bill run with progress, issued bills and their statuses, a
payment recorded by the accountant, and a bill's PDF whose text holds the bill number, the ₹ total and UPI link.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright
from pypdf import PdfReader

from tests.e2e.test_offline_reading_to_bill import (
    PASSWORD,
    _eventually,
    _server,
    _sign_in,
    _visible,
)
from tests.support.browser import first_page, free_port, launch_browser, wait_settled_screenshot

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def api_login(base: str, name: str) -> dict[str, str]:
    """The Authorization header of ``name`` signed in over the API (``base``: the server's ``…/api``)."""
    body = {"username": name, "password": PASSWORD, "device_id": "e2e"}
    return {"Authorization": "Bearer " + httpx.post(f"{base}/auth/login", json=body).json()["access_token"]}


def push_b17_with_photo(base: str, photo: bytes, captured_at: str) -> str:
    """engineer1 pushes the walk-through reading of 5BHK-B17-FF (previous + 77) with ``photo``, over the API; the
    reading's uuid."""
    engineer = api_login(base, "engineer1")
    meter = next(
        m for m in httpx.get(f"{base}/sync/pull", headers=engineer).json()["meters"] if m["unit_code"] == "5BHK-B17-FF"
    )
    digest = hashlib.sha256(photo).hexdigest()
    reading_id = str(uuid.uuid4())
    item = {
        "uuid": reading_id,
        "meter_id": meter["meter_id"],
        "read_type": "actual",
        "value": str(int(meter["previous"]["value"]) + 77),
        "captured_at": captured_at,
        "gps_lat": meter["lat"],
        "gps_lon": meter["lon"],
        "gps_accuracy_m": 5.0,
        "photo_sha256": digest,
    }
    body = {"device_id": "e2e", "sent_at": captured_at, "readings": [item]}
    pushed = httpx.post(f"{base}/sync/push", headers=engineer, json=body)
    assert pushed.json()["results"][0]["outcome"] == "stored", pushed.text
    stored = httpx.put(f"{base}/photos/{digest}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"})
    assert stored.status_code == 201, stored.text
    return reading_id


def _read_and_approve_b17(base: str) -> None:
    """The walk-through's reading over the API, so block B's four motor flats can all be billed."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (80, 80, 80)).save(buffer, "JPEG")
    reading_id = push_b17_with_photo(base, buffer.getvalue(), datetime.now(UTC).isoformat())
    assert httpx.post(f"{base}/review/readings/{reading_id}/approve", headers=api_login(base, "supervisor")).is_success


def test_bill_run_payment_and_pdf_in_the_console(tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with _server(port, tmp_path / "server", tmp_path / "server.log"), sync_playwright() as playwright:
        _read_and_approve_b17(f"http://127.0.0.1:{port}/api")
        browser = launch_browser(playwright, tmp_path)
        try:
            page = first_page(browser)
            _sign_in(page, url, "admin")
            _eventually(lambda: _visible(page, "Run billing"), 30, "the bill run section")
            page.get_by_role("button", name="Run billing").click()
            _eventually(lambda: _visible(page, "12 of 12 units"), 30, "the run's progress to finish")
            assert _visible(page, "4 draft bills")
            assert _visible(page, "bill.no_approved_reading")
            assert page.get_by_role("progressbar").count() == 1
            wait_settled_screenshot(page, shots / "bill-run.png")
            # The run is listed below with its own Issue button too: the one beside the progress is first.
            page.get_by_role("button", name="Issue 4 bills").first.click()
            _eventually(lambda: _visible(page, "Issued 4 bills"), 30, "the issue")

            page.get_by_role("button", name="Bills").click()
            _eventually(lambda: _visible(page, "issued 4"), 30, "the block's bills with their status")
            # The status summary and the rows are drawn by separate updates: wait for the row too.
            _eventually(lambda: _visible(page, "₹3,711.00"), 30, "the flat's bill row")
            with browser.expect_page() as opened:
                page.get_by_role("button", name="PDF").first.click()
            pdf_url = opened.value.url
            pdf = browser.request.get(pdf_url)
            assert pdf.ok
            text = PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
            assert "FM/" in text
            assert "₹" in text
            assert "upi://pay?" in text
            number = text.split("FM/", 1)[1].split()[0]
            assert f"tr=FM%2F{number.replace('/', '%2F')}" in text.replace("\n", "")

            # The month in charts: every report drawn (the browser's Flet client knows flet-charts' controls), the
            # billed bar beside the collected one, and a chart switched to its table.
            page.get_by_role("button", name="Reports").click()
            _eventually(lambda: _visible(page, "Billed and collected"), 30, "the reports")
            _eventually(lambda: page.get_by_role("button", name="Table").count() == 6, 30, "six charts drawn")
            assert not _visible(page, "Unknown control")
            wait_settled_screenshot(page, shots / "reports.png")
            page.get_by_role("button", name="Table").nth(3).click()
            _eventually(lambda: _visible(page, "Collected of billed"), 30, "the billed and collected table")

            page.get_by_role("button", name="Sign out").click()
            _sign_in(page, url, "accountant")
            _eventually(lambda: _visible(page, "issued 4"), 30, "the accountant's bills")
            rows = page.get_by_role("textbox", name="Amount ₹")
            _eventually(lambda: rows.count() == 4, 30, "a payment row for each of the 4 bills")
            wait_settled_screenshot(page, shots / "accountant-bills.png")
            amount_box = page.get_by_role("textbox", name="Amount ₹").first
            amount_box.click()
            page.wait_for_timeout(300)
            page.keyboard.type("100000", delay=40)
            page.get_by_role("button", name="Record payment").first.click()
            _eventually(lambda: _visible(page, "paid 1"), 30, "the payment to mark the bill paid")
            assert _visible(page, "issued 3")
        finally:
            browser.close()
    if os.environ.get("FIELDMETER_E2E_DOCS") == "1":
        shutil.copyfile(shots / "reports.png", ROOT / "docs" / "reports.png")
    print(f"\nscreenshots: {shots}")
