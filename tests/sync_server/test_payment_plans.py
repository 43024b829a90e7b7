"""Payment plans on the server (docs/domain.md "Payment plans"): while a plan is on track the bills it covers are
not overdue; a missed instalment makes them overdue again, a payment puts the plan back on track, cancelling ends
it. The clock is pinned and moved across the instalments' days and a month's end. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from shared_billing.payment_plans import plan_instalments
from sync_server.clock import FixedClock
from tests.sync_server.factories import NOW, auth
from tests.sync_server.test_bill_runs import _issued_block_b


def _statuses(client: TestClient) -> dict[str, str]:
    accountant = auth(client, "accountant")
    assert client.post("/api/billing/statuses/refresh", headers=accountant).status_code == 200
    return {b["unit_code"]: b["status"] for b in client.get("/api/bills", headers=accountant).json()["items"]}


def _plans(client: TestClient, unit_id: int) -> list[dict[str, Any]]:
    answer = client.get(f"/api/units/{unit_id}/payment-plans", headers=auth(client, "accountant"))
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_a_plan_on_track_keeps_its_bills_from_overdue_and_a_missed_instalment_does_not(
    client: TestClient, clock: FixedClock
) -> None:
    bills = _issued_block_b(client)
    walk = next(b for b in bills if b["unit_code"] == "5BHK-B17-FF")
    other = next(b for b in bills if b["unit_code"] != "5BHK-B17-FF")
    accountant = auth(client, "accountant")
    due_on = date.fromisoformat(walk["due_on"])
    first_due = due_on + timedelta(days=10)
    made = client.post(
        f"/api/units/{walk['unit_id']}/payment-plans",
        json={"instalments": 3, "first_due_on": first_due.isoformat()},
        headers=accountant,
    )
    assert made.status_code == 201, made.text
    plan = made.json()
    assert Decimal(plan["total"]) == Decimal(walk["payable"])
    assert sum(Decimal(i["amount"]) for i in plan["instalments"]) == Decimal(plan["total"])
    expected = plan_instalments(Decimal(plan["total"]), 3, first_due)
    assert [(i["due_on"], Decimal(i["amount"])) for i in plan["instalments"]] == [
        (i.due_on.isoformat(), i.amount) for i in expected
    ]
    assert (plan["standing"], plan["next_due_on"]) == ("on_track", first_due.isoformat())

    # Past the bill's due date: the other flat is overdue, the flat with a plan on track is not.
    clock.advance(timedelta(days=(due_on - NOW.date()).days + 1))
    statuses = _statuses(client)
    assert (statuses[other["unit_code"]], statuses["5BHK-B17-FF"]) == ("overdue", "issued")

    # The first instalment's day passes unpaid: behind, and the bill is overdue after all.
    clock.advance(timedelta(days=9))
    assert _statuses(client)["5BHK-B17-FF"] == "issued"  # on its day it is not late yet
    clock.advance(timedelta(days=1))
    assert _statuses(client)["5BHK-B17-FF"] == "overdue"
    assert _plans(client, walk["unit_id"])[0]["standing"] == "behind"
    # The defaulters list names each account's plan where it has one.
    answer = client.get("/api/reports/defaulters", headers=auth(client, "accountant"))
    assert answer.status_code == 200, answer.text
    defaulters = answer.json()["rows"]
    plans = {row["unit_code"]: row["plan"] for row in defaulters}
    assert (plans["5BHK-B17-FF"], plans[other["unit_code"]]) == ("behind", None)

    # The instalment is paid (an ordinary payment in the ledger): back on track, the bill partly paid.
    first = plan["instalments"][0]["amount"]
    paid_on = (first_due + timedelta(days=1)).isoformat()
    payment = {"unit_id": walk["unit_id"], "bill_id": walk["id"], "amount": first, "paid_on": paid_on, "mode": "upi"}
    assert client.post("/api/payments", json=payment, headers=auth(client, "accountant")).status_code == 201
    assert _statuses(client)["5BHK-B17-FF"] == "partly_paid"
    standing = _plans(client, walk["unit_id"])[0]
    assert (standing["standing"], Decimal(standing["paid"])) == ("on_track", Decimal(first))
    assert standing["next_due_on"] == plan["instalments"][1]["due_on"]

    # A second plan is refused while this one runs; cancelled, the bill follows its own due date again.
    again = client.post(
        f"/api/units/{walk['unit_id']}/payment-plans",
        json={"instalments": 2, "first_due_on": paid_on},
        headers=auth(client, "accountant"),
    )
    assert (again.status_code, again.json()["code"]) == (409, "payment_plan.exists")
    cancelled = client.post(f"/api/payment-plans/{plan['id']}/cancel", headers=auth(client, "accountant"))
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["standing"], cancelled.json()["cancelled_at"] is not None) == (None, True)
    assert _statuses(client)["5BHK-B17-FF"] == "overdue"
    twice = client.post(f"/api/payment-plans/{plan['id']}/cancel", headers=auth(client, "accountant"))
    assert (twice.status_code, twice.json()["code"]) == (409, "payment_plan.cancelled")
    events = client.get(
        "/api/audit/events", params={"entity": "unit", "entity_id": walk["unit_id"]}, headers=auth(client, "admin")
    )
    assert events.status_code == 200, events.text
    actions = [event["action"] for event in events.json()["items"]]
    assert actions[:2] == ["payment_plan.cancelled", "payment_plan.created"]


def test_a_plan_is_refused_for_nothing_owed_a_past_first_day_or_a_bad_count(client: TestClient) -> None:
    accountant = auth(client, "accountant")
    unit_id = client.get("/api/units", headers=auth(client, "admin")).json()["items"][0]["id"]
    today = NOW.date()
    nothing = client.post(
        f"/api/units/{unit_id}/payment-plans",
        json={"instalments": 3, "first_due_on": today.isoformat()},
        headers=accountant,
    )
    assert (nothing.status_code, nothing.json()["code"]) == (409, "payment_plan.nothing_owed")
    walk = next(b for b in _issued_block_b(client) if b["unit_code"] == "5BHK-B17-FF")
    url = f"/api/units/{walk['unit_id']}/payment-plans"
    past = client.post(
        url, json={"instalments": 3, "first_due_on": (today - timedelta(days=1)).isoformat()}, headers=accountant
    )
    assert (past.status_code, past.json()["code"]) == (422, "payment_plan.invalid")
    assert past.json()["details"]["field"] == "first_due_on"  # the console marks the date field
    for count in (0, 25, "3"):
        bad = client.post(url, json={"instalments": count, "first_due_on": today.isoformat()}, headers=accountant)
        assert bad.status_code == 422, (count, bad.text)
    assert client.post("/api/units/999999/payment-plans", json={"instalments": 3, "first_due_on": today.isoformat()},
                       headers=accountant).status_code == 404  # fmt: skip
    assert client.get(url, headers=auth(client, "supervisor")).status_code == 403
    assert _plans(client, walk["unit_id"]) == []
