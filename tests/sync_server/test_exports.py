"""Exports for the office (issue 13): a month's bills, payments, ledger and readings as CSV and XLSX that open with
the csv module and openpyxl and add up to the database's totals, and the Tally import file: its envelope, one
voucher per issued bill and per payment, each balanced, worth what the bills and payments are."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, col, select

from sync_server.exports.tables import Table
from sync_server.exports.writers import csv_chunks
from sync_server.models import Bill, BillStatus, LedgerEntry, Payment, Reading
from sync_server.periods import month_days
from tests.sync_server.factories import NOW, auth
from tests.sync_server.test_bill_runs import PERIOD, _issued_block_b


def _paid(client: TestClient) -> list[dict[str, Any]]:
    """Block B's bills issued, then two payments: UPI against the walk-through flat's bill, cash on account."""
    bills = _issued_block_b(client)
    walk = next(bill for bill in bills if bill["unit_code"] == "5BHK-B17-FF")
    other = next(bill for bill in bills if bill["unit_code"] != "5BHK-B17-FF")
    accountant = auth(client, "accountant")
    today = NOW.date().isoformat()
    for body in (
        {"unit_id": walk["unit_id"], "bill_id": walk["id"], "amount": "1000.00", "paid_on": today, "mode": "upi",
         "reference": "UTR123"},
        {"unit_id": other["unit_id"], "amount": "500.50", "paid_on": today, "mode": "cash"},
    ):  # fmt: skip
        answer = client.post("/api/payments", json=body, headers=accountant)
        assert answer.status_code == 201, answer.text
    return bills


def _get(client: TestClient, path: str, user: str = "accountant", **params: Any) -> Any:
    answer = client.get(f"/api/exports/{path}", params={"period": PERIOD, **params}, headers=auth(client, user))
    assert answer.status_code == 200, answer.text
    return answer


def _csv(client: TestClient, dataset: str, **params: Any) -> list[dict[str, str]]:
    answer = _get(client, f"{dataset}.csv", **params)
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def _xlsx(client: TestClient, dataset: str) -> list[dict[str, Any]]:
    sheet = load_workbook(io.BytesIO(_get(client, f"{dataset}.xlsx").content), read_only=True).active
    assert sheet is not None
    header, *rows = list(sheet.iter_rows(values_only=True))
    # A write-only sheet leaves trailing empty cells out of a row: pad it to the header.
    return [
        dict(zip([str(name) for name in header], (*row, *[None] * (len(header) - len(row))), strict=True))
        for row in rows
    ]


def _db(client: TestClient) -> Session:
    return Session(client.app.state.context.engine)  # type: ignore[attr-defined]


def test_sheets_add_up_to_the_bills_payments_and_ledger(client: TestClient) -> None:
    _paid(client)
    first, after = month_days(PERIOD)
    with _db(client) as session:
        charges = session.exec(select(func.sum(Bill.charges)).where(Bill.period == PERIOD)).one()
        bills = session.exec(select(func.count()).select_from(Bill).where(Bill.period == PERIOD)).one()
        paid = session.exec(
            select(func.sum(Payment.amount)).where(col(Payment.paid_on) >= first, col(Payment.paid_on) < after)
        ).one()
        booked = session.exec(
            select(func.sum(LedgerEntry.amount)).where(
                col(LedgerEntry.booked_on) >= first, col(LedgerEntry.booked_on) < after
            )
        ).one()
        readings = session.exec(select(func.count()).select_from(Reading).where(Reading.period == PERIOD)).one()
    assert charges > 0
    assert paid == Decimal("1500.50")

    bill_rows = _csv(client, "bills")
    assert len(bill_rows) == bills
    assert sum(Decimal(row["charges"]) for row in bill_rows) == charges
    assert {row["status"] for row in bill_rows} <= {status.value for status in BillStatus}
    bill_sheet = _xlsx(client, "bills")
    assert sum(Decimal(str(row["charges"])) for row in bill_sheet) == charges
    assert [row["bill number"] for row in bill_sheet] == [row["bill number"] or None for row in bill_rows]

    assert sum(Decimal(row["amount"]) for row in _csv(client, "payments")) == paid
    assert sum(Decimal(str(row["amount"])) for row in _xlsx(client, "payments")) == paid
    assert sum(Decimal(row["amount"]) for row in _csv(client, "ledger")) == booked
    assert sum(Decimal(str(row["amount"])) for row in _xlsx(client, "ledger")) == booked
    assert len(_csv(client, "readings")) == len(_xlsx(client, "readings")) == readings

    blocks = {
        block["code"]: block["id"] for block in client.get("/api/blocks", headers=auth(client, "admin")).json()["items"]
    }
    only_b = _csv(client, "bills", block_id=blocks["B"])
    assert only_b
    assert {row["block"] for row in only_b} == {"B"}
    other = next(block_id for code, block_id in blocks.items() if code != "B")
    assert _csv(client, "bills", block_id=other) == []  # only block B was billed


def _amounts(voucher: ET.Element) -> list[Decimal]:
    return [Decimal(entry.findtext("AMOUNT") or "") for entry in voucher.findall("ALLLEDGERENTRIES.LIST")]


def test_tally_vouchers_balance_and_match_the_bills_and_payments(client: TestClient) -> None:
    issued = _paid(client)
    answer = _get(client, "tally.xml")
    assert answer.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(answer.content)
    assert root.tag == "ENVELOPE"
    assert root.findtext("HEADER/TALLYREQUEST") == "Import Data"
    assert root.findtext("BODY/IMPORTDATA/REQUESTDESC/REPORTNAME") == "Vouchers"
    vouchers = root.findall("BODY/IMPORTDATA/REQUESTDATA/TALLYMESSAGE/VOUCHER")
    sales = [voucher for voucher in vouchers if voucher.get("VCHTYPE") == "Sales"]
    receipts = [voucher for voucher in vouchers if voucher.get("VCHTYPE") == "Receipt"]
    assert len(vouchers) == len(sales) + len(receipts)

    for voucher in vouchers:
        assert sum(_amounts(voucher)) == 0, ET.tostring(voucher)  # debits equal credits
        assert voucher.findtext("VOUCHERTYPENAME") == voucher.get("VCHTYPE")
    by_number = {voucher.findtext("VOUCHERNUMBER"): voucher for voucher in sales}
    assert set(by_number) == {bill["bill_number"] for bill in issued}
    for bill in issued:
        voucher = by_number[bill["bill_number"]]
        debit, credit = voucher.findall("ALLLEDGERENTRIES.LIST")
        assert debit.findtext("LEDGERNAME") == voucher.findtext("PARTYLEDGERNAME") == bill["unit_code"]
        assert (debit.findtext("ISDEEMEDPOSITIVE"), Decimal(debit.findtext("AMOUNT") or "")) == (
            "Yes",
            -Decimal(bill["charges"]),
        )
        assert (credit.findtext("LEDGERNAME"), credit.findtext("ISDEEMEDPOSITIVE")) == ("Electricity Charges", "No")
        assert voucher.findtext("DATE") == NOW.astimezone(client.app.state.context.settings.tz).strftime("%Y%m%d")  # type: ignore[attr-defined]

    received = sorted(
        (entry.findtext("LEDGERNAME"), -amount)
        for voucher in receipts
        for entry, amount in zip(voucher.findall("ALLLEDGERENTRIES.LIST"), _amounts(voucher), strict=True)
        if amount < 0  # the debit: the bank or the cash ledger
    )
    assert received == [("Bank Account", Decimal("1000.00")), ("Cash", Decimal("500.50"))]


def test_exports_are_the_office_s_and_check_their_input(client: TestClient) -> None:
    for user in ("engineer1", "supervisor"):
        for path in ("bills.csv", "ledger.xlsx", "tally.xml"):
            answer = client.get(f"/api/exports/{path}", params={"period": PERIOD}, headers=auth(client, user))
            assert answer.status_code == 403, (user, path)
    admin = auth(client, "admin")
    assert client.get("/api/exports/bills.csv", params={"period": "2025-13"}, headers=admin).status_code == 422
    assert client.get("/api/exports/bills.csv", headers=admin).status_code == 422  # the month is required
    assert client.get("/api/exports/meters.csv", params={"period": PERIOD}, headers=admin).status_code == 422
    assert client.get("/api/exports/bills.pdf", params={"period": PERIOD}, headers=admin).status_code == 422
    assert client.get("/api/exports/bills.csv", params={"period": PERIOD}).status_code == 401


def _rows(count: int) -> Iterator[tuple[Any, ...]]:
    for index in range(count):
        yield (index, Decimal(index) / 100, "₹ " + "x" * 20)


def test_a_large_csv_is_written_in_chunks_not_at_once() -> None:
    chunks = list(csv_chunks(Table("big", ("n", "amount", "text"), _rows(5000))))
    assert len(chunks) > 20
    text = b"".join(chunks).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["n", "amount", "text"]
    assert len(rows) == 5001
    assert sum(Decimal(row[1]) for row in rows[1:]) == sum(Decimal(index) / 100 for index in range(5000))


def test_a_signed_link_downloads_the_same_file_without_the_bearer_header(client: TestClient) -> None:
    bills = _paid(client)
    accountant = auth(client, "accountant")
    for file in ("bills.csv", "ledger.xlsx", "tally.xml"):
        link = client.post("/api/exports/link", json={"file": file, "period": PERIOD}, headers=accountant)
        assert link.status_code == 200, link.text
        url = link.json()["url"]
        assert url.startswith("/api/exports/files/")
        by_link = client.get(url)  # no Authorization header: the link is the authorization
        assert by_link.status_code == 200, by_link.text
        direct = _get(client, file)
        assert by_link.headers["content-type"] == direct.headers["content-type"]
        if file.endswith(".xlsx"):  # a fresh workbook each time: compare what it holds
            assert _sheet_rows(by_link.content) == _sheet_rows(direct.content)
        else:
            assert by_link.content == direct.content
    block = client.post(
        "/api/exports/link", json={"file": "bills.csv", "period": PERIOD, "block_id": bills[0]["block_id"]},
        headers=accountant,
    ).json()["url"]  # fmt: skip
    assert client.get(block).headers["content-disposition"].endswith(f'-block{bills[0]["block_id"]}.csv"')

    assert (
        client.post(
            "/api/exports/link", json={"file": "bills.csv", "period": PERIOD}, headers=auth(client, "engineer1")
        ).status_code
        == 403
    )
    assert (
        client.post("/api/exports/link", json={"file": "bills.pdf", "period": PERIOD}, headers=accountant).status_code
        == 422
    )
    assert client.get("/api/exports/files/not-a-token").status_code == 404
    pdf_link = client.post(f"/api/bills/{bills[0]['id']}/pdf-link", headers=accountant).json()["url"]
    token = pdf_link.rsplit("/", 1)[1]
    assert (
        client.get(f"/api/exports/files/{token}").json()["code"] == "download.invalid"
    )  # a bill's link opens no export


def _sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))
