"""Reconciliation (issue 16): a bank or UPI statement's credits read (CSV, XLSX), matched to bills by the bill
number or by amount and date, recorded through the ledger, and nothing recorded twice when the statement comes
again (docs/reconciliation.md)."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from shared_billing.protocol import MatchRule
from sync_server.statements.match import BillBook, BillFacts, bill_numbers_in, match_credit
from sync_server.statements.parse import StatementError, parse_statement, parse_statement_day
from tests.sync_server.factories import NOW, auth, finished_run, jpeg_bytes, meters_by_unit, push, reading, sha256

PERIOD = NOW.strftime("%Y-%m")

# --- Reading a statement ---

HDFC_LIKE = b"""HDFC BANK Ltd.,,,,,,
Account No. : 50100123456789,,,,,,
,,,,,,
Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance
********,********,********,********,********,********,********
03/12/26,UPI-RAVI-ravi@okhdfc-HDFC0000123-412345678901-tr=FM%2F2627%2F000123,0000412345678901,03/12/26,,"3,711.00",103711
03/12/26,ATM WDL-CASH,000000000000,03/12/26,2000.00,,"1,01,711.00"
04/12/26,NEFT CR-SBIN0001234-ANITA SHARMA,SBIN226338123456,04/12/26,,1250.50,"1,02,961.50"
,,,,,,
STATEMENT SUMMARY :-,,,,,,
"""


def test_a_bank_export_is_read_below_its_preamble_with_debits_left_out() -> None:
    statement = parse_statement(HDFC_LIKE)
    assert statement.columns == {
        "date": "Date",
        "narration": "Narration",
        "reference": "Chq./Ref.No.",
        "credit": "Deposit Amt.",
        "debit": "Withdrawal Amt.",
    }
    assert [(c.line, c.on, c.amount, c.reference) for c in statement.credits] == [
        (6, date(2026, 12, 3), Decimal("3711.00"), "0000412345678901"),
        (8, date(2026, 12, 4), Decimal("1250.50"), "SBIN226338123456"),
    ]
    assert statement.debits == 1
    assert statement.problems == ()


def test_common_column_names_any_case_and_a_single_amount_column_with_its_side() -> None:
    data = b"""txn date;DESCRIPTION;utr;amount;Cr/Dr
2026-12-03;UPI/CR/412345678901/RAVI KUMAR/HDFC/tr=FM/2627/000123;;"3711";CR
2026-12-03;UPI/DR/512345678901/SHOP;;"99";DR
"""
    statement = parse_statement(data)
    assert [(c.narration[:6], c.amount, c.reference) for c in statement.credits] == [
        ("UPI/CR", Decimal("3711.00"), "412345678901")  # no UTR column value: the RRN in a UPI narration
    ]
    assert statement.debits == 1


@pytest.mark.parametrize(
    "text", ["03/12/2026", "03-12-2026", "2026-12-03", "03-Dec-2026", "3 December 2026", "03.12.26", "03/12/2026 10:15"]
)
def test_statement_days_are_day_first(text: str) -> None:
    assert parse_statement_day(text) == date(2026, 12, 3)


def test_an_xlsx_statement_reads_as_its_csv() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Statement of account"])
    sheet.append([])
    sheet.append(["Value Date", "Remarks", "Reference No.", "Debit", "Credit"])
    sheet.append([datetime(2026, 12, 3), "UPI/CR/412345678901/RAVI/tr=FM/2627/000123", None, None, 3711])
    sheet.append(["04-Dec-2026", "INTEREST", None, None, 12.5])
    buffer = io.BytesIO()
    book.save(buffer)
    statement = parse_statement(buffer.getvalue())
    assert [(c.on, c.amount) for c in statement.credits] == [
        (date(2026, 12, 3), Decimal("3711.00")),
        (date(2026, 12, 4), Decimal("12.50")),
    ]


def test_a_line_that_cannot_be_read_is_a_problem_and_the_rest_is_read() -> None:
    data = b"""Date,Narration,Credit
31/02/2026,CASH,500
03/12/2026,CASH,abc
03/12/2026,CASH,500
"""
    statement = parse_statement(data)
    assert [c.line for c in statement.credits] == [4]
    assert [(p.line, p.reason[:12]) for p in statement.problems] == [(2, "date '31/02/"), (3, "amount 'abc'")]


def test_keys_tell_repeats_of_one_transaction_from_two_equal_payments() -> None:
    data = b"""Date,Narration,Ref No.,Credit
