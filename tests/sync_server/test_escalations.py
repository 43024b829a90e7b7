"""Escalation of bills still overdue (docs/notifications.md "Escalation"), with the clock pinned and moved across
the steps' days: nothing the day before a step's day; the reminder on its day, then the notice on its, each logged
once however often the job runs; a payment in between stops the later steps; a bill on a payment plan kept current
does not escalate; steps replaced through the API take effect and are validated. In-process, SMS "sent" to a
recorder in place of the provider; SQLite and PostgreSQL (the ``client`` fixture)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from shared_billing.protocol import EscalationKind, NotificationChannel
from sync_server.clock import FixedClock, system_clock
from sync_server.config import Settings
from sync_server.context import AppContext
from sync_server.housekeeping import SCHEDULED_ACTIONS
from sync_server.notifications import job
from sync_server.notifications.job import notify
from sync_server.notifications.rules import ESCALATION_LATE_DAYS, Step, escalation_due, steps_problem
from sync_server.notifications.senders import Senders
from sync_server.scheduling.runner import run_due
from sync_server.scheduling.store import NOTIFICATIONS_JOB
from tests.sync_server.factories import auth
from tests.sync_server.test_bill_runs import _issued_block_b
from tests.sync_server.test_notifications import _set_contact

WALK = "5BHK-B17-FF"
IST = ZoneInfo("Asia/Kolkata")
REMINDER, NOTICE, DISCONNECTION = EscalationKind.REMINDER, EscalationKind.NOTICE, EscalationKind.DISCONNECTION_NOTICE
DEFAULTS = [
    {"kind": "reminder", "days_after": 7, "active": True},
    {"kind": "notice", "days_after": 21, "active": True},
    {"kind": "disconnection_notice", "days_after": 45, "active": True},
]


@dataclass
class _Recorder:
    """The SMS provider: what it was given."""

    texts: list[str] = field(default_factory=list)

    def send(self, *, to: str, text: str, channel: NotificationChannel) -> None:
        self.texts.append(text)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """SMS configured (its provider replaced by ``sms``: nothing leaves the process)."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="t" * 40,
        mount_web_app=False,
        sms_provider_url="http://sms.invalid/send",
    )


@pytest.fixture
def headers(client: TestClient) -> Callable[[str], dict[str, str]]:
    """A user's bearer header, signed in afresh at the pinned clock's now (the clock moves across days)."""
    return lambda username: auth(client, username)


@pytest.fixture
def sms(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    recorder = _Recorder()
    monkeypatch.setattr(job, "senders_for", lambda settings: Senders(email=None, sms=recorder, whatsapp=None))
    return recorder


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=IST).astimezone(UTC)


def _put_steps(client: TestClient, admin: dict[str, str], steps: list[dict[str, Any]], **extra: Any) -> Any:
    return client.put("/api/escalation-steps", json={"steps": steps, **extra}, headers=admin)


def _log(client: TestClient, who: dict[str, str], **filters: Any) -> list[tuple[str, str, str]]:
    """The escalation log, oldest first: (unit, kind, outcome)."""
    answer = client.get("/api/escalations", params=filters, headers=who)
    assert answer.status_code == 200, answer.text
    return [(e["unit_code"], e["kind"], e["outcome"]) for e in reversed(answer.json()["items"])]


def _prepared(client: TestClient, headers: Callable[[str], dict[str, str]]) -> tuple[list[dict[str, Any]], date]:
    """The default steps set through the API (a PostgreSQL test starts from empty tables), the walk's unit given a
    phone, block B's four bills issued; the bills and their due date."""
    assert _put_steps(client, headers("admin"), DEFAULTS).status_code == 200
    _set_contact(client, WALK, notify_channels=["sms"])
    bills = _issued_block_b(client)
    (due_on,) = {date.fromisoformat(bill["due_on"]) for bill in bills}
    return bills, due_on


# --- Pure rules ---


