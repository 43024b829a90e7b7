"""Payment plans on the server (docs/domain.md "Payment plans"): made, cancelled, and where each stands.

The rules are ``shared_billing.payment_plans``; here the plan's payments are read from the ledger's payments and the
plan is stored. ``keeps_current`` is what ``ledger.bill_status`` asks: a bill issued before the plan was agreed is
not overdue while the plan is on track.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from shared_billing.api_models import InstalmentOut, PaymentPlanOut
from shared_billing.payment_plans import Instalment, PlanStanding, next_instalment, plan_instalments, plan_standing
from sync_server.models import AuditEvent, Bill, Payment, PaymentPlan, User
from sync_server.problems import Problem

__all__ = ["active_plan", "active_standings", "cancel_plan", "create_plan", "keeps_current", "plan_out"]


def active_plan(session: Session, unit_id: int) -> PaymentPlan | None:
    return session.exec(
        select(PaymentPlan).where(PaymentPlan.unit_id == unit_id, col(PaymentPlan.cancelled_at).is_(None))
    ).first()


def _instalments(plan: PaymentPlan) -> list[Instalment]:
    return [
        Instalment(number=item["number"], due_on=date.fromisoformat(item["due_on"]), amount=Decimal(item["amount"]))
        for item in plan.instalments
    ]


def _paid(session: Session, plan: PaymentPlan) -> Decimal:
    """The account's payments booked since the plan began: each is an instalment, or part of one."""
    amounts = session.exec(
        select(col(Payment.amount)).where(Payment.unit_id == plan.unit_id, col(Payment.paid_on) >= plan.starts_on)
    ).all()
    return sum(amounts, Decimal("0.00"))


def keeps_current(session: Session, bill: Bill, today: date) -> bool:
    """True when the bill's account has a plan on track that covers the bill (issued before the plan began)."""
    plan = active_plan(session, bill.unit_id)
    if plan is None or bill.issued_at is None or bill.issued_at > plan.created_at:
        return False
    return plan_standing(_instalments(plan), _paid(session, plan), today) != PlanStanding.BEHIND


def active_standings(session: Session, unit_ids: Iterable[int], today: date) -> dict[int, PlanStanding]:
    """Where each of these accounts' plans stands (accounts without a plan absent): the defaulters list says who
    is already keeping to one."""
    plans = session.exec(
        select(PaymentPlan).where(col(PaymentPlan.unit_id).in_(list(unit_ids)), col(PaymentPlan.cancelled_at).is_(None))
    ).all()
    return {plan.unit_id: plan_standing(_instalments(plan), _paid(session, plan), today) for plan in plans}


def create_plan(
    session: Session,
    *,
    unit_id: int,
    owed: Decimal,
    count: int,
    first_due_on: date,
    today: date,
    actor: User,
    now: datetime,
) -> PaymentPlan:
    """A plan for ``owed`` (the account's balance now); the caller refreshes the bills' statuses and commits.

    409 ``payment_plan.exists`` when the account has one not cancelled; ``payment_plan.nothing_owed`` when the
    balance is not positive; ``payment_plan.invalid`` for a first instalment before today.
    """
    if owed <= 0:
        raise Problem("payment_plan.nothing_owed", f"The account owes nothing (balance {owed})")
    if first_due_on < today:
        message = f"The first instalment cannot fall before today ({today})"
        raise Problem("payment_plan.invalid", message, {"field": "first_due_on"})
    if active_plan(session, unit_id) is not None:
        raise Problem("payment_plan.exists", "The account has a payment plan already: cancel it first")
    instalments = plan_instalments(owed, count, first_due_on)
    plan = PaymentPlan(
        unit_id=unit_id,
        total=owed,
        instalments=[
            {"number": item.number, "due_on": item.due_on.isoformat(), "amount": str(item.amount)}
            for item in instalments
        ],
        starts_on=today,
        created_at=now,
        created_by_id=actor.id or 0,
    )
    session.add(plan)
    session.flush()
    _audit(session, plan, "payment_plan.created", actor, now, {"total": str(owed), "instalments": count})
    return plan


def cancel_plan(session: Session, plan: PaymentPlan, *, actor: User, now: datetime) -> PaymentPlan:
    """End a plan (its bills follow their own due dates again); the caller refreshes statuses and commits."""
    if plan.cancelled_at is not None:
        raise Problem("payment_plan.cancelled", "The payment plan is cancelled already")
    plan.cancelled_at = now
    plan.cancelled_by_id = actor.id
    session.add(plan)
    _audit(session, plan, "payment_plan.cancelled", actor, now, {})
    return plan


def plan_out(session: Session, plan: PaymentPlan, today: date) -> PaymentPlanOut:
    assert plan.id is not None
    instalments = _instalments(plan)
    paid = _paid(session, plan)
    upcoming = next_instalment(instalments, paid)
    return PaymentPlanOut(
        id=plan.id,
        unit_id=plan.unit_id,
        total=plan.total,
        starts_on=plan.starts_on,
        instalments=[InstalmentOut(number=i.number, due_on=i.due_on, amount=i.amount) for i in instalments],
        paid=paid,
        standing=None if plan.cancelled_at is not None else plan_standing(instalments, paid, today),
        next_due_on=upcoming[0].due_on if upcoming else None,
        next_amount=upcoming[1] if upcoming else None,
        cancelled_at=plan.cancelled_at,
    )


def _audit(
    session: Session, plan: PaymentPlan, action: str, actor: User, now: datetime, detail: dict[str, object]
) -> None:
    session.add(
        AuditEvent(at=now, actor_id=actor.id, action=action, entity="unit", entity_id=str(plan.unit_id), detail=detail)
    )
