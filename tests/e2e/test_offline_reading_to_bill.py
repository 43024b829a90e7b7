"""End to end in Chromium: a reading recorded offline in the field app reaches approval and a ₹3,711 bill.

1. Server up with --demo; field app up with --web; the engineer signs in (browser geolocation set by the test).
2. The server stops; the engineer records previous + 77 on 5BHK-B17-FF with a photo (file chooser).
3. The field app is killed (SIGKILL) and started again: the reading is still there, not uploaded, and the app
   opens without the server.
4. The server starts again: reading and photo upload by themselves (no "sync now"), within 60 s.
5. A supervisor approves it in the server's browser app; the admin produces the bill and sees ₹3,711.
Then the server's database holds exactly one row for the reading's UUID and one stored photo for its hash.
Settled screenshots of the main screens go to a temporary folder, printed at the end.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, sync_playwright

from tests.support.browser import (
    ServerProcess,
    enable_flutter_semantics,
    failure_screenshots,
    first_page,
    free_port,
    launch_browser,
    wait_http_ok,
    wait_settled_screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIELDMETER = str(Path(sys.executable).with_name("fieldmeter"))
PASSWORD = "fieldmeter-demo"
FLAT = "5BHK-B17-FF"
FIRST_ON_ROUTE = "2BHK-B1-GF"  # the route's first tile (natural order), on screen unless a search hides it


def _eventually(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _visible(page: Page, text: str) -> bool:
    # Flutter puts a text either in a node's content or, merged with its neighbours, in its aria-label.
    return (
        page.get_by_text(text, exact=False).count() > 0 or page.locator(f"[aria-label*={json.dumps(text)}]").count() > 0
    )


def _type(page: Page, label: str, text: str) -> None:
    """Type into a Flutter text field like a person, and check it took every key.

    Flutter's editor attaches to the focused field a moment after the click; keys typed before that are lost,
    which a person (slower than Playwright) never sees. So: type, read the field back, and retype if needed.
    """
    box = page.get_by_role("textbox", name=label)
    for _attempt in range(3):
        box.click()
        page.wait_for_timeout(300)
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.press("Backspace")
        page.keyboard.type(text, delay=60)
        page.wait_for_timeout(200)
        if box.input_value() == text:
            return
    raise AssertionError(f"could not type {text!r} into {label!r}: it shows {box.input_value()!r}")


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    enable_flutter_semantics(page)
    _type(page, "Username", username)
    _type(page, "Password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _meter_photo(path: Path) -> Path:
    image = Image.new("RGB", (1200, 900), (70, 70, 70))
    for x in range(0, 1200, 40):
        image.paste((200, 200, 200), (x, 300, x + 20, 600))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return path


@contextmanager
def _server(port: int, data: Path, log: Path) -> Iterator[ServerProcess]:
    command = [FIELDMETER, "serve", "--demo", "--port", str(port), "--data-dir", str(data)]
    with ServerProcess(command, log_path=log, env={"DATABASE_URL": ""}, name="server") as server:
        wait_http_ok(f"http://127.0.0.1:{port}/api/health", timeout=60, process=server)
        yield server


def _field_app(server_port: int, port: int, data: Path, log: Path) -> ServerProcess:
    command = [
        FIELDMETER,
        "app",
        "--server",
        f"http://127.0.0.1:{server_port}",
        "--web",
        "--port",
        str(port),
        "--data-dir",
        str(data),
    ]
    app = ServerProcess(command, log_path=log, env={"FIELDMETER_SYNC_BACKOFF_CAP_S": "5"}, name="field-app")
    _started_apps.append(app)
    app.start()
    wait_http_ok(f"http://127.0.0.1:{port}/", timeout=60, process=app)
    return app


# Field apps this test started, stopped in its ``finally`` so that a failing run leaves no process behind.
_started_apps: list[ServerProcess] = []


def _kill_hard(app: ServerProcess) -> None:
    os.killpg(app.pid, signal.SIGKILL)
    app.process.wait(timeout=10)


def test_offline_reading_reaches_approval_and_bill(tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    server_port, app_port = free_port(), free_port()
    server_data, phone_data = tmp_path / "server", tmp_path / "phone"
    photo = _meter_photo(tmp_path / "meter.jpg")
    field_url = f"http://127.0.0.1:{app_port}/"
    console_url = f"http://127.0.0.1:{server_port}/"

    with sync_playwright() as playwright:
        browser = launch_browser(
            playwright, tmp_path, geolocation={"latitude": 30.90144, "longitude": 75.85736, "accuracy": 9}
        )
        opened = [browser]
        try:
            # 1. Both up; the engineer signs in and gets the route.
            with _server(server_port, server_data, tmp_path / "server-1.log"):
                app = _field_app(server_port, app_port, phone_data, tmp_path / "app-1.log")
                phone = first_page(browser)
                phone.goto(field_url)
                enable_flutter_semantics(phone)
                wait_settled_screenshot(phone, shots / "1-sign-in.png")
                _sign_in(phone, field_url, "engineer1")
                _eventually(lambda: _visible(phone, "17 meters"), 30, "the route after sign-in")
                wait_settled_screenshot(phone, shots / "2-route.png")
                previous = _previous_value(phone)

            # 2. Server down: record previous + 77 with a photo and a GPS fix.
            _type(phone, "Search unit or meter number", "B17")
            _eventually(lambda: not _visible(phone, FIRST_ON_ROUTE), 15, "the search to narrow the route")
            phone.get_by_text(FLAT, exact=False).first.click()
            _eventually(lambda: _visible(phone, "Last reads"), 15, "the meter's detail")
            phone.get_by_role("button", name="Read meter").click()
            _eventually(lambda: _visible(phone, "Previous reading"), 15, "the capture screen")
            _type(phone, "Reading", str(previous + 77))
            phone.get_by_role("button", name="Get location").click()
            _eventually(lambda: _visible(phone, "from the meter"), 15, "the GPS fix")
            with phone.expect_file_chooser() as chooser:
                phone.get_by_role("button", name="Add photo").click()
            chooser.value.set_files(str(photo))
            _eventually(lambda: _visible(phone, "ready"), 20, "the compressed photo")
            phone.mouse.click(5, 5)  # unfocus the text field: a blinking caret never settles
            wait_settled_screenshot(phone, shots / "3-capture.png")
            phone.get_by_role("button", name="Save").click()
            _eventually(lambda: _visible(phone, "read this period"), 15, "the route after saving")

            # 3. Kill the phone app hard and start it again, still without the server.
            _kill_hard(app)
            app = _field_app(server_port, app_port, phone_data, tmp_path / "app-2.log")
            phone.goto(field_url)
            enable_flutter_semantics(phone)
            _eventually(lambda: _visible(phone, "17 meters"), 30, "the route after restart, offline")
            phone.get_by_role("tab", name="Sync").click()
            _eventually(lambda: _visible(phone, "1 to upload"), 15, "the reading waiting to upload")
            assert _visible(phone, "saved")
            assert _visible(phone, str(previous + 77))

            # 4. Server back: the reading and its photo upload by themselves.
            with _server(server_port, server_data, tmp_path / "server-2.log"):
                _eventually(
                    lambda: _visible(phone, "0 to upload") and _visible(phone, "0 photos pending"),
                    60,
                    "the automatic upload of reading and photo",
                )
                assert _visible(phone, "uploaded")
                wait_settled_screenshot(phone, shots / "4-sync.png")

                # 5. Supervisor approves in the server's browser app; the admin bills it.
                # The supervisor is somebody else at another screen: their own browser.
                office = launch_browser(playwright, tmp_path / "office")
                opened.append(office)
                console = first_page(office)
                _sign_in(console, console_url, "supervisor")
                _eventually(lambda: _visible(console, "1 reading waiting"), 30, "the review queue")
                _eventually(lambda: _visible(console, "consumption 77 units"), 15, "the reading's facts")
                wait_settled_screenshot(console, shots / "5-review-queue.png")
                console.get_by_role("button", name="Approve", exact=True).click()
                _eventually(lambda: _visible(console, "Nothing waiting for review"), 20, "the approval")

                console.get_by_role("button", name="Sign out").click()
                _sign_in(console, console_url, "admin")
                console.get_by_role("button", name="Readings", exact=True).click()
                bill_button = console.get_by_role("button", name=f"Bill {FLAT}")
                _eventually(lambda: bill_button.count() == 1, 30, "the approved reading in the admin view")
                bill_button.click()
                _eventually(lambda: _visible(console, "Payable ₹3,711.00"), 30, "the bill of ₹3,711")
                wait_settled_screenshot(console, shots / "6-bill.png")
            _kill_hard(app)
        except BaseException:
            failure_screenshots((page for context in opened for page in context.pages), shots)
            raise
        finally:
            for context in opened:
                context.close()
            while _started_apps:
                _started_apps.pop().stop()  # a no-op for an app already killed and reaped

    _assert_server_rows(server_data / "fieldmeter.db", server_data / "photos")
    print(f"\nscreenshots: {shots}")


def _previous_value(page: Page) -> int:
    """The flat's previous reading, as its route tile shows it ("To read · previous 32176")."""
    _type(page, "Search unit or meter number", "B17")
    _eventually(lambda: not _visible(page, FIRST_ON_ROUTE), 15, "the search")
    label = page.get_by_text("previous ", exact=False).first.inner_text()
    _type(page, "Search unit or meter number", "")
    _eventually(lambda: _visible(page, FIRST_ON_ROUTE), 15, "the search to clear")
    return int(label.split("previous ", 1)[1].split()[0])


def _assert_server_rows(database: Path, photos: Path) -> None:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT r.uuid, r.photo_sha256, r.status FROM reading r JOIN meter m ON m.id = r.meter_id"
            " JOIN unit u ON u.id = m.unit_id WHERE u.code = ? AND r.source = 'field'",
            (FLAT,),
        ).fetchall()
        assert len(rows) == 1, rows
        reading_uuid, sha256, status = rows[0]
        assert status == "approved"
        assert db.execute("SELECT count(*) FROM reading WHERE uuid = ?", (reading_uuid,)).fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM photo WHERE sha256 = ?", (sha256,)).fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM bill").fetchone()[0] == 1
    assert (photos / sha256[:2] / sha256).is_file()
