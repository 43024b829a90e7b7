from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlmodel import Session, col, select

from shared_billing.api_models import PaymentPlanIn, PaymentPlanOut
from shared_billing.api_types import Id
from sync_server.billing.ledger import balance, refresh_statuses
from sync_server.billing.payment_plans import cancel_plan, create_plan, plan_out
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import PaymentPlan, Role, Unit, User
from sync_server.problems import Problem

router = APIRouter(tags=["payments"])

MONEY = access(Role.ACCOUNTANT, Role.ADMIN, errors=(404, 409))


def _unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise Problem("request.not_found", f"No unit {unit_id}")
    return unit


def _settle(session: Session, plan: PaymentPlan, user: User, now: datetime, context: ContextDep) -> PaymentPlanOut:
    """Refresh the account's bill statuses (the plan decides whether they are overdue), commit, answer the plan."""
    today = now.astimezone(context.settings.tz).date()
    refresh_statuses(session, today=today, now=now, actor=user, unit_id=plan.unit_id)
    session.commit()
    session.refresh(plan)
    return plan_out(session, plan, today)


@router.post("/units/{unit_id}/payment-plans", status_code=201, **MONEY)
def create_payment_plan(
    unit_id: Id, body: PaymentPlanIn, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep
) -> PaymentPlanOut:
    """Agree a payment plan for what the account owes now: monthly instalments; while it is on track the bills it
    covers are not overdue (docs/domain.md "Payment plans")."""
    _unit(session, unit_id)
    plan = create_plan(
        session,
        unit_id=unit_id,
        owed=balance(session, unit_id),
        count=body.instalments,
        first_due_on=body.first_due_on,
        today=now.astimezone(context.settings.tz).date(),
        actor=user,
        now=now,
    )
    return _settle(session, plan, user, now, context)


@router.get("/units/{unit_id}/payment-plans", **access(Role.ACCOUNTANT, Role.ADMIN, errors=(404,)))
def list_payment_plans(unit_id: Id, context: ContextDep, session: SessionDep, now: NowDep) -> list[PaymentPlanOut]:
    """The account's plans, the newest first, each with where it stands today."""
    _unit(session, unit_id)
    today = now.astimezone(context.settings.tz).date()
    plans = session.exec(
        select(PaymentPlan).where(PaymentPlan.unit_id == unit_id).order_by(col(PaymentPlan.id).desc())
    ).all()
    return [plan_out(session, plan, today) for plan in plans]


@router.post("/payment-plans/{plan_id}/cancel", **MONEY)
def cancel_payment_plan(
    plan_id: Id, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep
) -> PaymentPlanOut:
    """End a plan: the bills it covered follow their own due dates again."""
    plan = session.get(PaymentPlan, plan_id)
    if plan is None:
        raise Problem("request.not_found", f"No payment plan {plan_id}")
    cancel_plan(session, plan, actor=user, now=now)
    return _settle(session, plan, user, now, context)