03/12/2026,CASH DEPOSIT,,500
03/12/2026,CASH DEPOSIT,,500
03/12/2026,NEFT ANITA,SBIN1,500
03/12/2026,NEFT ANITA,SBIN1,500
"""
    keys = [c.key for c in parse_statement(data).credits]
    assert keys[0] != keys[1]  # two deposits without a reference: two payments
    assert keys[2] == keys[3]  # one reference twice: one transaction listed twice
    assert keys == [c.key for c in parse_statement(data).credits]  # the same in every download


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"Name,Flat\nRavi,B17\n", "No header row names a date and a credit column"),
        (b"Date,Credit\n", "no transaction lines"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "old Excel"),
    ],
)
def test_a_file_that_is_no_statement_is_refused_whole(data: bytes, words: str) -> None:
    with pytest.raises(StatementError, match=words):
        parse_statement(data)


# --- Matching ---


@pytest.mark.parametrize(
    "text",
    [
        "UPI/CR/412345678901/RAVI KUMAR/HDFC/tr=FM/2627/000123",
        "UPI-RAVI-tr=FM%2F2627%2F000123",
        "IMPS FM-2627-000123 RAVI",
        "fm2627000123",
        "UPI/ravi@ok/FM 2627 000123/",
    ],
)
def test_a_bill_number_is_found_however_the_bank_wrote_it(text: str) -> None:
    assert bill_numbers_in(text) == ["FM/2627/000123"]


def test_a_longer_number_is_no_bill_number() -> None:
    assert bill_numbers_in("FM/2627/0001234", "XFM/2627/000123") == []


def _credit(amount: str, on: date, narration: str = "NEFT CR") -> Any:
    from sync_server.statements.parse import StatementLine

    return StatementLine(2, on, narration, None, Decimal(amount), "k")


def _bill(bill_id: int, owed: str, issued_on: date = date(2026, 12, 1)) -> BillFacts:
    return BillFacts(bill_id, bill_id, f"FM/2627/{bill_id:06d}", f"U{bill_id}", issued_on, Decimal(owed))


def test_matching_by_number_first_then_by_the_one_bill_owing_the_amount() -> None:
    book = BillBook(
        named={"FM/2627/000001": _bill(1, "0")},
        open_by_unit={2: _bill(2, "1500.00"), 3: _bill(3, "900.00"), 4: _bill(4, "900.00")},
    )
    by_number = match_credit(_credit("10.00", date(2026, 12, 3), "UPI tr=FM/2627/000001"), book)
    assert (by_number.bill, by_number.rule) == (book.named["FM/2627/000001"], MatchRule.REFERENCE)
    by_amount = match_credit(_credit("1500.00", date(2026, 12, 3)), book)
    assert (by_amount.bill, by_amount.rule) == (book.open_by_unit[2], MatchRule.AMOUNT_DATE)
    tie = match_credit(_credit("900.00", date(2026, 12, 3)), book)
    assert tie.bill is None
    assert tie.reason.startswith("2 open bills owe ₹900.00")
    before_issue = match_credit(_credit("1500.00", date(2026, 11, 30)), book)
    assert before_issue.bill is None
    too_late = match_credit(_credit("1500.00", date(2027, 1, 30)), book)
    assert too_late.bill is None
    unknown = match_credit(_credit("1500.01", date(2026, 12, 3), "tr=FM/2627/000999"), book)
    assert unknown.bill is None
    assert "FM/2627/000999, which is no issued bill" in unknown.reason
    book.settle(2, Decimal("0.00"))  # paid: no longer a candidate
    assert match_credit(_credit("1500.00", date(2026, 12, 3)), book).bill is None


# --- Over the API, on SQLite and PostgreSQL ---


def _issued_bills(client: TestClient) -> list[dict[str, Any]]:
    """Block B's bills of the pinned month, issued: 5BHK-B17-FF read by engineer1 and approved, the run issued."""
    engineer = auth(client, "engineer1")
    meter = meters_by_unit(client, engineer)["5BHK-B17-FF"]
    photo = jpeg_bytes()
    item = reading(meter, value=str(int(meter["previous"]["value"]) + 77), photo_sha256=sha256(photo))
    push(client, engineer, [item])
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    admin = auth(client, "admin")
    block = next(b["id"] for b in client.get("/api/blocks", headers=admin).json()["items"] if b["code"] == "B")
    started = client.post("/api/billing/runs", json={"block_id": block, "period": PERIOD}, headers=admin)
    assert finished_run(client, admin, started.json()["id"])["status"] == "done"
    bills = client.post(f"/api/billing/runs/{started.json()['id']}/issue", headers=admin).json()
    return list(bills)


