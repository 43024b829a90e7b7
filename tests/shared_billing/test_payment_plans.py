"""Payment plans, the rules (shared_billing/payment_plans.py): instalments that add up, monthly days clipped to a
month's end, and where a plan stands from what was paid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.payment_plans import (
    MAX_INSTALMENTS,
    PlanStanding,
    next_instalment,
    plan_instalments,
    plan_standing,
)


def test_instalments_add_up_to_the_paisa_and_fall_monthly_clipped_to_the_month() -> None:
    plan = plan_instalments(Decimal("1000.00"), 3, date(2026, 1, 31))
    assert [(i.number, i.due_on, i.amount) for i in plan] == [
        (1, date(2026, 1, 31), Decimal("333.33")),
        (2, date(2026, 2, 28), Decimal("333.33")),
        (3, date(2026, 3, 31), Decimal("333.34")),
    ]
    across_the_year = plan_instalments(Decimal("300"), 3, date(2027, 11, 30))
    assert [i.due_on for i in across_the_year] == [date(2027, 11, 30), date(2027, 12, 30), date(2028, 1, 30)]
    assert plan_instalments(Decimal("100.00"), 1, date(2026, 5, 1))[0].amount == Decimal("100.00")


@given(
    total=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2),
    count=st.integers(min_value=1, max_value=MAX_INSTALMENTS),
)
def test_instalments_always_add_up_and_none_is_negative(total: Decimal, count: int) -> None:
    plan = plan_instalments(total, count, date(2026, 2, 29 - 1))
    assert sum(i.amount for i in plan) == total
    assert all(i.amount >= 0 for i in plan)
    assert max(i.amount for i in plan) - min(i.amount for i in plan) <= Decimal("0.01") * count


@pytest.mark.parametrize(("total", "count"), [(Decimal(0), 3), (Decimal(-5), 3), (Decimal(100), 0), (Decimal(100), 25)])
def test_a_plan_needs_a_debt_and_a_sane_count(total: Decimal, count: int) -> None:
    with pytest.raises(ValueError, match="payment plan"):
        plan_instalments(total, count, date(2026, 1, 1))


def test_where_a_plan_stands_on_both_sides_of_an_instalment_day() -> None:
    plan = plan_instalments(Decimal("900.00"), 3, date(2026, 1, 31))  # 31 Jan, 28 Feb, 31 Mar
    assert plan_standing(plan, Decimal(0), date(2026, 1, 31)) == PlanStanding.ON_TRACK  # due today, not late yet
    assert plan_standing(plan, Decimal(0), date(2026, 2, 1)) == PlanStanding.BEHIND  # the next month: late
    assert plan_standing(plan, Decimal("300.00"), date(2026, 2, 28)) == PlanStanding.ON_TRACK
    assert plan_standing(plan, Decimal("300.00"), date(2026, 3, 1)) == PlanStanding.BEHIND
    assert plan_standing(plan, Decimal("599.99"), date(2026, 3, 1)) == PlanStanding.BEHIND
    assert plan_standing(plan, Decimal("900.00"), date(2026, 1, 1)) == PlanStanding.COMPLETED  # paid ahead


def test_the_next_instalment_and_what_is_left_of_it() -> None:
    plan = plan_instalments(Decimal("900.00"), 3, date(2026, 1, 31))
    assert next_instalment(plan, Decimal(0)) == (plan[0], Decimal("300.00"))
    assert next_instalment(plan, Decimal("400.00")) == (plan[1], Decimal("200.00"))
    assert next_instalment(plan, Decimal("900.00")) is None
