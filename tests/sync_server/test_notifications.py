"""Notifications through the outbox (docs/notifications.md), against a real SMTP server (aiosmtpd) and an HTTP
provider stub on 127.0.0.1: issuing a bill sends one email with its PDF and one SMS; a provider answering 500 is
retried on the backoff and dead-lettered with the reason; opt-out is honoured; a reminder fires once, on its day,
across a month boundary; the delivery log and retry; SQLite and PostgreSQL (the ``client`` fixture)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pydantic import SecretStr

from shared_billing.protocol import NotificationChannel, NotificationEvent, NotificationLanguage
from sync_server.clock import FixedClock, system_clock
from sync_server.config import Settings
from sync_server.context import AppContext
from sync_server.housekeeping import SCHEDULED_ACTIONS
from sync_server.notifications.job import notify
from sync_server.notifications.rules import BACKOFF, Contact, addresses, next_attempt, reminder_due
from sync_server.notifications.templates import MessageFacts, render, templates
from sync_server.scheduling.runner import run_due
from sync_server.scheduling.store import NOTIFICATIONS_JOB
from tests.sync_server.factories import NOW, auth
from tests.sync_server.test_bill_runs import _approve_walkthrough, _issued_block_b

TOKEN = "stub-token-0123456789"
WALK = "5BHK-B17-FF"
IST = ZoneInfo("Asia/Kolkata")


# --- A real SMTP server and an HTTP provider stub, on 127.0.0.1 ---


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Inbox:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mails: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[_Inbox]:
    handler = _Inbox(_free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port, ready_timeout=5)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@dataclass
class _Stub:
    url: str
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)


@pytest.fixture
def provider() -> Iterator[_Stub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    stub = _Stub(url=f"http://127.0.0.1:{server.server_address[1]}/send")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stub.received.append(json.loads(body))
            stub.authorizations.append(self.headers.get("Authorization", ""))
            self.send_response(stub.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": "try later"}' if stub.status >= 400 else b'{"id": "m1"}')

        def log_message(self, format: str, *args: Any) -> None:
            return

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, inbox: _Inbox, provider: _Stub) -> Settings:
    """The server's settings with email (no STARTTLS: a test relay) and SMS configured; reminders 6 days ahead."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="t" * 40,
        mount_web_app=False,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        smtp_starttls=False,
        smtp_sender="bills@blessings.example",
        sms_provider_url=provider.url,
        sms_provider_token=SecretStr(TOKEN),
        notify_timeout_s=5,
        reminder_days=6,
    )


# --- Helpers ---


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _clock(client: TestClient) -> FixedClock:
    clock = _context(client).clock
    assert isinstance(clock, FixedClock)
    return clock


