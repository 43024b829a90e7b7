"""Working the outbox: each due message claimed, sent, and its attempt recorded (sent, tried again later with
backoff, or dead-lettered with the reason).

The ``notifications`` job runs once across workers (its firing is claimed, under the scheduler's lease); a message
is still claimed row by row — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second worker passing by would take
other rows; SQLite has one writer and the job's claim. Each message is its own short transaction: a slow provider
holds one row, never the outbox.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from sqlmodel import Session, col, select

from shared_billing.protocol import NotificationChannel, NotificationEvent, NotificationStatus
from sync_server.billing.documents import bill_pdf
from sync_server.context import AppContext
from sync_server.models import Bill, Notification, Unit
from sync_server.notifications.rules import next_attempt
from sync_server.notifications.senders import Attachment, SendError, Senders

__all__ = ["PER_PASS", "deliver_due"]

log = logging.getLogger(__name__)

#: Messages sent in one pass: a pass stays short; the rest wait a minute for the next.
PER_PASS = 200


def _due(session: Session, now: datetime) -> Notification | None:
    statement = (
        select(Notification)
        .where(Notification.status == NotificationStatus.PENDING, col(Notification.next_attempt_at) <= now)
        .order_by(col(Notification.next_attempt_at), col(Notification.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.exec(statement).first()


def _not_wanted(unit: Unit | None, message: Notification) -> str | None:
    """Why a message enqueued earlier is no longer to be sent (the preference changed since), or None."""
    if unit is None or unit.notify_opt_out:
        return "the consumer opted out"
    if message.channel.value not in unit.notify_channels:
        return f"the consumer no longer wants {message.channel.value}"
    return None


def _attachment(session: Session, context: AppContext, message: Notification) -> Attachment | None:
    """The bill's PDF, attached to the email telling of its issue."""
    if message.event != NotificationEvent.BILL_ISSUED or message.bill_id is None:
        return None
    bill = session.get(Bill, message.bill_id)
    assert bill is not None
    assert bill.bill_number is not None
    content = bill_pdf(session, bill, context.settings, context.assets_dir)
    return Attachment(f"bill-{bill.bill_number.replace('/', '-')}.pdf", content)


def _send(session: Session, context: AppContext, senders: Senders, message: Notification) -> None:
    if message.channel == NotificationChannel.EMAIL:
        if senders.email is None:
            raise SendError("email is not configured on the server (FIELDMETER_SMTP_HOST)", permanent=True)
        attachment = _attachment(session, context, message)
        senders.email.send(to=message.recipient, subject=message.subject, text=message.text, attachment=attachment)
        return
    provider = senders.provider(message.channel)
    if provider is None:
        raise SendError(f"{message.channel.value} is not configured on the server", permanent=True)
    provider.send(to=message.recipient, text=message.text, channel=message.channel)


def _attempt(session: Session, context: AppContext, senders: Senders, message: Notification, now: datetime) -> str:
    """Send ``message`` once and record how it went; what became of it."""
    unwanted = _not_wanted(session.get(Unit, message.unit_id), message)
    if unwanted is not None:
        message.status, message.last_error = NotificationStatus.SKIPPED, unwanted
        return "skipped"
    message.attempts += 1
    try:
        _send(session, context, senders, message)
    except SendError as error:
        retry_at = None if error.permanent else next_attempt(message.attempts, now)
        message.last_error = error.reason
        if retry_at is None:
            message.status = NotificationStatus.DEAD
            log.warning(
                "notification %s dead-lettered after %d attempts: %s", message.id, message.attempts, error.reason
            )
            return "dead"
        message.next_attempt_at = retry_at
        return "retrying"
    message.status, message.sent_at, message.last_error = NotificationStatus.SENT, now, None
    return "sent"


def deliver_due(context: AppContext, senders: Senders, now: datetime, *, limit: int = PER_PASS) -> Counter[str]:
    """Send up to ``limit`` due messages, oldest due first; how many were sent, are retrying, dead or skipped."""
    outcomes: Counter[str] = Counter()
    for _ in range(limit):
        with Session(context.engine) as session:
            message = _due(session, now)
            if message is None:
                break
            outcomes[_attempt(session, context, senders, message, now)] += 1
            session.add(message)
            session.commit()
    return outcomes
