"""The ``notifications`` job (every minute by default): reminders, overdue notices and escalation steps
(``escalation``) enqueued, then the outbox worked (``deliver``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlmodel import Session

from shared_billing.protocol import BillStatus, NotificationEvent, ScheduleStatus
from sync_server.billing.ledger import balances
from sync_server.config import Settings
from sync_server.context import AppContext
from sync_server.models import Bill, Notification
from sync_server.notifications.deliver import deliver_due
from sync_server.notifications.enqueue import bill_message, configured_channels, enqueue
from sync_server.notifications.escalation import escalate
from sync_server.notifications.rules import OVERDUE_NOTICE_DAYS, reminder_due
from sync_server.notifications.senders import senders_for
from sync_server.scheduling.jobs import Outcome
from sync_server.sql import table_of

__all__ = ["enqueue_reminders", "notify"]

_BILLS = table_of(Bill)
_NOTIFICATIONS = table_of(Notification)


def enqueue_reminders(session: Session, *, settings: Settings, now: datetime) -> tuple[int, int]:
    """The job's part: a reminder for each open bill whose due date is near, an overdue notice for each bill the
    overdue refresh marked overdue (in its first ``OVERDUE_NOTICE_DAYS``); each once (an event already in the
    outbox for the bill is not offered again). The caller commits; (reminders, overdue notices) offered."""
    if not configured_channels(settings):
        return 0, 0
    today = now.astimezone(settings.tz).date()
    columns = _BILLS.c
    already = (
        select(_NOTIFICATIONS.c.id)
        .where(_NOTIFICATIONS.c.bill_id == columns.id, _NOTIFICATIONS.c.event == bindparam("event"))
        .exists()
    )
    query = select(columns.id, columns.unit_id, columns.bill_number, columns.period, columns.due_on)
    soon = query.where(
        columns.status.in_([BillStatus.ISSUED, BillStatus.PARTLY_PAID]),
        columns.due_on.between(today, today + timedelta(days=settings.reminder_days)),
        ~already,
    )
    late = query.where(
        columns.status == BillStatus.OVERDUE,
        columns.due_on >= today - timedelta(days=OVERDUE_NOTICE_DAYS),
        ~already,
    )
    found = {
        NotificationEvent.REMINDER: [
            row
            for row in session.connection().execute(soon, {"event": NotificationEvent.REMINDER.value})
            if reminder_due(row.due_on, today, settings.reminder_days)
        ],
        NotificationEvent.OVERDUE: list(session.connection().execute(late, {"event": NotificationEvent.OVERDUE.value})),
    }
    owed = balances(session, {row.unit_id for rows in found.values() for row in rows})
    messages = [
        bill_message(
            event,
            bill_id=row.id,
            unit_id=row.unit_id,
            number=row.bill_number,
            period=row.period,
            amount=owed[row.unit_id],
            due_on=row.due_on,
            settings=settings,
        )
        for event, rows in found.items()
        for row in rows
        if owed[row.unit_id] > 0  # paid since the status was refreshed: nothing to remind of
    ]
    enqueue(session, messages, settings=settings, now=now)
    counts = Counter(message.event for message in messages)
    return counts[NotificationEvent.REMINDER], counts[NotificationEvent.OVERDUE]


def notify(context: AppContext, now: datetime) -> Outcome:
    """The scheduler's ``notifications`` job: its firing is claimed once across workers, so the escalation steps
    are taken once too (and their log is unique per bill and step besides)."""
    with Session(context.engine) as session:
        reminders, overdue = enqueue_reminders(session, settings=context.settings, now=now)
        taken, passed = escalate(session, settings=context.settings, now=now)
        session.commit()
    done = deliver_due(context, senders_for(context.settings), now)
    return Outcome(
        ScheduleStatus.OK,
        f"{reminders} reminders, {overdue} overdue notices enqueued; {taken} escalation steps taken, {passed} passed "
        f"over; {done['sent']} sent, {done['retrying']} to retry, {done['dead']} dead-lettered, "
        f"{done['skipped']} skipped",
    )
