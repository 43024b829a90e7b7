"""The accountant's Reconciliation screen in Chromium: a bank statement chosen with the browser's file chooser and
imported (a credit naming its bill, one owing a bill's exact amount, one matching nothing, a repeated line and a
debit), the counts and lines on screen, the unmatched credit matched to a bill by hand, and the same statement
imported again recording nothing twice (checked in the ledger over the API).

Screenshots go to a temporary folder (printed at the end); with FIELDMETER_E2E_DOCS=1 the screen is written to
docs/reconciliation.png, which docs/reconciliation.md shows.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from tests.e2e.test_billing_console import _read_and_approve_b17, api_login
from tests.e2e.test_offline_reading_to_bill import _eventually, _server, _sign_in, _type, _visible
from tests.support.browser import first_page, free_port, launch_browser, wait_settled_screenshot

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _issue_block_b(base: str) -> list[dict[str, Any]]:
    """Block B's bills of the society's month, drafted and issued over the API (the walk-through read first)."""
    _read_and_approve_b17(base)
    admin = api_login(base, "admin")
    period = httpx.get(f"{base}/clock", headers=admin).json()["period"]
    block = next(b["id"] for b in httpx.get(f"{base}/blocks", headers=admin).json()["items"] if b["code"] == "B")
    run = httpx.post(f"{base}/billing/runs", json={"block_id": block, "period": period}, headers=admin).json()
    _eventually(
        lambda: httpx.get(f"{base}/billing/runs/{run['id']}", headers=admin).json()["status"] == "done",
        WAIT,
        "the bill run",
    )
    bills: list[dict[str, Any]] = httpx.post(f"{base}/billing/runs/{run['id']}/issue", headers=admin).json()
    return bills


def _statement(path: Path, bills: list[dict[str, Any]], today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """A statement naming one bill in a UPI reference and paying another's exact amount; a stranger's ₹17, the
    first line repeated (one UTR) and a cash withdrawal. The two bills it pays."""
    payables: dict[str, int] = {}
    for bill in bills:
        payables[bill["payable"]] = payables.get(bill["payable"], 0) + 1
    named, by_amount = [bill for bill in bills if payables[bill["payable"]] == 1][:2]
    day = today.strftime("%d/%m/%Y")
    upi = f"UPI/CR/412345678901/RAVI KUMAR/HDFC/tr={named['bill_number']}"
    path.write_text(
        "\n".join(
            [
                "HDFC BANK Ltd. Statement of account,,,,",
                "Txn Date,Narration,Chq./Ref.No.,Withdrawal Amt.,Deposit Amt.",
                f"{day},{upi},412345678901,,{named['payable']}",
                f"{day},NEFT CR-SBIN0001234-FLAT OWNER,SBIN226338123456,,{by_amount['payable']}",
                f"{day},UPI/CR/412345678999/STRANGER/ICIC,412345678999,,17.00",
                f"{day},{upi},412345678901,,{named['payable']}",
                f"{day},ATM WDL,,2000.00,",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return named, by_amount


def _import(page: Page, statement: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose statement…").click()
    chooser.value.set_files(str(statement))
    _eventually(lambda: _visible(page, "not imported yet"), WAIT, "the chosen file")
    page.get_by_role("button", name="Import statement").click()


def _payments(base: str, headers: dict[str, str], unit_id: int) -> list[dict[str, Any]]:
    entries = httpx.get(f"{base}/accounts/{unit_id}/ledger", headers=headers).json()["entries"]
    return [entry for entry in entries if entry["kind"] == "payment"]


def test_accountant_reconciles_a_statement_and_matches_the_rest_by_hand(tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    base = f"{url}api"
    with _server(port, tmp_path / "server", tmp_path / "server.log"), sync_playwright() as playwright:
        bills = _issue_block_b(base)
        accountant = api_login(base, "accountant")
        today = date.fromisoformat(httpx.get(f"{base}/clock", headers=accountant).json()["today"])
        statement = tmp_path / "hdfc-december.csv"
        named, by_amount = _statement(statement, bills, today)
        other = next(bill for bill in bills if bill["id"] not in (named["id"], by_amount["id"]))
        browser = launch_browser(playwright, tmp_path)
        try:
            page = first_page(browser)
            _sign_in(page, url, "accountant")
            _eventually(lambda: _visible(page, "Reconciliation"), WAIT, "the accountant's sections")
            page.get_by_role("button", name="Reconciliation", exact=True).click()
            _eventually(lambda: _visible(page, "Choose statement…"), WAIT, "the reconciliation screen")

            _import(page, statement)
            _eventually(lambda: _visible(page, "2 payments recorded"), WAIT, "the import's outcome")
            for count in ("matched now 2", "unmatched 1", "already recorded 1", "debits left out 1"):
                assert _visible(page, count), count
            assert _visible(page, named["bill_number"])
            assert _visible(page, "by bill number")
            assert _visible(page, "by amount and date")
            _eventually(lambda: _visible(page, "1 credit waits for you"), WAIT, "the unmatched list")
            page.mouse.click(5, 5)
            wait_settled_screenshot(page, shots / "reconciliation.png")

            # The stranger's ₹17 was for another flat's bill: matched by hand.
            page.get_by_role("button", name="Match to a bill…").click()
            _type(page, "Bill number, unit or consumer", other["bill_number"])
            page.get_by_role("button", name="Find", exact=True).click()
            _eventually(lambda: _visible(page, other["unit_code"]), WAIT, "the bill found")
            page.get_by_role("button", name="Match", exact=True).click()
            _eventually(lambda: _visible(page, "No unmatched credits"), WAIT, "the list emptied")
            assert _visible(page, f"recorded as a payment of {other['bill_number']}")

            # The same statement again: nothing new.
            _import(page, statement)
            _eventually(lambda: _visible(page, "0 payments recorded"), WAIT, "the second import's outcome")
            assert _visible(page, "already recorded 4")
            wait_settled_screenshot(page, shots / "reconciliation-again.png")
        except BaseException:
            page.screenshot(path=str(shots / "failure.png"))
            print(f"\nscreenshot at the failure: {shots / 'failure.png'}")
            raise
        finally:
            browser.close()
        for bill, amount in ((named, named["payable"]), (by_amount, by_amount["payable"]), (other, "17.00")):
            assert [p["amount"] for p in _payments(base, accountant, bill["unit_id"])] == [f"-{amount}"]
    if os.environ.get("FIELDMETER_E2E_DOCS") == "1":
        shutil.copyfile(shots / "reconciliation.png", ROOT / "docs" / "reconciliation.png")
    print(f"\nscreenshots: {shots}")
