"""Drive the real browser console (headless) against a running server and print what it showed, as JSON.

Run as its own process (``python -m tests.ui.console_zone_probe URL READING_UUID``) by
tests/ui/test_console_time_zones.py, with ``TZ`` set in its environment: the process zone must be the one the
console runs in, and Python reads ``TZ`` when it starts. Nothing here asserts the zone rules; it reports, the test
judges.

As the supervisor: the review card's capture time, then its approval. As the admin: the bill run's default month,
a run of the first block for it and its issue, then the Bills section's default month and each bill's issue time.
As the accountant: the first bill marked paid (the payment date is the console's "today").
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

import httpx

from mobile_app.console.app import console_main
from tests.support.flet_driver import FletDriver
from tests.ui.ui_fixtures import sign_in, value_of, wait_key

TIMEOUT_S = 120.0  # upper bounds on a busy machine, not speed figures
WAIT_S = 30.0


def _values(driver: FletDriver, prefix: str) -> dict[str, Any]:
    found = (c for c in driver.walk() if isinstance(c.key, str) and c.key.startswith(prefix))
    return {str(c.key).removeprefix(prefix): getattr(c, "value", None) for c in found}


async def _sign_out(driver: FletDriver) -> None:
    await driver.click("sign_out")
    await driver.wait_for(lambda: value_of(driver, "username") == "", message="the sign-in form")


async def scenario(driver: FletDriver, reading_uuid: str) -> dict[str, Any]:
    # Which zone this process really runs in: the test checks the setting took, or the case proves nothing.
    seen: dict[str, Any] = {"process_zone": datetime.now().astimezone().tzname()}

    await sign_in(driver, "supervisor")
    await wait_key(driver, f"read-{reading_uuid}")
    seen["review_read"] = value_of(driver, f"read-{reading_uuid}")
    # Approved, block B's shared motor has all its flats read: the bill run drafts them all.
    await wait_key(driver, f"photo-{reading_uuid}")
    await driver.click(f"approve-{reading_uuid}")
    await driver.wait_for_text("Nothing waiting for review")
    await _sign_out(driver)

    await sign_in(driver, "admin")
    await driver.wait_for(lambda: value_of(driver, "run_period"), message="the bill run's default month")
    await driver.wait_for(lambda: value_of(driver, "run_block") is not None, message="the first block chosen")
    seen["run_period"] = value_of(driver, "run_period")
    await driver.click("run_billing")
    await driver.wait_for(lambda: "done" in (value_of(driver, "run_status") or ""), message="the run done")
    seen["run_status"] = value_of(driver, "run_status")
    seen["run_result"] = [t for t in driver.texts() if t.startswith("Skipped:")]
    if not driver.find("issue_run").visible:
        return seen  # nothing drafted: the test reports why
    await driver.click("issue_run")
    await driver.wait_for(lambda: (value_of(driver, "run_status") or "").startswith("Issued"), message="issued")
    await driver.click("section-bills")
    await driver.wait_for(lambda: _values(driver, "issued-at-"), message="the issued bills with their times")
    seen["bills_period"] = value_of(driver, "bills_period")
    seen["bills_issued_at"] = _values(driver, "issued-at-")
    await _sign_out(driver)

    await sign_in(driver, "accountant")
    await driver.wait_for(lambda: _values(driver, "select-"), message="bills to select")
    first = min(int(bill_id) for bill_id in _values(driver, "select-"))
    box = driver.find(f"select-{first}")
    driver.session.apply_patch(box._i, {"value": True})
    await driver.dispatch(box, "change", "true")
    await driver.click("mark_paid")
    await driver.wait_for(lambda: value_of(driver, f"status-{first}") == "paid", message="the bill marked paid")
    seen["paid_bill_id"] = first
    seen["crashes"] = driver.crashes()
    return seen


def main(url: str, reading_uuid: str) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=url, timeout=60.0, trust_env=False)

    async def run() -> dict[str, Any]:
        # Each wait may take WAIT_S: the server is a real process over TCP on a machine shared with other tests.
        async with FletDriver(console_main(http_factory), timeout=WAIT_S) as driver:
            return await scenario(driver, reading_uuid)

    seen = asyncio.run(asyncio.wait_for(run(), TIMEOUT_S))
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
