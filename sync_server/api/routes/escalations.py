"""Escalation of bills still overdue (docs/notifications.md "Escalation"): the steps (admins read and replace
them) and the log of the steps taken (admins and accountants, who chase the debts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlmodel import col

from shared_billing.api_models import EscalationOut, EscalationStepOut, EscalationStepsIn, Page
from shared_billing.api_types import Id
from shared_billing.protocol import EscalationKind, EscalationOutcome
from sync_server.api.paging import PageQuery, paginate
from sync_server.deps import CurrentUser, NowDep, SessionDep, access
from sync_server.models import Bill, Escalation, Role, Unit
from sync_server.notifications.escalation import read_steps, replace_steps
from sync_server.notifications.rules import Step

router = APIRouter(tags=["notifications"])


def _steps_out(steps: Sequence[Step]) -> list[EscalationStepOut]:
    return [EscalationStepOut(kind=step.kind, days_after=step.days_after, active=step.active) for step in steps]


@router.get("/escalation-steps", **access(Role.ADMIN))
def list_escalation_steps(session: SessionDep) -> list[EscalationStepOut]:
    """The steps taken for a bill still overdue, by day (three at most: not paged)."""
    return _steps_out(read_steps(session))


@router.put("/escalation-steps", **access(Role.ADMIN))
def replace_escalation_steps(
    body: EscalationStepsIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> list[EscalationStepOut]:
    """Replace every step (those left out are removed); audited ``escalation.steps_replaced`` with the steps before
    and after. ``422 escalation.invalid`` for two steps of a kind or on one day, or a milder step after a severer
    one. Bills' steps already logged are not taken again."""
    steps = [Step(item.kind, item.days_after, item.active) for item in body.steps]
    replaced = replace_steps(session, steps, actor=user, now=now, reason=body.reason)
    session.commit()
    return _steps_out(replaced)


@router.get("/escalations", **access(Role.ADMIN, Role.ACCOUNTANT))
def list_escalations(
    session: SessionDep,
    page: PageQuery,
    unit_id: Id | None = None,
    bill_id: Id | None = None,
    kind: EscalationKind | None = None,
    outcome: EscalationOutcome | None = None,
) -> Page[EscalationOut]:
    """The escalation log, newest first: each step of each bill, taken or passed over, when, and how many
    messages it enqueued; ``q`` searches the unit's code and the bill's number."""
    statement: Any = (
        select(Escalation, col(Unit.code), col(Bill.bill_number), col(Bill.due_on))
        .join(Unit, col(Unit.id) == col(Escalation.unit_id))
        .join(Bill, col(Bill.id) == col(Escalation.bill_id))
        .order_by(col(Escalation.id).desc())
    )
    for column, value in (
        (Escalation.unit_id, unit_id),
        (Escalation.bill_id, bill_id),
        (Escalation.kind, kind),
        (Escalation.outcome, outcome),
    ):
        if value is not None:
            statement = statement.where(col(column) == value)
    rows, total = paginate(session, statement, page, search=[col(Unit.code), col(Bill.bill_number)])
    items = [
        EscalationOut.model_validate(
            {**logged.model_dump(), "unit_code": code, "bill_number": number, "due_on": due_on}
        )
        for logged, code, number, due_on in rows
    ]
    return Page[EscalationOut](items=items, total=total, limit=page.limit, offset=page.offset)
