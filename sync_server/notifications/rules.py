"""The outbox's rules, pure: who is told on which channel, when a failed message is tried again, when a bill is
reminded of. The I/O around them is in ``enqueue`` and ``deliver``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared_billing.protocol import NotificationChannel, NotificationEvent, NotificationLanguage

__all__ = ["BACKOFF", "OVERDUE_NOTICE_DAYS", "Contact", "addresses", "dedupe_key", "next_attempt", "reminder_due"]

#: Waits after the 1st, 2nd, … failed attempt; after the last one the message is dead-lettered (5 attempts in all,
#: over about two and a half hours: a provider's outage of an afternoon is ridden out, a wrong number is not retried
#: for days).
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)

#: An overdue notice goes out for a bill that turned overdue in the last this many days: switching notifications on
#: does not tell every consumer of every old debt at once.
OVERDUE_NOTICE_DAYS = 30


@dataclass(frozen=True, slots=True)
class Contact:
    """What a unit says about being told: its addresses and its preferences."""

    unit_id: int
    email: str | None
    phone: str | None
    language: NotificationLanguage
    channels: Sequence[str]
    opt_out: bool


def addresses(contact: Contact, configured: Collection[NotificationChannel]) -> list[tuple[NotificationChannel, str]]:
    """The (channel, address) pairs a message to ``contact`` goes to: none when the consumer opted out; else each
    channel the consumer chose, the server is configured for and the unit has an address for."""
    if contact.opt_out:
        return []
    found: list[tuple[NotificationChannel, str]] = []
    for channel in NotificationChannel:
        address = contact.email if channel == NotificationChannel.EMAIL else contact.phone
        if channel in configured and channel.value in contact.channels and address:
            found.append((channel, address))
    return found


def dedupe_key(event: NotificationEvent, subject_id: int, channel: NotificationChannel) -> str:
    """A message's identity: one event of one bill (or payment) on one channel is sent once."""
    return f"{event.value}:{subject_id}:{channel.value}"


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts (1 after the first), or None: dead-letter it."""
    if attempts > len(BACKOFF):
        return None
    return now + BACKOFF[attempts - 1]


def reminder_due(due_on: date, today: date, days_before: int) -> bool:
    """A bill is reminded of from ``days_before`` days before its due date until the day itself (the society's
    calendar); after it, the overdue notice speaks."""
    return due_on - timedelta(days=days_before) <= today <= due_on
