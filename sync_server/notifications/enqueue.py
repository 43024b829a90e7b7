"""Writing the outbox: in the transaction of the event (a bill issued, a payment recorded) or by the job (reminders,
overdue notices, escalation steps). Each batch is one statement, and an insert that meets a message already there (its
``dedupe_key``) is a no-op, so enqueueing again never sends twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, select
from sqlmodel import Session

from shared_billing.protocol import NotificationChannel, NotificationEvent, NotificationStatus
from sync_server.config import Settings
from sync_server.models import Notification, Payment, Unit
from sync_server.notifications.rules import Contact, addresses, dedupe_key
from sync_server.notifications.templates import MessageFacts, render
from sync_server.sql import insert_ignoring, one_of, plain_rows, table_of

__all__ = [
    "Message",
    "bill_message",
    "configured_channels",
    "enqueue",
    "enqueue_each",
    "enqueue_payment",
    "issued_message",
]

_NOTIFICATIONS = table_of(Notification)
_UNITS = table_of(Unit)


@dataclass(frozen=True, slots=True)
class Message:
    """One event to tell one unit of: what it is about (a bill's or a payment's id) and what it says."""

    event: NotificationEvent
    unit_id: int
    subject_id: int
    facts: MessageFacts
    bill_id: int | None = None
    payment_id: int | None = None


def configured_channels(settings: Settings) -> frozenset[NotificationChannel]:
    """The channels this server can send on: those whose settings are given."""
    given = {
        NotificationChannel.EMAIL: settings.smtp_host,
        NotificationChannel.SMS: settings.sms_provider_url,
        NotificationChannel.WHATSAPP: settings.whatsapp_provider_url,
    }
    return frozenset(channel for channel, setting in given.items() if setting)


def _contacts(session: Session, unit_ids: Collection[int]) -> dict[int, tuple[str, Contact]]:
    """Each unit's code and contact, in one statement."""
    columns = _UNITS.c
    query = select(
        columns.id,
        columns.code,
        columns.email,
        columns.phone,
        columns.notify_language,
        columns.notify_channels,
        columns.notify_opt_out,
    ).where(one_of(session, columns.id, unit_ids, Integer))
    return {
        row.id: (
            row.code,
            Contact(row.id, row.email, row.phone, row.notify_language, row.notify_channels, row.notify_opt_out),
        )
        for row in plain_rows(session, query)
    }


def _rows(
    messages: Sequence[Message],
    contacts: dict[int, tuple[str, Contact]],
    channels: Collection[NotificationChannel],
    now: datetime,
) -> list[tuple[tuple[NotificationEvent, int], dict[str, Any]]]:
    """Each row to insert, with the message it tells (its event and subject)."""
    rows: list[tuple[tuple[NotificationEvent, int], dict[str, Any]]] = []
    for message in messages:
        found = contacts.get(message.unit_id)
        if found is None:
            continue
        code, contact = found
        facts = replace(message.facts, unit=code)
        for channel, address in addresses(contact, channels):
            subject, text = render(message.event, contact.language, facts)
            rows.append(
                (
                    (message.event, message.subject_id),
                    {
                        "dedupe_key": dedupe_key(message.event, message.subject_id, channel),
                        "event": message.event,
                        "channel": channel,
                        "unit_id": message.unit_id,
                        "bill_id": message.bill_id,
                        "payment_id": message.payment_id,
                        "recipient": address,
                        "language": contact.language,
                        "subject": subject[:200],
                        "text": text[:1000],
                        "status": NotificationStatus.PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "last_error": None,
                        "created_at": now,
                        "sent_at": None,
                    },
                )
            )
    return rows


def enqueue(session: Session, messages: Sequence[Message], *, settings: Settings, now: datetime) -> int:
    """Add the messages' rows to the outbox in the caller's transaction: the units' contacts in one statement, the
    rows in one more (none when no channel is configured or nobody is to be told); how many rows were offered."""
    return sum(enqueue_each(session, messages, settings=settings, now=now).values())


def enqueue_each(
    session: Session, messages: Sequence[Message], *, settings: Settings, now: datetime
) -> Counter[tuple[NotificationEvent, int]]:
    """``enqueue``, counting the rows offered per message (its event and subject): the escalation log records
    whether each step reached anyone."""
    offered: Counter[tuple[NotificationEvent, int]] = Counter()
    channels = configured_channels(settings)
    if not messages or not channels:
        return offered
    contacts = _contacts(session, {message.unit_id for message in messages})
    rows = _rows(messages, contacts, channels, now)
    if not rows:
        return offered
    statement = insert_ignoring(session.get_bind().dialect.name, _NOTIFICATIONS, _NOTIFICATIONS.c.dedupe_key)
    session.execute(statement, [row for _, row in rows])
    offered.update(told for told, _ in rows)
    return offered


def bill_message(
    event: NotificationEvent,
    *,
    bill_id: int,
    unit_id: int,
    number: str,
    period: str,
    amount: Decimal,
    due_on: date,
    settings: Settings,
) -> Message:
    """A message about a bill: issued (its payable), reminded of or overdue (what the account owes)."""
    facts = MessageFacts(society=settings.society_name, amount=amount, bill_number=number, period=period, due_on=due_on)
    return Message(event, unit_id, bill_id, facts, bill_id=bill_id)


def issued_message(bill_id: int, unit_id: int, period: str, values: Mapping[str, Any], settings: Settings) -> Message:
    """The "bill issued" message of a bill just issued, from the columns issuing wrote (``issue._issued``)."""
    return bill_message(
        NotificationEvent.BILL_ISSUED,
        bill_id=bill_id,
        unit_id=unit_id,
        number=values["bill_number"],
        period=period,
        amount=values["payable"],
        due_on=values["due_on"],
        settings=settings,
    )


def enqueue_payment(session: Session, payment: Payment, *, settings: Settings, now: datetime) -> int:
    """The "payment received" message of a payment just recorded (its id assigned)."""
    assert payment.id is not None
    facts = MessageFacts(society=settings.society_name, amount=payment.amount, paid_on=payment.paid_on)
    message = Message(NotificationEvent.PAYMENT_RECEIVED, payment.unit_id, payment.id, facts, payment_id=payment.id)
    return enqueue(session, [message], settings=settings, now=now)
