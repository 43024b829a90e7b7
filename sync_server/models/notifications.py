"""The notifications outbox: one row per message to one consumer on one channel (docs/notifications.md).

A row is written in the transaction of the event it tells of (a bill issued, a payment recorded) or by the
``notifications`` job (reminders, overdue notices), and worked by the same job: sent, retried with backoff, or
dead-lettered with the reason. ``dedupe_key`` makes each message once: a second enqueue of it is a no-op.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared_billing.protocol import NotificationChannel, NotificationEvent, NotificationStatus
from sync_server.db_types import StrEnumColumn, UTCDateTime

__all__ = ["Notification"]


class Notification(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # "<event>:<bill or payment id>:<channel>": the message's identity, unique.
    dedupe_key: str = Field(max_length=80, unique=True)
    event: NotificationEvent = Field(sa_type=StrEnumColumn(NotificationEvent, 20))
    channel: NotificationChannel = Field(sa_type=StrEnumColumn(NotificationChannel, 10))
    unit_id: int = Field(foreign_key="unit.id", index=True)
    bill_id: int | None = Field(default=None, foreign_key="bill.id", index=True)
    payment_id: int | None = Field(default=None, foreign_key="payment.id")
    recipient: str = Field(max_length=254)  # an email address or a phone number, as the unit had it
    language: str = Field(max_length=2)
    subject: str = Field(max_length=200)  # email only; the other channels send the text alone
    text: str = Field(max_length=1000)
    status: NotificationStatus = Field(
        default=NotificationStatus.PENDING, sa_type=StrEnumColumn(NotificationStatus, 10), index=True
    )
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)  # never a secret: providers' answers are cut short
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
