"""The outbox's rules, pure: who is told on which channel, when a failed message is tried again, when a bill is
reminded of, which escalation step an overdue bill has reached. The I/O around them is in ``enqueue``,
``deliver`` and ``escalation``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from shared_billing.protocol import EscalationKind, NotificationChannel, NotificationEvent, NotificationLanguage

__all__ = [
    "BACKOFF",
    "ESCALATION_EVENT",
    "ESCALATION_LATE_DAYS",
    "MAX_STEP_DAYS",
    "OVERDUE_NOTICE_DAYS",
    "Contact",
    "Step",
    "addresses",
    "dedupe_key",
    "escalation_due",
    "next_attempt",
    "reminder_due",
    "severity",
    "steps_problem",
]

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


_CHANNELS = tuple(NotificationChannel)  # iterating the enum class is slow, and a bill run asks once a bill


def addresses(contact: Contact, configured: Collection[NotificationChannel]) -> list[tuple[NotificationChannel, str]]:
    """The (channel, address) pairs a message to ``contact`` goes to: none when the consumer opted out; else each
    channel the consumer chose, the server is configured for and the unit has an address for."""
    if contact.opt_out:
        return []
    found: list[tuple[NotificationChannel, str]] = []
    for channel in _CHANNELS:
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


# --- Escalation of bills still overdue (docs/notifications.md "Escalation") ---

#: The latest day a step may be set to, after the due date: a year; past it the society acts on the debt by hand.
MAX_STEP_DAYS = 365

#: A step is taken at most this many days after its day (the job switched off for a while, notifications switched
#: on late, a plan that fell behind): older, it is passed over, as the overdue notice is (``OVERDUE_NOTICE_DAYS``),
#: so that upgrading or switching the job on never sends a disconnection notice for every old debt at once.
ESCALATION_LATE_DAYS = 30

#: What the consumer is told at each step.
ESCALATION_EVENT: dict[EscalationKind, NotificationEvent] = {
    EscalationKind.REMINDER: NotificationEvent.ESCALATION_REMINDER,
    EscalationKind.NOTICE: NotificationEvent.ESCALATION_NOTICE,
    EscalationKind.DISCONNECTION_NOTICE: NotificationEvent.DISCONNECTION_NOTICE,
}


@dataclass(frozen=True, slots=True)
class Step:
    """An escalation step: taken ``days_after`` days after a bill's due date, while the bill is still overdue."""

    kind: EscalationKind
    days_after: int
    active: bool = True


def severity(kind: EscalationKind) -> int:
    """The kind's place, mildest first (the enum's order)."""
    return list(EscalationKind).index(kind)


def _named(kind: EscalationKind) -> str:
    return kind.value.replace("_", " ")


def steps_problem(steps: Sequence[Step]) -> str | None:
    """Why a set of steps cannot stand, or None. Days are 1–365 and no two steps share one; each kind appears once
    and severity rises with the days, so a milder step never follows a severer one (it would take back what that
    said). Steps switched off are held to the same rules: switching one on again must not break them."""
    for step in steps:
        if not 1 <= step.days_after <= MAX_STEP_DAYS:
            return f"A step falls 1 to {MAX_STEP_DAYS} days after the due date, not {step.days_after}"
    kinds = [step.kind for step in steps]
    for kind in set(kinds):
        if kinds.count(kind) > 1:
            return f"Each kind of step appears once: the {_named(kind)} appears {kinds.count(kind)} times"
    days = [step.days_after for step in steps]
    for day in set(days):
        if days.count(day) > 1:
            return f"Two steps fall on day {day}: each step has a day of its own"
    ordered = sorted(steps, key=lambda step: step.days_after)
    for before, after in pairwise(ordered):
        if severity(after.kind) < severity(before.kind):
            return (
                f"Severity rises with the days: the {_named(after.kind)} on day {after.days_after} comes after "
                f"the {_named(before.kind)} on day {before.days_after}"
            )
    return None


def escalation_due(
    steps: Sequence[Step], due_on: date, today: date, logged: Collection[EscalationKind]
) -> tuple[Step | None, list[Step]]:
    """For a bill still overdue: the step to take today (or None) and the steps to pass over, logged as skipped.

    A step is reached from its day on (``due_on`` + ``days_after``, the society's calendar): the day before,
    nothing. When several are reached and not yet logged (the job was off, the steps were moved earlier), only the
    severest is taken: a consumer is not sent a reminder, a notice and a disconnection notice in one minute, and
    the milder messages would be out of date before they arrive; the milder ones are logged skipped, so they never
    fire later either. Nothing is taken that is milder than a step already logged (steps changed afterwards), nor a
    step whose day passed more than ``ESCALATION_LATE_DAYS`` ago: both are passed over."""
    reached = sorted(
        (
            step
            for step in steps
            if step.active and step.kind not in logged and due_on + timedelta(days=step.days_after) <= today
        ),
        key=lambda step: severity(step.kind),
    )
    if not reached:
        return None, []
    top = reached[-1]
    severest_logged = max((severity(kind) for kind in logged), default=-1)
    too_late = (today - due_on).days - top.days_after > ESCALATION_LATE_DAYS
    if severity(top.kind) < severest_logged or too_late:
        return None, reached
    return top, reached[:-1]