def test_a_step_is_reached_on_its_day_and_only_the_severest_is_taken() -> None:
    steps = [Step(REMINDER, 7), Step(NOTICE, 21), Step(DISCONNECTION, 45)]
    due = date(2025, 12, 5)
    assert escalation_due(steps, due, due + timedelta(days=6), set()) == (None, [])
    assert escalation_due(steps, due, due + timedelta(days=7), set()) == (steps[0], [])
    assert escalation_due(steps, due, due + timedelta(days=20), {REMINDER}) == (None, [])
    assert escalation_due(steps, due, due + timedelta(days=21), {REMINDER}) == (steps[1], [])
    # Switched on late: the severest step reached is taken, the milder ones passed over (logged skipped).
    assert escalation_due(steps, due, due + timedelta(days=50), set()) == (steps[2], [steps[0], steps[1]])
    # Its day long gone: nothing is taken, everything reached is passed over.
    too_late = due + timedelta(days=45 + ESCALATION_LATE_DAYS + 1)
    assert escalation_due(steps, due, too_late, set()) == (None, steps)
    # A step switched off is not reached; one milder than a step logged is passed over (steps changed since).
    assert escalation_due([Step(REMINDER, 7, active=False)], due, due + timedelta(days=9), set()) == (None, [])
    assert escalation_due(steps[:2], due, due + timedelta(days=30), {DISCONNECTION}) == (None, steps[:2])


def test_steps_fall_on_days_of_their_own_with_severity_rising() -> None:
    assert steps_problem([Step(REMINDER, 7), Step(NOTICE, 21), Step(DISCONNECTION, 45)]) is None
    assert steps_problem([]) is None
    assert "day 7" in (steps_problem([Step(REMINDER, 7), Step(NOTICE, 7)]) or "")
    assert "Severity rises" in (steps_problem([Step(REMINDER, 30), Step(NOTICE, 21)]) or "")
    assert "appears once" in (steps_problem([Step(NOTICE, 3), Step(NOTICE, 21)]) or "")
    assert "not 366" in (steps_problem([Step(NOTICE, 366)]) or "")


def test_the_migration_seeds_the_default_steps(sqlite_template: Path) -> None:
    with sqlite3.connect(sqlite_template) as connection:
        rows = connection.execute("SELECT kind, days_after, active FROM escalation_step ORDER BY days_after").fetchall()
    assert [{"kind": k, "days_after": d, "active": bool(a)} for k, d, a in rows] == DEFAULTS


# --- Through the server ---


def _refuses_steps_that_cannot_stand(client: TestClient, admin: dict[str, str]) -> None:
    """Each refusal a 422 with a message; the steps stay as they were; admins only."""
    refused = {
        "two steps on one day": [{"kind": "reminder", "days_after": 5}, {"kind": "notice", "days_after": 5}],
        "a milder step after a severer one": [
            {"kind": "notice", "days_after": 5},
            {"kind": "reminder", "days_after": 9},
        ],
        "a kind twice": [{"kind": "notice", "days_after": 5}, {"kind": "notice", "days_after": 9}],
    }
    for why, steps in refused.items():
        answer = _put_steps(client, admin, steps)
        assert (answer.status_code, answer.json()["code"]) == (422, "escalation.invalid"), why
        assert answer.json()["message"], why
    for wrong in (0, 366, "7", None):
        answer = _put_steps(client, admin, [{"kind": "reminder", "days_after": wrong}])
        assert (answer.status_code, answer.json()["code"]) == (422, "request.invalid"), wrong
        assert answer.json()["message"], wrong
    assert _put_steps(client, admin, [{"kind": "eviction", "days_after": 9}]).status_code == 422
    assert client.get("/api/escalation-steps", headers=admin).json() == DEFAULTS