def _set_contact(client: TestClient, code: str, **changes: Any) -> dict[str, Any]:
    admin = auth(client, "admin")
    unit = next(
        u for u in client.get("/api/units", params={"q": code}, headers=admin).json()["items"] if u["code"] == code
    )
    body = {k: v for k, v in unit.items() if k not in {"id"}} | {
        "email": "asha@blessings.example",
        "phone": "9876543210",
    }
    body |= changes
    answer = client.put(f"/api/units/{unit['id']}", json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _log(client: TestClient, **filters: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/notifications", params=filters, headers=auth(client, "admin"))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _pass(client: TestClient, at: datetime) -> str:
    return notify(_context(client), at).result


# --- Pure rules ---


def test_backoff_then_dead_letter() -> None:
    attempts = [next_attempt(n, NOW) for n in range(1, len(BACKOFF) + 2)]
    assert attempts[:-1] == [NOW + wait for wait in BACKOFF]
    assert attempts[-1] is None
    assert (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)) == BACKOFF


def test_who_is_told_on_which_channel() -> None:
    everything = set(NotificationChannel)
    contact = Contact(1, "a@b.example", "98765", NotificationLanguage.HINDI, ["email", "whatsapp"], opt_out=False)
    assert addresses(contact, everything) == [
        (NotificationChannel.EMAIL, "a@b.example"),
        (NotificationChannel.WHATSAPP, "98765"),
    ]
    assert addresses(contact, {NotificationChannel.SMS}) == []  # a channel the server is not configured for
    assert (
        addresses(Contact(1, None, "98765", NotificationLanguage.ENGLISH, ["email"], opt_out=False), everything) == []
    )
    assert (
        addresses(Contact(1, "a@b.example", "9", NotificationLanguage.ENGLISH, ["email"], opt_out=True), everything)
        == []
    )


def test_reminder_window_crosses_a_month_end() -> None:
    due = date(2025, 12, 2)
    assert [reminder_due(due, date(2025, 11, d), 3) for d in (28, 29, 30)] == [False, True, True]
    assert reminder_due(due, date(2025, 12, 2), 3)
    assert not reminder_due(due, date(2025, 12, 3), 3)


@pytest.mark.parametrize("language", list(NotificationLanguage))
def test_every_language_has_every_event(language: NotificationLanguage) -> None:
    assert set(templates(language)) == {event.value for event in NotificationEvent}
    facts = MessageFacts(
        society="Blessings City",
        amount=Decimal("3711.00"),
        unit=WALK,
        bill_number="BC/2025-26/000001",
        period="2025-11",
        due_on=date(2025, 12, 5),
        paid_on=date(2025, 12, 1),
    )
    for event in NotificationEvent:
        subject, text = render(event, language, facts)
        assert "{" not in subject + text
        assert "₹3,711.00" in text
    assert "5 Dec 2025" in render(NotificationEvent.BILL_ISSUED, language, facts)[1]


# --- Through the server ---


def test_issuing_a_run_sends_one_email_with_the_pdf_and_one_sms(
    client: TestClient, inbox: _Inbox, provider: _Stub
) -> None:
    _set_contact(client, WALK)
    bills = _issued_block_b(client)  # four bills in one run; only the walk's unit has addresses
    walk = next(bill for bill in bills if bill["unit_code"] == WALK)
    queued = _log(client)
    assert sorted((m["channel"], m["status"], m["bill_id"]) for m in queued) == [
        ("email", "pending", walk["id"]),
        ("sms", "pending", walk["id"]),
    ]

    assert _pass(client, NOW).endswith("2 sent, 0 to retry, 0 dead-lettered, 0 skipped")
    assert len(inbox.mails) == 1
    recipients, mail = inbox.mails[0]
    assert recipients == ["asha@blessings.example"]
    assert walk["bill_number"] in str(mail["Subject"])
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "₹3,711.00" in body.get_content()
    assert "5 Dec 2025" in body.get_content()  # due 15 days after the 20th, the society's calendar
    pdfs = [part for part in mail.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    assert bytes(pdfs[0].get_content()).startswith(b"%PDF")
    assert provider.received == [{"to": "9876543210", "text": body.get_content().strip(), "channel": "sms"}]
    assert provider.authorizations == [f"Bearer {TOKEN}"]
    assert {m["status"] for m in _log(client)} == {"sent"}

    # Issued again (a double click): the same bills, no second message.
    assert _pass(client, NOW + timedelta(minutes=5)).endswith("0 sent, 0 to retry, 0 dead-lettered, 0 skipped")
    assert (len(inbox.mails), len(provider.received)) == (1, 1)


def test_a_single_bill_and_a_payment_are_told_in_the_consumers_language(
    client: TestClient, inbox: _Inbox, provider: _Stub
) -> None:
    _set_contact(client, WALK, notify_language="hi", notify_channels=["sms"])
    uuid = _approve_walkthrough(client)
    admin = auth(client, "admin")
    billed = client.post("/api/bills", json={"reading_uuid": uuid}, headers=admin)
    assert billed.status_code == 201, billed.text
    bill = billed.json()
    paid = client.post(
        "/api/payments",
        json={
            "unit_id": bill["unit_id"],
            "bill_id": bill["id"],
            "amount": "1000.00",
            "paid_on": "2025-11-21",
            "mode": "upi",
        },
        headers=auth(client, "accountant"),
    )
    assert paid.status_code == 201, paid.text
    _pass(client, NOW)
    assert inbox.mails == []  # the consumer chose SMS only
    texts = [item["text"] for item in provider.received]
    assert len(texts) == 2
    assert bill["bill_number"] in texts[0]
    assert "देय तिथि" in texts[0]
    assert "₹1,000.00" in texts[1]
    assert "भुगतान" in texts[1]
    events = sorted(m["event"] for m in _log(client))
    assert events == ["bill_issued", "payment_received"]


def test_a_payment_found_on_a_bank_statement_is_told_like_one_typed_in(
    client: TestClient, inbox: _Inbox, provider: _Stub
) -> None:
    _set_contact(client, WALK, notify_language="en", notify_channels=["sms"])
    uuid = _approve_walkthrough(client)
    bill = client.post("/api/bills", json={"reading_uuid": uuid}, headers=auth(client, "admin")).json()
    statement = (
        "Txn Date,Narration,UTR,Debit,Credit\n"
        f"21/11/2025,UPI/CR/412345678901/RAVI/HDFC/tr={bill['bill_number']},412345678901,,{bill['payable']}\n"
    ).encode()
    imported = client.post(
        "/api/statements?file_name=nov.csv",
        content=statement,
        headers=auth(client, "accountant") | {"Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["counts"]["matched"] == 1
    assert sorted(m["event"] for m in _log(client)) == ["bill_issued", "payment_received"]
    _pass(client, NOW)
    assert len(provider.received) == 2
    assert inbox.mails == []


def test_a_provider_answering_500_is_retried_then_dead_lettered(client: TestClient, provider: _Stub) -> None:
    _set_contact(client, WALK, notify_channels=["sms"])
    provider.status = 500
    _issued_block_b(client)
    at = NOW
    _pass(client, at)
    for wait in BACKOFF:
        assert _pass(client, at + wait - timedelta(seconds=1)).endswith(
            "0 sent, 0 to retry, 0 dead-lettered, 0 skipped"
        )
        at += wait
        _pass(client, at)
    assert len(provider.received) == len(BACKOFF) + 1
    (dead,) = _log(client, status="dead")
    assert dead["attempts"] == len(BACKOFF) + 1
    assert dead["last_error"].startswith("provider answered 500")
    assert TOKEN not in dead["last_error"]
    assert _pass(client, at + timedelta(days=1)).endswith("0 sent, 0 to retry, 0 dead-lettered, 0 skipped")

    admin = auth(client, "admin")
    provider.status = 200
    retried = client.post(f"/api/notifications/{dead['id']}/retry", headers=admin)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    again = client.post(f"/api/notifications/{dead['id']}/retry", headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "notification.not_dead")
    missing = client.post("/api/notifications/999999/retry", headers=admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "notification.not_found")
    _pass(client, NOW)  # the retry is due at once (the pinned clock's now)
    assert [m["status"] for m in _log(client)] == ["sent"]
    assert client.get("/api/notifications", params={"status": "lost"}, headers=admin).status_code == 422


def test_opt_out_is_honoured(client: TestClient, inbox: _Inbox, provider: _Stub) -> None:
    unit = _set_contact(client, WALK, notify_opt_out=True)
    assert unit["notify_opt_out"] is True
    _issued_block_b(client)
    assert _log(client) == []  # nothing enqueued for a consumer who opted out
    _pass(client, NOW)
    assert (inbox.mails, provider.received) == ([], [])


def test_opting_out_after_the_event_skips_the_waiting_message(client: TestClient, provider: _Stub) -> None:
    _set_contact(client, WALK, notify_channels=["sms"])
    _issued_block_b(client)
    _set_contact(client, WALK, notify_opt_out=True)
    assert _pass(client, NOW).endswith("0 sent, 0 to retry, 0 dead-lettered, 1 skipped")
    assert provider.received == []
    (skipped,) = _log(client)
    assert (skipped["status"], skipped["last_error"]) == ("skipped", "the consumer opted out")


def test_a_reminder_fires_once_on_schedule_across_the_month_end(client: TestClient, provider: _Stub) -> None:
    _set_contact(client, WALK, notify_channels=["sms"])
    admin = auth(client, "admin")
    switched = client.put(f"/api/schedules/{NOTIFICATIONS_JOB}", json={"enabled": True}, headers=admin)
    assert switched.status_code == 200, switched.text
    walk = next(bill for bill in _issued_block_b(client) if bill["unit_code"] == WALK)
    assert walk["due_on"] == "2025-12-05"  # reminded from 6 days before: 29 November
    clock, context = _clock(client), _context(client)

    # The job's interval is elapsed real time (docs/operations.md "Schedules"): a wall clock a day further on
    # each pass, while the business clock is pinned to the society's day the pass stands for.
    wall = FixedClock(system_clock() + timedelta(minutes=2))

    def scheduled_on(day: date) -> list[str]:
        """The scheduler's pass at noon of ``day`` in the society's zone; the events the provider got so far."""
        clock.now = datetime(day.year, day.month, day.day, 12, tzinfo=IST).astimezone(UTC)
        wall.advance(timedelta(days=1))
        assert NOTIFICATIONS_JOB in run_due(context, SCHEDULED_ACTIONS, wall=wall)
        sent = [m["event"] for m in reversed(_log(client, status="sent"))]
        assert len(sent) == len(provider.received)
        return sent

    assert scheduled_on(date(2025, 11, 20)) == ["bill_issued"]
    assert scheduled_on(date(2025, 11, 28)) == ["bill_issued"]
    assert scheduled_on(date(2025, 11, 29)) == ["bill_issued", "reminder"]
    assert scheduled_on(date(2025, 11, 30)) == ["bill_issued", "reminder"]
    assert scheduled_on(date(2025, 12, 1)) == ["bill_issued", "reminder"]
    reminder = provider.received[1]["text"]
    assert "a reminder" in reminder
    assert "₹3,711.00" in reminder
    assert "5 Dec 2025" in reminder
    # After the due date the overdue refresh marks it overdue, and the notice goes out once.
    clock.now = datetime(2025, 12, 6, 9, tzinfo=IST).astimezone(UTC)
    assert client.post("/api/billing/statuses/refresh", headers=auth(client, "admin")).is_success
    scheduled_on(date(2025, 12, 6))
    scheduled_on(date(2025, 12, 7))
    assert scheduled_on(date(2025, 12, 8)) == ["bill_issued", "reminder", "overdue"]


def test_unit_preferences_are_validated(client: TestClient) -> None:
    admin = auth(client, "admin")
    unit = client.get("/api/units", params={"q": WALK}, headers=admin).json()["items"][0]
    body = {k: v for k, v in unit.items() if k != "id"}
    for wrong in ({"notify_language": "fr"}, {"notify_channels": ["pigeon"]}, {"notify_channels": "sms"}):
        answer = client.put(f"/api/units/{unit['id']}", json=body | wrong, headers=admin)
        assert (answer.status_code, answer.json()["code"]) == (422, "request.invalid"), wrong
    same = client.put(f"/api/units/{unit['id']}", json=body | {"notify_channels": ["sms", "sms"]}, headers=admin)
    assert same.json()["notify_channels"] == ["sms"]
