"""Payment plans: what an account owes, paid in instalments on agreed days (docs/domain.md "Payment plans").

A plan does not change what is owed: the ledger keeps the charges, and each instalment is an ordinary payment
booked against the account. What the plan changes is the overdue status: while the payments since the plan began
cover every instalment whose day has passed, the plan is on track and the bills it covers are not overdue; once an
instalment's day passes uncovered it is behind, and they are overdue again. Pure: the caller passes dates and sums.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from shared_billing.money import round_paise

__all__ = ["MAX_INSTALMENTS", "Instalment", "PlanStanding", "next_instalment", "plan_instalments", "plan_standing"]

MAX_INSTALMENTS = 24  # two years of monthly instalments: beyond that it is a write-off decision, not a plan


@dataclass(frozen=True)
class Instalment:
    number: int  # 1, 2, …
    due_on: date
    amount: Decimal


class PlanStanding(StrEnum):
    ON_TRACK = "on_track"  # every instalment whose day has passed is covered
    BEHIND = "behind"  # one is not: the plan's bills are overdue again
    COMPLETED = "completed"  # the whole plan is paid


def _month_later(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it is shorter (31 Jan → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def plan_instalments(total: Decimal, count: int, first_due_on: date) -> list[Instalment]:
    """``total`` in ``count`` monthly instalments from ``first_due_on``: equal to the paisa, the paise left over
    on the last one (so they add up exactly)."""
    if total <= 0:
        raise ValueError("a payment plan is for a positive amount owed")
    if not 1 <= count <= MAX_INSTALMENTS:
        raise ValueError(f"a payment plan has 1 to {MAX_INSTALMENTS} instalments, not {count}")
    each = round_paise(total / count)
    # Rounding half-up may overshoot: then the earlier instalments take a paisa less.
    if each * (count - 1) >= total:
        each = (total / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    amounts = [each] * (count - 1) + [total - each * (count - 1)]
    return [
        Instalment(number=index + 1, due_on=_month_later(first_due_on, index), amount=amount)
        for index, amount in enumerate(amounts)
    ]


def plan_standing(instalments: Sequence[Instalment], paid: Decimal, today: date) -> PlanStanding:
    """Where a plan stands on ``today`` given what was ``paid`` since it began (payments cover instalments in order;
    an instalment is late from the day after its day, as a bill is)."""
    if paid >= sum((instalment.amount for instalment in instalments), Decimal(0)):
        return PlanStanding.COMPLETED
    due = sum((instalment.amount for instalment in instalments if today > instalment.due_on), Decimal(0))
    return PlanStanding.ON_TRACK if paid >= due else PlanStanding.BEHIND


def next_instalment(instalments: Sequence[Instalment], paid: Decimal) -> tuple[Instalment, Decimal] | None:
    """The first instalment ``paid`` does not cover, and what is still to pay of it; None when all are covered."""
    covered = paid
    for instalment in instalments:
        if covered < instalment.amount:
            return instalment, instalment.amount - max(covered, Decimal(0))
        covered -= instalment.amount
    return None
