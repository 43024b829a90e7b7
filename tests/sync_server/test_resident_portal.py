"""Residents (docs/residents.md): two units of block B billed for November 2025, a resident of each, created by the
admin over the API. Each sees their own account, issued bills, PDFs, payments and consumption, nothing of the other
unit's (another unit's bill id is 404, as a missing one), never a draft; every route but their own refuses them.
SQLite and PostgreSQL (the ``client`` fixture).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from sync_server.clock import FixedClock
from sync_server.models import Bill, Unit, User
from tests.sync_server.factories import auth, jpeg_bytes, meters_by_unit, push, reading, sha256
from tests.sync_server.test_bill_history import _earlier_bill, _energy
from tests.sync_server.test_bill_runs import _block_b, _run

FLAT = "5BHK-B17-FF"
PASSWORD = "resident-pass-1"


def _bill_block_b(client: TestClient) -> dict[str, dict[str, Any]]:
    """The flat read at previous + 77 and approved; block B run and issued: the issued bills by unit code."""
    engineer = auth(client, "engineer1")
    meter = meters_by_unit(client, engineer)[FLAT]
    photo = jpeg_bytes()
    item = reading(meter, value=str(int(meter["previous"]["value"]) + 77), photo_sha256=sha256(photo))
    push(client, engineer, [item])
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    admin = auth(client, "admin")
    run = _run(client, admin, _block_b(client, admin))
    issued = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json()
    return {bill["unit_code"]: bill for bill in issued}


def _create_resident(client: TestClient, username: str, unit_id: int) -> dict[str, Any]:
    body = {"username": username, "full_name": username.title(), "role": "resident", "password": "temporary-pass-1"}
    created = client.post("/api/users", json=body | {"unit_id": unit_id}, headers=auth(client, "admin"))
    assert created.status_code == 201, created.text
    return dict(created.json())


def _sign_in_resident(client: TestClient, username: str) -> dict[str, str]:
    """First sign-in with the admin's temporary password, then the resident's own (required before anything)."""
    login = {"username": username, "password": "temporary-pass-1", "device_id": "browser"}
    pair = client.post("/api/auth/login", json=login).json()
    assert pair["role"] == "resident"
    assert pair["password_change_required"] is True
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/me/account", headers=headers).json()["code"] == "auth.password_change_required"
    change = {"current_password": "temporary-pass-1", "new_password": PASSWORD}
    assert client.post("/api/auth/password", json=change, headers=headers).status_code == 204
    return headers


@pytest.fixture
def society(client: TestClient) -> dict[str, Any]:
    """Two units with issued bills, a resident of each, a payment on each, and a draft of the flat's next month."""
    bills = _bill_block_b(client)
    other = next(code for code in sorted(bills) if code != FLAT)
    accountant = auth(client, "accountant")
    for code, amount in ((FLAT, "1000.00"), (other, "250.00")):
        bill = bills[code]
        paid = {"unit_id": bill["unit_id"], "bill_id": bill["id"], "amount": amount, "paid_on": "2025-11-21"}
        assert client.post("/api/payments", json=paid | {"mode": "upi"}, headers=accountant).status_code == 201
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        flat = session.exec(select(Unit).where(Unit.code == FLAT)).one()
        draft = _earlier_bill(session, flat, "2025-12", _energy("10"), None)
        session.add(draft)
        session.commit()
        draft_id = draft.id
    _create_resident(client, "asha", bills[FLAT]["unit_id"])
    _create_resident(client, "bilal", bills[other]["unit_id"])
    return {
        "bills": bills,
        "other": other,
        "draft_id": draft_id,
        "asha": _sign_in_resident(client, "asha"),
        "bilal": _sign_in_resident(client, "bilal"),
    }


def test_each_resident_sees_their_own_account_bills_and_payments(client: TestClient, society: dict[str, Any]) -> None:
    bills, other = society["bills"], society["other"]
    admin = auth(client, "admin")
    for who, code, paid in (("asha", FLAT, "1000.00"), ("bilal", other, "250.00")):
        headers = society[who]
        bill = bills[code]
        account = client.get("/api/me/account", headers=headers).json()
        ledger = client.get(f"/api/accounts/{bill['unit_id']}/ledger", headers=admin).json()
        assert (account["unit_id"], account["unit_code"], account["block_code"]) == (bill["unit_id"], code, "B")
        assert Decimal(account["balance"]) == Decimal(ledger["balance"])  # the ledger's balance, not another sum
        assert account["overdue"] is False
        listed = client.get("/api/me/bills", headers=headers).json()
        assert [b["id"] for b in listed["items"]] == [bill["id"]]
        assert listed["total"] == 1
        payments = client.get("/api/me/payments", headers=headers).json()["items"]
        assert [(p["bill_number"], p["amount"], p["mode"]) for p in payments] == [(bill["bill_number"], paid, "upi")]
        one = client.get(f"/api/me/bills/{bill['id']}", headers=headers).json()
        assert one["history"] == client.get(f"/api/bills/{bill['id']}", headers=admin).json()["history"]