def test_steps_fire_on_schedule_once_each_stop_when_paid_or_on_a_plan_and_follow_the_api(
    client: TestClient, clock: FixedClock, sms: _Recorder, headers: Callable[[str], dict[str, str]]
) -> None:
    """One story over the steps' days (one app per database keeps the file quick): block B's four bills, due the
    same day: the walk's unit (with a phone), one that pays in between, one on a payment plan, one plain."""
    bills, due_on = _prepared(client, headers)
    _refuses_steps_that_cannot_stand(client, headers("admin"))
    by_unit = {bill["unit_code"]: bill for bill in bills}
    paying, planned, plain = sorted(code for code in by_unit if code != WALK)
    made = client.post(
        f"/api/units/{by_unit[planned]['unit_id']}/payment-plans",
        json={"instalments": 3, "first_due_on": (due_on + timedelta(days=25)).isoformat()},
        headers=headers("accountant"),
    )
    assert made.status_code == 201, made.text
    for name in ("monthly-bill-runs", "overdue-refresh", "daily-backup", "photo-ocr"):  # the job alone, cheaply
        assert (
            client.put(f"/api/schedules/{name}", json={"enabled": False}, headers=headers("admin")).status_code == 200
        )
    assert client.put(
        f"/api/schedules/{NOTIFICATIONS_JOB}", json={"enabled": True}, headers=headers("admin")
    ).is_success
    context = _context(client)
    # The job's interval is elapsed time: a wall clock a day further on each pass (test_notifications does so).
    wall = FixedClock(system_clock() + timedelta(minutes=2))

    def scheduled_on(days_late: int) -> list[tuple[str, str, str]]:
        """The scheduler's pass at noon, ``days_late`` days after the due date; the log after it."""
        clock.now = _noon(due_on + timedelta(days=days_late))
        wall.advance(timedelta(days=1))
        assert run_due(context, SCHEDULED_ACTIONS, wall=wall) == [NOTIFICATIONS_JOB]
        return _log(client, headers("admin"))

    assert scheduled_on(6) == []  # the day before the reminder's day
    reminded = scheduled_on(7)
    assert sorted(reminded) == [(unit, "reminder", "fired") for unit in sorted((WALK, paying, plain))]
    # The job again the same day (its next minute): logged once, told once.
    clock.now += timedelta(minutes=1)
    notify(context, clock.now)
    assert _log(client, headers("admin")) == reminded
    assert len(sms.texts) == 2  # the bill's issue, then the reminder: the walk's unit alone has a phone
    assert "₹3,711.00" in sms.texts[1]
    assert "still owed" in sms.texts[1]

    # One account pays in between, the late fee included (a credit left): its bill escalates no further.
    payment = {
        "unit_id": by_unit[paying]["unit_id"],
        "bill_id": by_unit[paying]["id"],
        "amount": str(Decimal(by_unit[paying]["payable"]) + 100),
        "paid_on": (due_on + timedelta(days=10)).isoformat(),
        "mode": "upi",
    }
    assert client.post("/api/payments", json=payment, headers=headers("accountant")).status_code == 201
    assert scheduled_on(20) == reminded
    noticed = scheduled_on(21)
    assert sorted(noticed[len(reminded) :]) == sorted([(WALK, "notice", "fired"), (plain, "notice", "fired")])
    assert scheduled_on(22) == noticed
    assert len(sms.texts) == 3
    assert "NOTICE" in sms.texts[2]

    # Steps replaced through the API: the disconnection notice brought forward to day 23 takes effect.
    steps = [*DEFAULTS[:2], {"kind": "disconnection_notice", "days_after": 23, "active": True}]
    replaced = _put_steps(client, headers("admin"), steps[::-1], reason="two months is too long")
    assert (replaced.status_code, replaced.json()) == (200, steps)
    assert client.get("/api/escalation-steps", headers=headers("admin")).json() == steps
    events = client.get(
        "/api/audit/events", params={"action": "escalation.steps_replaced"}, headers=headers("admin")
    ).json()["items"]
    assert (events[0]["reason"], events[0]["detail"]["from"], events[0]["detail"]["to"]) == (
        "two months is too long",
        DEFAULTS,
        steps,
    )
    cut = scheduled_on(23)
    assert sorted(cut[len(noticed) :]) == sorted(
        [(WALK, "disconnection_notice", "fired"), (plain, "disconnection_notice", "fired")]
    )
    assert "DISCONNECTION NOTICE" in sms.texts[3]
    # The plan's first instalment goes unpaid: behind, its bill overdue again, and it catches up at once: the
    # severest step reached taken, the milder ones passed over.
    assert sorted(scheduled_on(26)[len(cut) :]) == [
        (planned, "disconnection_notice", "fired"),
        (planned, "notice", "skipped"),
        (planned, "reminder", "skipped"),
    ]
    assert len(sms.texts) == 4

    # The log, filtered by unit and by bill, for accountants too; newest first.
    walk = by_unit[WALK]
    answer = client.get("/api/escalations", params={"unit_id": walk["unit_id"]}, headers=headers("accountant"))
    items = answer.json()["items"]
    assert [(i["kind"], i["days_after"], i["messages"], i["bill_number"]) for i in items] == [
        ("disconnection_notice", 23, 1, walk["bill_number"]),
        ("notice", 21, 1, walk["bill_number"]),
        ("reminder", 7, 1, walk["bill_number"]),
    ]
    assert items[1]["at"].startswith((due_on + timedelta(days=21)).isoformat())
    assert _log(client, headers("accountant"), bill_id=by_unit[paying]["id"]) == [(paying, "reminder", "fired")]
    assert _log(client, headers("admin"), q=walk["bill_number"], kind="notice") == [(WALK, "notice", "fired")]
    assert _log(client, headers("admin"), outcome="skipped", limit=1) == [(planned, "notice", "skipped")]
    assert client.get("/api/escalations", headers=headers("supervisor")).status_code == 403
    assert client.get("/api/escalation-steps", headers=headers("accountant")).status_code == 403
