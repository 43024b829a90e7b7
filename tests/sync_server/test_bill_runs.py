"""Bill runs per block and period, issuing, the ledger, payments and statuses, over the API."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sync_server.billing import runs
from sync_server.clock import FixedClock
from sync_server.scheduling.jobs import monthly_bill_runs
from tests.sync_server.factories import NOW, auth, finished_run, jpeg_bytes, meters_by_unit, push, reading, sha256

PERIOD = NOW.strftime("%Y-%m")  # the demo's "this month" follows the pinned clock


def _approve_walkthrough(client: TestClient) -> str:
    """engineer1 reads 5BHK-B17-FF at previous + 77 with a photo; the supervisor approves it."""
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["5BHK-B17-FF"]
    photo = jpeg_bytes()
    item = reading(meter, value=str(int(meter["previous"]["value"]) + 77), photo_sha256=sha256(photo))
    push(client, headers, [item])
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    return str(item["uuid"])


def _block_b(client: TestClient, headers: dict[str, str]) -> int:
    return next(b["id"] for b in client.get("/api/blocks", headers=headers).json()["items"] if b["code"] == "B")


def _run(client: TestClient, headers: dict[str, str], block_id: int) -> dict[str, Any]:
    started = client.post("/api/billing/runs", json={"block_id": block_id, "period": PERIOD}, headers=headers)
    assert started.status_code == 202, started.text
    run = finished_run(client, headers, started.json()["id"])
    assert run["status"] == "done", run
    return dict(run)


def test_bill_run_drafts_bills_and_is_idempotent(client: TestClient) -> None:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    first = _run(client, admin, block)
    assert first["processed"] == first["total_units"] == 12
    assert first["created"] == 4  # the motor's four flats read this month
    reasons = {s["unit"]: s["code"] for s in first["skipped"]}
    assert reasons["2BHK-B1-GF"] == "bill.no_approved_reading"
    drafts = client.get(f"/api/bills?period={PERIOD}&block_id={block}", headers=admin).json()["items"]
    assert {b["status"] for b in drafts} == {"draft"}
    assert {b["bill_number"] for b in drafts} == {None}
    walk = next(b for b in drafts if b["unit_code"] == "5BHK-B17-FF")
    assert Decimal(walk["payable"]) == Decimal("3711")

    again = _run(client, admin, block)
    assert again["created"] == 0
    assert sum(1 for s in again["skipped"] if s["code"] == "bill.already_billed") == 4
    after = client.get(f"/api/bills?period={PERIOD}&block_id={block}", headers=admin).json()["items"]
    assert sorted((b["unit_code"], b["payable"], b["lines"]) for b in after) == sorted(
        (b["unit_code"], b["payable"], b["lines"]) for b in drafts
    )


def test_bills_page_newest_first_and_search_unit_code_and_number(client: TestClient) -> None:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    run = _run(client, admin, _block_b(client, admin))
    assert run["created"] == 4
    first = client.get("/api/bills", params={"limit": 3}, headers=admin).json()
    second = client.get("/api/bills", params={"limit": 3, "offset": 3}, headers=admin).json()
    assert (first["total"], second["total"], len(first["items"]), len(second["items"])) == (4, 4, 3, 1)
    ids = [b["id"] for b in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first, no bill on both pages

    # Case-insensitive, anywhere in the code; the other three flats of the block are left out.
    found = client.get("/api/bills", params={"q": "b17-ff"}, headers=admin).json()
    assert (found["total"], [b["unit_code"] for b in found["items"]]) == (1, ["5BHK-B17-FF"])
    issued = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json()
    number = next(b["bill_number"] for b in issued if b["unit_code"] == "4BHK-B5-FF")
    by_number = client.get("/api/bills", params={"q": number}, headers=admin).json()
    assert [b["unit_code"] for b in by_number["items"]] == ["4BHK-B5-FF"]


def test_issue_numbers_consecutively_charges_ledger_and_is_final(client: TestClient) -> None:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    run = _run(client, admin, _block_b(client, admin))
    issued = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin)
    assert issued.status_code == 200, issued.text
    bills = issued.json()
    numbers = [b["bill_number"] for b in bills]
    assert [int(n.rsplit("/", 1)[1]) for n in numbers] == [1, 2, 3, 4]
    assert all(len(n) <= 16 for n in numbers)
    assert {b["status"] for b in bills} == {"issued"}
    walk = next(b for b in bills if b["unit_code"] == "5BHK-B17-FF")
    ledger = client.get(f"/api/accounts/{walk['unit_id']}/ledger", headers=admin).json()
    assert Decimal(ledger["balance"]) == Decimal("3711")
    assert [e["kind"] for e in ledger["entries"]] == ["charge"]

    # Issuing again makes nothing new: the same issued bills, with the same numbers.
    again = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin)
    assert again.status_code == 200
    assert [(b["id"], b["bill_number"]) for b in again.json()] == [(b["id"], b["bill_number"]) for b in bills]
    assert client.get(f"/api/bills/{walk['id']}", headers=admin).json()["bill_number"] == walk["bill_number"]


def test_payments_set_status_and_overpayment_is_a_credit(client: TestClient, clock: FixedClock) -> None:
    _approve_walkthrough(client)
    admin, accountant = auth(client, "admin"), auth(client, "accountant")
    run = _run(client, admin, _block_b(client, admin))
    bills = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json()
    walk = next(b for b in bills if b["unit_code"] == "5BHK-B17-FF")
    today = NOW.date().isoformat()

    part = client.post(
        "/api/payments",
        json={"unit_id": walk["unit_id"], "bill_id": walk["id"], "amount": "1000.00", "paid_on": today, "mode": "upi"},
        headers=accountant,
    )
    assert part.status_code == 201, part.text
    assert Decimal(part.json()["balance"]) == Decimal("2711.00")
    assert client.get(f"/api/bills/{walk['id']}", headers=accountant).json()["status"] == "partly_paid"

    extra = client.post(
        "/api/payments",
        json={"unit_id": walk["unit_id"], "amount": "3000.00", "paid_on": today, "mode": "cash"},
        headers=accountant,
    )
    assert extra.status_code == 201
    assert Decimal(extra.json()["balance"]) == Decimal("-289.00")  # a credit, never lost
    assert client.get(f"/api/bills/{walk['id']}", headers=accountant).json()["status"] == "paid"

    # Another flat leaves its bill unpaid past the due date: overdue on the next refresh.
    clock.advance(timedelta(days=16))
    accountant = auth(client, "accountant")  # sixteen days on, a new sign-in
    refreshed = client.post("/api/billing/statuses/refresh", headers=accountant)
    assert refreshed.json()["changed"] == 3
    statuses = {b["unit_code"]: b["status"] for b in client.get("/api/bills", headers=accountant).json()["items"]}
    assert statuses["5BHK-B17-FF"] == "paid"
    assert statuses["4BHK-B5-FF"] == "overdue"


def test_payment_refused_for_non_positive_amount(client: TestClient) -> None:
    accountant = auth(client, "accountant")
    unit_id = client.get("/api/units", headers=auth(client, "admin")).json()["items"][0]["id"]
    response = client.post(
        "/api/payments",
        json={"unit_id": unit_id, "amount": "-5", "paid_on": NOW.date().isoformat(), "mode": "cash"},
        headers=accountant,
    )
    assert response.status_code == 422


def test_closed_period_takes_no_run(client: TestClient) -> None:
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    closed = client.post("/api/billing/periods/close", json={"block_id": block, "period": PERIOD}, headers=admin)
    assert closed.status_code == 201
    assert (closed.json()["block_id"], closed.json()["period"]) == (block, PERIOD)
    refused = client.post("/api/billing/runs", json={"block_id": block, "period": PERIOD}, headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "billing.period_closed")


def test_run_for_a_malformed_period_is_422(client: TestClient) -> None:
    admin = auth(client, "admin")
    response = client.post("/api/billing/runs", json={"block_id": 1, "period": "2025-13"}, headers=admin)
    assert response.status_code == 422


def _issued_block_b(client: TestClient) -> list[dict[str, Any]]:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    run = _run(client, admin, _block_b(client, admin))
    return list(client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json())


def test_credit_note_corrects_an_issued_bill_which_stays_unchanged(client: TestClient) -> None:
    walk = next(b for b in _issued_block_b(client) if b["unit_code"] == "5BHK-B17-FF")
    admin = auth(client, "admin")
    note = client.post(
        f"/api/bills/{walk['id']}/notes",
        json={"kind": "credit", "amount": "111.00", "reason": "meter misread"},
        headers=admin,
    )
    assert note.status_code == 201, note.text
    assert Decimal(note.json()["balance"]) == Decimal("3600.00")
    bill = client.get(f"/api/bills/{walk['id']}", headers=admin).json()
    assert (bill["payable"], bill["lines"]) == (walk["payable"], walk["lines"])
    kinds = [e["kind"] for e in client.get(f"/api/accounts/{walk['unit_id']}/ledger", headers=admin).json()["entries"]]
    assert kinds == ["charge", "credit_note"]


def test_note_on_a_draft_is_refused(client: TestClient) -> None:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    _run(client, admin, _block_b(client, admin))
    draft = client.get("/api/bills?status=draft", headers=admin).json()["items"][0]
    refused = client.post(
        f"/api/bills/{draft['id']}/notes", json={"kind": "debit", "amount": "5", "reason": "x"}, headers=admin
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "bill.not_issued")


def test_bulk_mark_paid_records_payments_and_skips_paid_ones(client: TestClient) -> None:
    bills = _issued_block_b(client)
    accountant = auth(client, "accountant")
    ids = [b["id"] for b in bills]
    today = NOW.date().isoformat()
    first = client.post(
        "/api/bills/mark-paid", json={"bill_ids": ids, "paid_on": today, "mode": "bank"}, headers=accountant
    ).json()
    assert sorted(first["paid"]) == sorted(ids)
    statuses = {b["status"] for b in client.get("/api/bills", headers=accountant).json()["items"]}
    assert statuses == {"paid"}
    again = client.post(
        "/api/bills/mark-paid", json={"bill_ids": ids, "paid_on": today, "mode": "bank"}, headers=accountant
    ).json()
    assert again["paid"] == []
    assert {s["code"] for s in again["skipped"]} == {"bill.nothing_owed"}


@pytest.mark.parametrize("flagged_at_push", [True, False], ids=["flagged-at-push", "flag-lost"])
def test_a_reading_below_the_previous_is_not_billed_and_is_flagged_below_previous(
    client: TestClient, flagged_at_push: bool
) -> None:
    from sqlmodel import Session, delete

    from sync_server.models import ReadingFlagRecord

    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["4BHK-B5-GF"]  # not on the motor: billed on its own
    photo = jpeg_bytes()
    item = reading(meter, value=str(int(meter["previous"]["value"]) - 40), photo_sha256=sha256(photo))
    [result] = push(client, headers, [item])
    assert "below_previous" in result["flags"]
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    if not flagged_at_push:  # the run flags what it refuses on its own, not only what the push saw
        with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
            session.exec(delete(ReadingFlagRecord))
            session.commit()
    admin = auth(client, "admin")
    run = _run(client, admin, _block_b(client, admin))
    assert {"unit": "4BHK-B5-GF", "code": "reading.below_previous"} in [
        {"unit": s["unit"], "code": s["code"]} for s in run["skipped"]
    ]
    flags = client.get(f"/api/review/readings/{item['uuid']}", headers=admin).json()["flags"]
    assert flags.count("below_previous") == 1  # one name, flagged once
    assert all(b["unit_code"] != "4BHK-B5-GF" for b in client.get("/api/bills", headers=admin).json()["items"])


def test_issuing_an_issued_bill_is_refused(client: TestClient) -> None:
    from sqlmodel import Session

    from sync_server.billing.issue import issue_bill
    from sync_server.models import Bill, User
    from sync_server.problems import Problem

    walk = next(b for b in _issued_block_b(client) if b["unit_code"] == "5BHK-B17-FF")
    context = client.app.state.context  # type: ignore[attr-defined]
    with Session(context.engine) as session:
        bill = session.get(Bill, walk["id"])
        admin = session.get(User, 4)
        assert bill is not None
        assert admin is not None
        with pytest.raises(Problem) as refused:
            issue_bill(session, bill, actor=admin, now=context.clock(), settings=context.settings)
    assert (refused.value.status, refused.value.code) == (409, "bill.already_issued")


def test_paying_20_days_late_adds_the_surcharge_on_principal(client: TestClient) -> None:
    walk = next(b for b in _issued_block_b(client) if b["unit_code"] == "5BHK-B17-FF")
    accountant = auth(client, "accountant")
    from datetime import date

    paid_on = (date.fromisoformat(walk["due_on"]) + timedelta(days=20)).isoformat()
    paid = client.post(
        "/api/payments",
        json={
            "unit_id": walk["unit_id"],
            "bill_id": walk["id"],
            "amount": "3711.00",
            "paid_on": paid_on,
            "mode": "upi",
        },
        headers=accountant,
    )
    assert paid.status_code == 201, paid.text
    assert Decimal(paid.json()["balance"]) == Decimal("36.60")  # docs/domain.md: ₹3711.00 paid 20 days late
    entries = client.get(f"/api/accounts/{walk['unit_id']}/ledger", headers=accountant).json()["entries"]
    assert [(e["kind"], e["amount"]) for e in entries] == [
        ("charge", "3711.00"),
        ("payment", "-3711.00"),
        ("late_fee", "36.60"),
    ]


def test_paying_on_time_adds_no_surcharge(client: TestClient) -> None:
    walk = next(b for b in _issued_block_b(client) if b["unit_code"] == "5BHK-B17-FF")
    paid = client.post(
        "/api/payments",
        json={
            "unit_id": walk["unit_id"],
            "bill_id": walk["id"],
            "amount": "3711.00",
            "paid_on": walk["due_on"],
            "mode": "cash",
        },
        headers=auth(client, "accountant"),
    )
    assert Decimal(paid.json()["balance"]) == Decimal("0.00")


def test_server_marks_overdue_bills_by_itself(client: TestClient, clock: FixedClock) -> None:
    from sync_server.housekeeping import refresh_bill_statuses

    _issued_block_b(client)
    clock.advance(timedelta(days=16))
    assert refresh_bill_statuses(client.app.state.context) == 4  # type: ignore[attr-defined]
    statuses = {b["status"] for b in client.get("/api/bills", headers=auth(client, "accountant")).json()["items"]}
    assert statuses == {"overdue"}


def test_a_run_is_answered_before_it_drafts_so_an_in_process_caller_sees_progress(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser console calls the API in-process (httpx's ASGI transport, which waits for the app's whole call):
    the start must not wait for the drafting, or its progress bar would only ever show the end."""
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    release = threading.Event()
    draft_one = runs._draft_one

    def held(*args: Any, **kwargs: Any) -> None:
        assert release.wait(60), "the test never let the run go on"
        draft_one(*args, **kwargs)

    monkeypatch.setattr(runs, "_draft_one", held)

    async def start() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.local", timeout=60) as http:
            answer = await http.post("/api/billing/runs", json={"block_id": block, "period": PERIOD}, headers=admin)
            assert answer.status_code == 202, answer.text
            return dict(answer.json())

    try:
        started = asyncio.run(start())
        assert (started["status"], started["processed"]) == ("running", 0)
        assert client.get(f"/api/billing/runs/{started['id']}", headers=admin).json()["status"] == "running"
    finally:
        release.set()
    run = finished_run(client, admin, started["id"])
    assert (run["status"], run["processed"]) == ("done", run["total_units"])