def test_the_consumption_is_the_bills_history_over_twelve_months(client: TestClient, society: dict[str, Any]) -> None:
    months = client.get("/api/me/consumption", headers=society["asha"]).json()["months"]
    assert [m["period"] for m in months][-2:] == ["2025-10", "2025-11"]
    assert len(months) == 12
    assert months[-1]["units"] == "77"
    assert all(m["units"] is None for m in months[:-1])  # no earlier issued bill; the December draft is not one
    three = client.get("/api/me/consumption?months=3", headers=society["asha"]).json()["months"]
    assert [m["period"] for m in three] == ["2025-09", "2025-10", "2025-11"]
    assert client.get("/api/me/consumption?months=37", headers=society["asha"]).status_code == 422


def test_another_units_bill_and_a_draft_are_404_as_a_missing_bill(client: TestClient, society: dict[str, Any]) -> None:
    theirs = society["bills"][society["other"]]["id"]
    for bill_id in (theirs, society["draft_id"], 999999):
        for method, path in (
            ("GET", f"/api/me/bills/{bill_id}"),
            ("GET", f"/api/me/bills/{bill_id}/pdf"),
            ("POST", f"/api/me/bills/{bill_id}/pdf-link"),
        ):
            answer = client.request(method, path, headers=society["asha"])
            assert (answer.status_code, answer.json()["code"]) == (404, "bill.not_found"), path
    listed = client.get("/api/me/bills", headers=society["asha"]).json()["items"]
    assert society["draft_id"] not in [b["id"] for b in listed]


def test_a_resident_downloads_their_own_pdf(client: TestClient, society: dict[str, Any]) -> None:
    bill = society["bills"][FLAT]
    pdf = client.get(f"/api/me/bills/{bill['id']}/pdf", headers=society["asha"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    link = client.post(f"/api/me/bills/{bill['id']}/pdf-link", headers=society["asha"]).json()["url"]
    assert client.get(link).content.startswith(b"%PDF")


def test_the_resident_is_refused_on_every_other_route(client: TestClient, society: dict[str, Any]) -> None:
    bill = society["bills"][FLAT]
    for method, path in (
        ("GET", "/api/bills"),
        ("GET", "/api/bills/{own}"),
        ("POST", "/api/bills/{own}/pdf-link"),
        ("GET", "/api/accounts/{unit}/ledger"),
        ("GET", "/api/users"),
        ("GET", "/api/units"),
        ("GET", "/api/reports/consumption"),
        ("POST", "/api/payments"),
    ):
        url = path.format(own=bill["id"], unit=bill["unit_id"])
        answer = client.request(method, url, headers=society["asha"], json={})
        assert (answer.status_code, answer.json()["code"]) == (403, "auth.forbidden"), url
    for who in ("admin", "accountant"):  # and the residents' routes are theirs alone
        assert client.get("/api/me/account", headers=auth(client, who)).status_code == 403


def test_an_overdue_bill_shows_on_the_account(client: TestClient, society: dict[str, Any], clock: FixedClock) -> None:
    # bilal paid ₹250 of his bill: once its due date has passed the rest is overdue (the ledger's status rule).
    bill = society["bills"][society["other"]]
    assert Decimal(bill["payable"]) > Decimal("250.00")
    clock.advance(timedelta(days=30))
    login = {"username": "bilal", "password": PASSWORD, "device_id": "browser"}  # the access token expired
    token = client.post("/api/auth/login", json=login).json()["access_token"]
    account = client.get("/api/me/account", headers={"Authorization": f"Bearer {token}"}).json()
    assert (account["overdue"], account["overdue_since"]) == (True, bill["due_on"])
    assert Decimal(account["balance"]) > 0


def test_the_admin_links_a_resident_to_an_existing_unit_and_staff_to_none(client: TestClient) -> None:
    admin = auth(client, "admin")
    base = {"full_name": "R", "password": "temporary-pass-1"}
    refused: list[tuple[dict[str, Any], str]] = [
        ({"username": "res1", "role": "resident"}, "user.unit_required"),
        ({"username": "res2", "role": "resident", "unit_id": 999999}, "request.unknown_reference"),
        ({"username": "eng3", "role": "engineer", "unit_id": 1}, "user.unit_for_staff"),
    ]
    for body, code in refused:
        answer = client.post("/api/users", json=base | body, headers=admin)
        assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text
        assert answer.json()["details"]["field"] == "unit_id", answer.text
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        unit = session.exec(select(Unit).where(Unit.code == FLAT)).one()
        assert session.exec(select(Bill).where(Bill.unit_id == unit.id)).first() is None
    created = _create_resident(client, "chitra", unit.id or 0)
    assert (created["role"], created["unit_id"], created["unit_code"]) == ("resident", unit.id, FLAT)
    listed = client.get("/api/users?role=resident", headers=admin).json()["items"]
    assert [(u["username"], u["unit_code"]) for u in listed] == [("chitra", FLAT)]
    headers = _sign_in_resident(client, "chitra")
    assert client.get("/api/me/bills", headers=headers).json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert client.get("/api/me/account", headers=headers).json()["balance"] == "0.00"


def test_the_database_refuses_a_unit_on_a_staff_account(client: TestClient) -> None:
    """Migration 0021's check: only a resident's account carries a unit, whatever code writes the row."""
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        unit = session.exec(select(Unit).where(Unit.code == FLAT)).one()
        engineer = session.exec(select(User).where(User.username == "engineer1")).one()
        engineer.unit_id = unit.id
        session.add(engineer)
        with pytest.raises(IntegrityError):
            session.commit()
