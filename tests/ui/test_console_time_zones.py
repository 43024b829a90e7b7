"""The console's month, "today" and shown times are the society's (India), whatever zone its process runs in.

A real ``fieldmeter serve`` (``start_live_server``) pinned to the night UTC/Tokyo and India disagree on the month,
and the real console driven headless in its own process with ``TZ`` set (tests/ui/console_zone_probe.py): Python
reads ``TZ`` at start-up, so a subprocess is the honest way to put the console in another zone.

- ``2026-11-30T20:00Z`` with ``TZ=UTC``: the process is on 30 November, India already on 1 December.
- ``2026-11-30T16:00Z`` with ``TZ=Asia/Tokyo``: the process is on 1 December, India still on 30 November.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.live_server import LiveServer, start_live_server
from tests.sync_server.factories import jpeg_bytes, meters_by_unit, push, reading, sha256

INDIA = ZoneInfo("Asia/Kolkata")
ROOT = Path(__file__).resolve().parents[2]
PROBE_TIMEOUT_S = 180  # a liveness bound for the console process, not a speed figure


def shown(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d %b %Y, %H:%M")


def _push_reading_now(live: LiveServer) -> dict[str, Any]:
    """engineer1 reads 5BHK-B17-FF (the last of block B's motor flats) with its photo at the server's "now"."""
    engineer = {"Authorization": f"Bearer {live.login('engineer1')}"}
    photo = jpeg_bytes()
    with live.client() as http:
        now = datetime.fromisoformat(http.get("/api/clock", headers=engineer).json()["now"])
        meter = meters_by_unit(http, engineer)["5BHK-B17-FF"]  # type: ignore[arg-type]
        item = reading(meter, captured_at=now.isoformat(), photo_sha256=sha256(photo))
        [result] = push(http, engineer, [item], sent_at=now)  # type: ignore[arg-type]
        uploaded = http.put(
            f"/api/photos/{sha256(photo)}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"}
        )
    assert result["outcome"] == "stored", result
    assert uploaded.status_code == 201, uploaded.text
    return item


def _run_console(live: LiveServer, tz: str, reading_uuid: str) -> dict[str, Any]:
    env = {**os.environ, "TZ": tz}
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.console_zone_probe", live.url, reading_uuid],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


@pytest.mark.parametrize(
    ("now", "tz", "process_zone", "india_today"),
    [
        ("2026-11-30T20:00:00Z", "UTC", "UTC", date(2026, 12, 1)),
        ("2026-11-30T16:00:00Z", "Asia/Tokyo", "JST", date(2026, 11, 30)),
    ],
    ids=["utc-process-india-in-december", "tokyo-process-india-in-november"],
)
def test_console_month_today_and_times_follow_india(
    tmp_path: Path, now: str, tz: str, process_zone: str, india_today: date
) -> None:
    process = ZoneInfo(tz)
    with ExitStack() as stack:
        live = start_live_server(stack, tmp_path, "sqlite", env={"TZ": tz}, now=now)
        item = _push_reading_now(live)
        seen = _run_console(live, tz, item["uuid"])
        assert "paid_bill_id" in seen, json.dumps(seen)
        admin = {"Authorization": f"Bearer {live.login('admin')}"}
        with live.client() as http:
            bills = {bill["id"]: bill for bill in http.get("/api/bills", headers=admin).json()["items"]}
            paid = bills[seen["paid_bill_id"]]
            ledger = http.get(f"/api/accounts/{paid['unit_id']}/ledger", headers=admin).json()

    assert seen["process_zone"] == process_zone  # the console really ran in the other zone
    assert seen["crashes"] == []
    period = india_today.strftime("%Y-%m")
    assert period != datetime.fromisoformat(now).astimezone(process).strftime("%Y-%m")  # the case is the hard one

    # The default month of both billing sections is India's, and the run billed it.
    assert seen["run_period"] == period
    assert seen["bills_period"] == period
    assert " draft bills · " in seen["run_status"] or " draft bill · " in seen["run_status"]
    issued = [bills[int(bill_id)] for bill_id in seen["bills_issued_at"]]
    assert issued
    assert {bill["period"] for bill in issued} == {period}

    # Times on the screen are India's, not the process's.
    captured = datetime.fromisoformat(item["captured_at"])
    assert seen["review_read"].split(" · ")[0] == f"Read {shown(captured, INDIA)}"  # then the distance
    assert shown(captured, INDIA) != shown(captured, process)
    for bill in issued:
        issued_at = datetime.fromisoformat(bill["issued_at"])
        due = date.fromisoformat(bill["due_on"]).strftime("%d %b %Y")
        assert seen["bills_issued_at"][str(bill["id"])] == f"issued {shown(issued_at, INDIA)} · due {due}"
        assert issued_at.astimezone(INDIA).date() == india_today

    # "Today" for a payment is India's date.
    payments = [entry for entry in ledger["entries"] if entry["kind"] == "payment"]
    assert [entry["booked_on"] for entry in payments] == [india_today.isoformat()]
    assert paid["status"] == "paid"
    assert Decimal(ledger["balance"]) <= 0
