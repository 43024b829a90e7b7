"""Real concurrent requests at a real server process (SQLite and PostgreSQL): billing happens exactly once.

One scenario per backend (a server start is the slow part): five POST /api/bills at once for one reading, then
concurrent starts of a block's run, then concurrent issues of that run.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.support.live_server import LIVE_NOW, LiveServer
from tests.sync_server.factories import jpeg_bytes, meters_by_unit, push, reading, sha256

PERIOD = LIVE_NOW[:7]


def _approve_walkthrough(live: LiveServer) -> str:
    """engineer1 reads 5BHK-B17-FF at previous + 77 with a photo; the supervisor approves it."""
    now = datetime.fromisoformat(LIVE_NOW)
    with live.client(live.login("engineer1")) as http:
        headers = dict(http.headers)
        meter = meters_by_unit(http, headers)["5BHK-B17-FF"]  # type: ignore[arg-type]
        photo = jpeg_bytes()
        item = reading(
            meter,
            value=str(int(meter["previous"]["value"]) + 77),
            photo_sha256=sha256(photo),
            captured_at=(now - timedelta(minutes=5)).isoformat(),
        )
        push(http, headers, [item], sent_at=now)  # type: ignore[arg-type]
        uploaded = http.put(f"/api/photos/{sha256(photo)}", content=photo, headers={"Content-Type": "image/jpeg"})
        assert uploaded.is_success, uploaded.text
    with live.client(live.login("supervisor")) as http:
        assert http.post(f"/api/review/readings/{item['uuid']}/approve").is_success
    return str(item["uuid"])


async def _at_once(live: LiveServer, token: str, method: str, path: str, count: int, **kw: Any) -> list[httpx.Response]:
    async with live.async_client(token) as http:
        return list(await asyncio.gather(*(http.request(method, path, **kw) for _ in range(count))))


def _wait_done(http: httpx.Client, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60  # a liveness bound, not a speed figure
    while time.monotonic() < deadline:
        run: dict[str, Any] = http.get(f"/api/billing/runs/{run_id}").json()
        if run["status"] != "running":
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still running")


def test_concurrent_billing_requests_bill_and_charge_exactly_once(live_server: LiveServer) -> None:
    uuid = _approve_walkthrough(live_server)
    admin = live_server.login("admin")

    # Five POST /api/bills at once for one reading: one bill, four 409s naming it, never a 500.
    answers = asyncio.run(_at_once(live_server, admin, "POST", "/api/bills", 5, json={"reading_uuid": uuid}))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201, 409, 409, 409, 409], [a.text for a in answers]
    [made] = [answer.json() for answer in answers if answer.status_code == 201]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "bill.already_billed"
            assert answer.json()["details"]["bill_id"] == made["id"]
    assert made["bill_number"].endswith("/000001")

    with live_server.client(admin) as http:
        block = next(b["id"] for b in http.get("/api/blocks").json()["items"] if b["code"] == "B")
        # Three starts of the block's run at once: one runs at a time, the others are told which one runs
        # (or start after it finished); none fails and nothing is drafted twice.
        body = {"block_id": block, "period": PERIOD}
        starts = asyncio.run(_at_once(live_server, admin, "POST", "/api/billing/runs", 3, json=body))
        started = [answer.json()["id"] for answer in starts if answer.status_code == 202]
        assert started, [a.text for a in starts]
        for answer in starts:
            assert answer.status_code in (202, 409), answer.text
            if answer.status_code == 409:
                assert answer.json()["code"] == "billing.run_in_progress"
                assert answer.json()["details"]["run_id"] in started
        finished = [_wait_done(http, run_id) for run_id in started]
        assert {run["status"] for run in finished} == {"done"}, finished
        assert sum(run["created"] for run in finished) == 3  # the motor's other three flats
        run_id = next(run["id"] for run in finished if run["created"] == 3)

    # Four issues of the run at once (a double click, retries): all 200 with the same bills, charged once.
    issues = asyncio.run(_at_once(live_server, admin, "POST", f"/api/billing/runs/{run_id}/issue", 4))
    assert [answer.status_code for answer in issues] == [200] * 4, [a.text for a in issues]
    lists = [[(b["id"], b["bill_number"]) for b in answer.json()] for answer in issues]
    assert all(issued == lists[0] for issued in lists)
    # Consecutive numbers without gaps after the single bill's 000001.
    assert sorted(int(number.rsplit("/", 1)[1]) for _, number in lists[0]) == [2, 3, 4]
    with live_server.client(admin) as http:
        for bill in [made, *issues[0].json()]:
            entries = http.get(f"/api/accounts/{bill['unit_id']}/ledger").json()["entries"]
            charges = [Decimal(e["amount"]) for e in entries if e["kind"] == "charge"]
            assert charges == [Decimal(bill["charges"])], entries