def _statement(bills: list[dict[str, Any]]) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """A statement with a credit naming a bill, one matching a bill's unique amount, one matching nothing, a
    repeat of the first (the same UTR) and a debit."""
    by_payable: dict[str, list[dict[str, Any]]] = {}
    for bill in bills:
        by_payable.setdefault(bill["payable"], []).append(bill)
    unique = [group[0] for group in by_payable.values() if len(group) == 1]
    named, by_amount = unique[0], unique[1]
    day = NOW.date().strftime("%d/%m/%Y")
    rows = [
        "Txn Date,Narration,UTR,Debit,Credit",
        f"{day},UPI/CR/412345678901/RAVI KUMAR/HDFC/tr={named['bill_number']},412345678901,,{named['payable']}",
        f"{day},NEFT CR-SBIN0001234-FLAT OWNER,SBIN226338123456,,{by_amount['payable']}",
        f"{day},UPI/CR/412345678999/STRANGER/ICIC,412345678999,,17.00",
        f"{day},UPI/CR/412345678901/RAVI KUMAR/HDFC/tr={named['bill_number']},412345678901,,{named['payable']}",
        f"{day},ATM WDL,,2000.00,",
    ]
    return "\n".join(rows).encode(), {"named": named, "by_amount": by_amount}


def _import(client: TestClient, headers: dict[str, str], data: bytes, content_type: str = "text/csv") -> Any:
    return client.post(
        "/api/statements?file_name=dec.csv", content=data, headers=headers | {"Content-Type": content_type}
    )


def _payments(client: TestClient, headers: dict[str, str], unit_id: int) -> list[dict[str, Any]]:
    ledger = client.get(f"/api/accounts/{unit_id}/ledger", headers=headers).json()
    return [entry for entry in ledger["entries"] if entry["kind"] == "payment"]


def test_a_statement_reconciles_and_reconciles_again_recording_nothing_twice(client: TestClient) -> None:
    bills = _issued_bills(client)
    data, picked = _statement(bills)
    accountant = auth(client, "accountant")

    first = _import(client, accountant, data)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["counts"] == {
        "credits": 4,
        "matched": 2,
        "unmatched": 1,
        "already_recorded": 1,
        "debits": 1,
        "problems": 0,
    }
    outcomes = {o["line"]: o for o in body["outcomes"]}
    assert outcomes[2]["outcome"] == "matched"
    assert outcomes[2]["statement_line"]["rule"] == "reference"
    assert outcomes[2]["statement_line"]["bill_number"] == picked["named"]["bill_number"]
    assert outcomes[3]["statement_line"]["rule"] == "amount_date"
    assert outcomes[3]["statement_line"]["unit_code"] == picked["by_amount"]["unit_code"]
    assert outcomes[4]["outcome"] == "unmatched"
    assert "no open bill" in outcomes[4]["statement_line"]["reason"]
    assert outcomes[5]["outcome"] == "already_recorded"  # the same UTR again in the file
    for bill in picked.values():
        paid = _payments(client, accountant, bill["unit_id"])
        assert [Decimal(p["amount"]) for p in paid] == [-Decimal(bill["payable"])]
        assert client.get(f"/api/bills/{bill['id']}", headers=accountant).json()["status"] == "paid"

    again = _import(client, accountant, data)
    assert again.status_code == 201, again.text
    assert again.json()["counts"] == {
        "credits": 4,
        "matched": 0,
        "unmatched": 1,  # still waiting for the accountant: the same line, not a new one
        "already_recorded": 3,
        "debits": 1,
        "problems": 0,
    }
    for bill in picked.values():
        assert len(_payments(client, accountant, bill["unit_id"])) == 1
    unmatched = client.get("/api/statements/lines?status=unmatched", headers=accountant).json()
    assert unmatched["total"] == 1
    assert [i["amount"] for i in unmatched["items"]] == ["17.00"]
    listed = client.get("/api/statements", headers=accountant).json()
    assert listed["total"] == 2
    assert listed["items"][0]["outcomes"] == []


