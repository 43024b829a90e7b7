"""Billing integrity in one process: run exclusivity, stale runs, failures without SQL, 409 for a billed reading,
the configured late-fee rate in bulk mark-paid (concurrent requests: test_billing_concurrency.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from shared_billing.late_payment import LatePaymentPolicy, late_payment_surcharge
from sync_server.billing import runs
from sync_server.billing.runs import RUN_STALE_AFTER
from sync_server.clock import FixedClock
from sync_server.models import BillRun, RunStatus, User
from tests.sync_server.factories import NOW, auth, finished_run
from tests.sync_server.test_bill_runs import PERIOD, _approve_walkthrough, _block_b, _run


def _leave_running(client: TestClient, block_id: int, idle: timedelta) -> int:
    """A run row still 'running' whose progress last moved ``idle`` ago (its server was killed)."""
    context = client.app.state.context  # type: ignore[attr-defined]
    with Session(context.engine) as session:
        admin = session.exec(select(User).where(User.username == "admin")).one()
        at = context.clock() - idle
        run = BillRun(block_id=block_id, period=PERIOD, started_at=at, heartbeat_at=at, started_by_id=admin.id or 0)
        session.add(run)
        session.commit()
        assert run.id is not None
        return run.id


def test_a_second_start_while_one_runs_is_409_naming_it(client: TestClient) -> None:
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    running = _leave_running(client, block, idle=RUN_STALE_AFTER - timedelta(minutes=1))
    refused = client.post("/api/billing/runs", json={"block_id": block, "period": PERIOD}, headers=admin)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "billing.run_in_progress"
    assert refused.json()["details"]["run_id"] == running
    # Another period of the same block is free.
    other = client.post("/api/billing/runs", json={"block_id": block, "period": "2025-10"}, headers=admin)
    assert other.status_code == 202, other.text


def test_a_run_whose_progress_stopped_is_superseded(client: TestClient) -> None:
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    stale = _leave_running(client, block, idle=RUN_STALE_AFTER + timedelta(seconds=1))
    fresh = _run(client, admin, block)
    assert fresh["id"] != stale
    old = client.get(f"/api/billing/runs/{stale}", headers=admin).json()
    assert (old["status"], old["error_code"]) == ("failed", "billing.run_superseded")


def test_a_failed_run_stores_a_code_and_plain_words_not_sql(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Session, *_args: object, **_kwargs: object) -> None:
        session.execute(text("SELECT secret_column FROM no_such_table WHERE 1 = 1"))

    monkeypatch.setattr(runs, "_draft_one", broken)
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    started = client.post("/api/billing/runs", json={"block_id": block, "period": PERIOD}, headers=admin)
    run = finished_run(client, admin, started.json()["id"])
    assert (run["status"], run["error_code"]) == ("failed", "billing.run_failed")
    for word in ("SELECT", "no_such_table", "secret_column", "sqlite", "psycopg"):
        assert word.lower() not in run["error"].lower()
    # The block is not blocked: the next run goes through.
    monkeypatch.undo()
    assert _run(client, admin, block)["status"] == "done"


def test_billing_a_billed_reading_again_is_409_naming_the_bill(client: TestClient) -> None:
    uuid = _approve_walkthrough(client)
    admin = auth(client, "admin")
    first = client.post("/api/bills", json={"reading_uuid": uuid}, headers=admin)
    assert first.status_code == 201, first.text
    again = client.post("/api/bills", json={"reading_uuid": uuid}, headers=admin)
    assert again.status_code == 409
    assert again.json()["code"] == "bill.already_billed"
    assert again.json()["details"]["bill_id"] == first.json()["id"]


def test_bulk_mark_paid_charges_the_configured_late_fee_rate(client: TestClient, clock: FixedClock) -> None:
    context = client.app.state.context  # type: ignore[attr-defined]
    context.settings.late_fee_annual_percent = Decimal(24)  # not the default 18
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    run = _run(client, admin, _block_b(client, admin))
    bills = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json()
    walk = next(b for b in bills if b["unit_code"] == "5BHK-B17-FF")
    due = date.fromisoformat(walk["due_on"])
    paid_on = due + timedelta(days=20)
    marked = client.post(
        "/api/bills/mark-paid",
        json={"bill_ids": [walk["id"]], "paid_on": paid_on.isoformat(), "mode": "bank"},
        headers=auth(client, "accountant"),
    )
    assert marked.json()["paid"] == [walk["id"]], marked.text
    entries = client.get(f"/api/accounts/{walk['unit_id']}/ledger", headers=admin).json()["entries"]
    [fee] = [Decimal(e["amount"]) for e in entries if e["kind"] == "late_fee"]
    expected = late_payment_surcharge(
        Decimal(walk["payable"]), due_on=due, paid_on=paid_on, policy=LatePaymentPolicy(annual_percent=Decimal(24))
    ).amount
    assert fee == expected
    assert fee != late_payment_surcharge(Decimal(walk["payable"]), due_on=due, paid_on=paid_on).amount
    assert NOW.date() < paid_on  # paid after the due date, as the surcharge needs


def test_drafts_of_a_run_cut_off_by_a_killed_server_are_taken_over_and_issued(client: TestClient) -> None:
    _approve_walkthrough(client)
    admin = auth(client, "admin")
    block = _block_b(client, admin)
    first = _run(client, admin, block)
    assert first["created"] == 4
    # As if the server had been killed mid-run: the run still 'running', its progress long stopped.
    context = client.app.state.context  # type: ignore[attr-defined]
    with Session(context.engine) as session:
        killed = session.get(BillRun, first["id"])
        assert killed is not None
        killed.status, killed.finished_at = RunStatus.RUNNING, None
        killed.heartbeat_at = context.clock() - RUN_STALE_AFTER - timedelta(minutes=1)
        session.add(killed)
        session.commit()

    second = _run(client, admin, block)
    assert second["created"] == 4  # the killed run's drafts, taken over
    issued = client.post(f"/api/billing/runs/{second['id']}/issue", headers=admin)
    assert issued.status_code == 200, issued.text
    assert sorted(int(b["bill_number"].rsplit("/", 1)[1]) for b in issued.json()) == [1, 2, 3, 4]
    refused = client.post(f"/api/billing/runs/{first['id']}/issue", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "billing.run_not_done")