# --- Listing runs: the month's scheduled drafts found, reviewed and issued ---

# 1 December 2025, 00:30 in India: when the schedule drafts November's runs (docs/operations.md "Schedules").
SCHEDULED_AT = datetime(2025, 11, 30, 19, 0, tzinfo=UTC)


def _scheduled_runs(client: TestClient) -> None:
    """November's runs of every block, started as the schedule starts them (its built-in account, its instant)."""
    outcome = monthly_bill_runs(client.app.state.context, SCHEDULED_AT)  # type: ignore[attr-defined]
    assert outcome.status == "ok", outcome


def _listed(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get("/api/billing/runs", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_runs_list_newest_first_with_block_starter_and_drafts_left(client: TestClient) -> None:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    by_hand = _run(client, admin, block)
    _scheduled_runs(client)

    listed = _listed(client, admin, period=PERIOD)
    runs = listed["items"]
    assert listed["total"] == 5
    # The schedule started its four at 00:30 on the 1st, blocks in code order; the admin's run is older.
    assert [(r["block_code"], r["started_by"]) for r in runs] == [
        ("V", None),
        ("S", None),
        ("C", None),
        ("B", None),
        ("B", "admin"),
    ]
    assert runs[-1]["id"] == by_hand["id"]
    assert (runs[-1]["created"], runs[-1]["drafts"]) == (4, 4)
    assert {r["drafts"] for r in runs[:-1]} == {0}  # B's flats were drafted by the admin's run already
    assert datetime.fromisoformat(runs[0]["started_at"]) == SCHEDULED_AT
    single = client.get(f"/api/billing/runs/{by_hand['id']}", headers=admin).json()
    assert single == runs[-1]  # one answer for a run, listed or fetched

    issued = client.post(f"/api/billing/runs/{by_hand['id']}/issue", headers=admin).json()
    assert len(issued) == 4
    assert _listed(client, admin, block_id=block, period=PERIOD)["items"][-1]["drafts"] == 0


def test_runs_list_filters_and_pages(client: TestClient) -> None:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    _run(client, admin, block)
    _scheduled_runs(client)

    of_b = _listed(client, admin, block_id=block)
    assert (of_b["total"], {r["block_code"] for r in of_b["items"]}) == (2, {"B"})
    assert _listed(client, admin, status="done", period=PERIOD)["total"] == 5
    assert _listed(client, admin, status="running")["total"] == 0
    assert _listed(client, admin, period="2025-10")["total"] == 0
    # q looks in the block's code and name, case-insensitive.
    assert [r["block_code"] for r in _listed(client, admin, q="VILL")["items"]] == ["V"]
    assert [r["block_code"] for r in _listed(client, admin, q="block c")["items"]] == ["C"]

    first = _listed(client, admin, limit=2)
    second = _listed(client, admin, limit=2, offset=2)
    third = _listed(client, admin, limit=2, offset=4)
    pages = [first, second, third]
    assert [(p["total"], len(p["items"])) for p in pages] == [(5, 2), (5, 2), (5, 1)]
    ids = [r["id"] for p in pages for r in p["items"]]
    assert ids == [r["id"] for r in _listed(client, admin)["items"]]  # no run on two pages, none left out


def test_runs_list_is_for_admins_and_accountants(client: TestClient) -> None:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    _run(client, admin, _block_b(client, admin))
    assert _listed(client, auth(client, "accountant"), period=PERIOD)["total"] == 1
    for name in ("engineer1", "supervisor"):
        refused = client.get("/api/billing/runs", headers=auth(client, name))
        assert (refused.status_code, refused.json()["code"]) == (403, "auth.forbidden")


@pytest.mark.parametrize(
    "params", [{"period": "2025-13"}, {"period": "Nov"}, {"status": "pending"}, {"block_id": 0}, {"limit": 0}]
)
def test_runs_list_refuses_malformed_filters(client: TestClient, params: dict[str, Any]) -> None:
    answer = client.get("/api/billing/runs", params=params, headers=auth(client, "admin"))
    assert answer.status_code == 422, answer.text