def test_an_unmatched_credit_is_matched_by_hand_once_or_dismissed(client: TestClient) -> None:
    bills = _issued_bills(client)
    data, picked = _statement(bills)
    accountant = auth(client, "accountant")
    assert _import(client, accountant, data).status_code == 201
    line = client.get("/api/statements/lines?status=unmatched", headers=accountant).json()["items"][0]
    other = next(b for b in bills if b["id"] not in {p["id"] for p in picked.values()})

    matched = client.post(
        f"/api/statements/lines/{line['id']}/match", json={"bill_id": other["id"]}, headers=accountant
    )
    assert matched.status_code == 200, matched.text
    assert (matched.json()["status"], matched.json()["rule"]) == ("matched", "manual")
    assert [Decimal(p["amount"]) for p in _payments(client, accountant, other["unit_id"])] == [Decimal("-17.00")]
    twice = client.post(f"/api/statements/lines/{line['id']}/match", json={"bill_id": other["id"]}, headers=accountant)
    assert (twice.status_code, twice.json()["code"]) == (409, "statement.line_resolved")
    assert len(_payments(client, accountant, other["unit_id"])) == 1
    dismissed = client.post(
        f"/api/statements/lines/{line['id']}/dismiss", json={"reason": "refund"}, headers=accountant
    )
    assert dismissed.status_code == 409
    # Imported again, the hand-matched line is already recorded.
    assert _import(client, accountant, data).json()["counts"]["already_recorded"] == 4


def test_dismissing_keeps_the_reason_and_takes_the_line_off_the_list(client: TestClient) -> None:
    bills = _issued_bills(client)
    data, _picked = _statement(bills)
    accountant = auth(client, "accountant")
    _import(client, accountant, data)
    line = client.get("/api/statements/lines?status=unmatched", headers=accountant).json()["items"][0]
    done = client.post(
        f"/api/statements/lines/{line['id']}/dismiss", json={"reason": "bank interest"}, headers=accountant
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["reason"]) == ("dismissed", "bank interest")
    assert client.get("/api/statements/lines?status=unmatched", headers=accountant).json()["total"] == 0
    missing = client.post("/api/statements/lines/999999/dismiss", json={"reason": "x"}, headers=accountant)
    assert (missing.status_code, missing.json()["code"]) == (404, "statement.line_not_found")


def test_a_draft_or_unknown_bill_takes_no_hand_match(client: TestClient) -> None:
    bills = _issued_bills(client)
    data, _picked = _statement(bills)
    accountant = auth(client, "accountant")
    _import(client, accountant, data)
    line = client.get("/api/statements/lines?status=unmatched", headers=accountant).json()["items"][0]
    unknown = client.post(f"/api/statements/lines/{line['id']}/match", json={"bill_id": 999999}, headers=accountant)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "bill.not_found")
    assert client.get("/api/statements/lines?status=unmatched", headers=accountant).json()["total"] == 1


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code", "words"),
    [
        (b"Name,Flat\nRavi,B17\n", "text/csv", 422, "statement.unreadable", "No header row names a date"),
        (b"Date,Narration,Credit\n", "text/csv", 422, "statement.unreadable", "no transaction lines"),
        (b"", "text/csv", 422, "import.empty_file", "empty"),
        (b"PK\x03\x04broken", "text/csv", 422, "statement.unreadable", "zip is damaged"),
        (b"\xff\xfeD\x00a\x00", "text/csv", 422, "import.unreadable", "not UTF-8"),
        (b"%PDF-1.4", "application/pdf", 415, "import.unsupported_type", "A statement takes"),
    ],
)
def test_a_malformed_statement_is_refused_with_a_message(
    client: TestClient, data: bytes, content_type: str, status: int, code: str, words: str
) -> None:
    response = _import(client, auth(client, "accountant"), data, content_type)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert words in response.json()["message"]


def test_a_statement_over_the_size_limit_is_413(client: TestClient) -> None:
    limit = client.app.state.context.settings.max_import_bytes  # type: ignore[attr-defined]
    response = _import(client, auth(client, "accountant"), b"Date,Credit\n" + b"0" * limit)
    assert (response.status_code, response.json()["code"]) == (413, "request.too_large")


def test_statements_are_the_accountants_and_admins(client: TestClient) -> None:
    for user, allowed in [("accountant", True), ("admin", True), ("supervisor", False), ("engineer1", False)]:
        status = client.get("/api/statements/lines", headers=auth(client, user)).status_code
        assert (status == 200) is allowed, (user, status)


def test_two_imports_of_one_statement_at_once_record_each_credit_once(client: TestClient) -> None:
    bills = _issued_bills(client)
    data, picked = _statement(bills)
    accountant = auth(client, "accountant")
    barrier = threading.Barrier(2)

    def send() -> int:
        barrier.wait()
        return int(_import(client, accountant, data).status_code)

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(lambda _: send(), range(2)))
    assert statuses == [201, 201]
    for bill in picked.values():
        assert len(_payments(client, accountant, bill["unit_id"])) == 1
    assert client.get("/api/statements/lines", headers=accountant).json()["total"] == 3
