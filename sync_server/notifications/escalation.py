"""Escalation of bills still overdue (docs/notifications.md "Escalation"): the steps an admin sets, and the job's
part that takes them — each step of each bill logged once (``escalation``), its message through the outbox.

Which step a bill has reached is ``rules.escalation_due`` (pure); whether the bill is still overdue is the ledger's
own verdict (``ledger.bill_status``: the account owes, past the due date, no payment plan on track covering it),
asked again when a step is due, so a payment or a plan agreed since the last overdue refresh stops it at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, delete, exists, select
from sqlmodel import Session, col

from shared_billing.protocol import BillStatus, EscalationKind, EscalationOutcome, NotificationEvent
from sync_server.billing.ledger import OPEN_STATUSES, balances, bill_status
from sync_server.config import Settings
from sync_server.models import AuditEvent, Bill, Escalation, EscalationStep, User
from sync_server.notifications.enqueue import bill_message, enqueue_each
from sync_server.notifications.rules import ESCALATION_EVENT, Step, escalation_due, severity, steps_problem
from sync_server.problems import Problem
from sync_server.sql import insert_ignoring, one_of, table_of

__all__ = ["escalate", "read_steps", "replace_steps"]

_LOG = table_of(Escalation)


def read_steps(session: Session) -> list[Step]:
    """The steps, by day."""
    rows = session.execute(select(EscalationStep).order_by(col(EscalationStep.days_after))).scalars()
    return [Step(row.kind, row.days_after, row.active) for row in rows]


def _described(steps: Sequence[Step]) -> list[dict[str, object]]:
    return [{"kind": step.kind.value, "days_after": step.days_after, "active": step.active} for step in steps]


def replace_steps(
    session: Session, steps: Sequence[Step], *, actor: User, now: datetime, reason: str | None
) -> list[Step]:
    """Replace every step with ``steps`` (``422 escalation.invalid`` when they cannot stand), audited with what was
    there before; the caller commits. The log keeps its rows: a bill's steps already taken are not taken again."""
    problem = steps_problem(steps)
    if problem is not None:
        raise Problem("escalation.invalid", problem)
    before = read_steps(session)
    session.execute(delete(EscalationStep))
    for step in steps:
        session.add(EscalationStep(kind=step.kind, days_after=step.days_after, active=step.active))
    session.flush()
    after = read_steps(session)
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="escalation.steps_replaced",
            entity="escalation_steps",
            entity_id="all",
            reason=reason,
            detail={"from": _described(before), "to": _described(after)},
        )
    )
    return after


def _logged(session: Session, bill_ids: Sequence[int]) -> dict[int, set[EscalationKind]]:
    """The kinds logged for each bill (taken or skipped), in one statement."""
    found: dict[int, set[EscalationKind]] = {bill_id: set() for bill_id in bill_ids}
    query = select(col(Escalation.bill_id), col(Escalation.kind)).where(
        one_of(session, Escalation.bill_id, bill_ids, Integer)
    )
    for bill_id, kind in session.execute(query):
        found[bill_id].add(kind)
    return found


def _candidates(session: Session, steps: Sequence[Step], due_by: date) -> list[tuple[int, date]]:
    """(id, due date) of the open bills due by ``due_by`` (the first step's day has come) whose severest step is not
    logged yet (once it is, nothing milder can be taken: ``escalation_due``), in id order. Ids and days only: a bill
    waiting for its next step is looked at every pass, and its lines and trace are not needed for that."""
    severest = max(steps, key=lambda step: severity(step.kind)).kind
    done = exists().where(col(Escalation.bill_id) == col(Bill.id), col(Escalation.kind) == severest)
    query = (
        select(col(Bill.id), col(Bill.due_on))
        .where(col(Bill.status).in_(OPEN_STATUSES), col(Bill.due_on) <= due_by, ~done)
        .order_by(col(Bill.id))
    )
    return [(bill_id, due_on) for bill_id, due_on in session.execute(query)]


def escalate(session: Session, *, settings: Settings, now: datetime) -> tuple[int, int]:
    """The job's part: for each bill still overdue, the step it has reached today (the society's calendar) taken
    and logged, its message enqueued; the steps passed over logged skipped. The caller commits; (taken, skipped).

    Logged whatever the channels: the log is the society's record of where each defaulter stands (a notice may be
    delivered by hand), and ``messages`` says how many messages the step enqueued."""
    steps = [step for step in read_steps(session) if step.active]
    if not steps:
        return 0, 0
    today = now.astimezone(settings.tz).date()
    candidates = _candidates(session, steps, today - timedelta(days=min(step.days_after for step in steps)))
    logged = _logged(session, [bill_id for bill_id, _ in candidates])
    taken: list[tuple[Bill, Step]] = []
    rows: list[dict[str, Any]] = []
    for bill_id, due_on in candidates:
        fire, skip = escalation_due(steps, due_on, today, logged[bill_id])
        if fire is None and not skip:
            continue
        bill = session.get(Bill, bill_id)
        # Asked again, not read from the stored status: a payment or a plan since the last refresh counts now.
        if bill is None or bill_status(session, bill, today) != BillStatus.OVERDUE:
            continue
        outcomes = [(step, EscalationOutcome.SKIPPED) for step in skip]
        if fire is not None:
            taken.append((bill, fire))
            outcomes.append((fire, EscalationOutcome.FIRED))
        rows.extend(
            {
                "bill_id": bill.id,
                "unit_id": bill.unit_id,
                "kind": step.kind,
                "days_after": step.days_after,
                "outcome": outcome,
                "at": now,
                "messages": 0,
            }
            for step, outcome in outcomes
        )
    if not rows:
        return 0, 0
    offered = _enqueue(session, taken, settings=settings, now=now)
    for row in rows:
        if row["outcome"] == EscalationOutcome.FIRED:
            row["messages"] = offered[(ESCALATION_EVENT[row["kind"]], row["bill_id"])]
    # Insert-or-ignore on (bill, kind): the job's firing is claimed once across workers already; this makes a
    # step logged once even so.
    session.execute(insert_ignoring(session.get_bind().dialect.name, _LOG, _LOG.c.bill_id, _LOG.c.kind), rows)
    return len(taken), len(rows) - len(taken)


def _enqueue(
    session: Session, taken: Sequence[tuple[Bill, Step]], *, settings: Settings, now: datetime
) -> Counter[tuple[NotificationEvent, int]]:
    """Each step's message: what the account owes now, the bill it is about."""
    owed = balances(session, {bill.unit_id for bill, _ in taken})
    messages = []
    for bill, step in taken:
        assert bill.id is not None
        assert bill.bill_number is not None
        assert bill.due_on is not None
        messages.append(
            bill_message(
                ESCALATION_EVENT[step.kind],
                bill_id=bill.id,
                unit_id=bill.unit_id,
                number=bill.bill_number,
                period=bill.period,
                amount=owed[bill.unit_id],
                due_on=bill.due_on,
                settings=settings,
            )
        )
    return enqueue_each(session, messages, settings=settings, now=now)
