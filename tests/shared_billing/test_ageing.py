"""Overdue ageing (shared_billing.ageing): payments settle the oldest charges first; what is left is aged from its
due day into 30-day buckets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared_billing.ageing import AgeBucket, Charge, age_account, bucket_of, oldest_bucket, overdue_amount


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-5, "not_due"), (0, "not_due"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
     (90, "61-90"), (91, "over_90"), (400, "over_90")],
)  # fmt: skip
def test_bucket_edges(days: int, bucket: str) -> None:
    assert bucket_of(days) == AgeBucket(bucket)


def test_payments_settle_the_oldest_charges_first() -> None:
    charges = [
        Charge(date(2025, 3, 10), Decimal("100.00")),
        Charge(date(2025, 1, 10), Decimal("100.00")),
        Charge(date(2025, 2, 10), Decimal("100.00")),
    ]
    owed = age_account(charges, Decimal("150.00"), date(2025, 4, 20))
    # January's paid in full, February's half (69 days late), March's untouched (41 days late).
    assert owed == {AgeBucket.DAYS_61_90: Decimal("50.00"), AgeBucket.DAYS_31_60: Decimal("100.00")}


def test_an_account_in_credit_owes_nothing() -> None:
    assert age_account([Charge(date(2025, 1, 10), Decimal("100.00"))], Decimal("120.00"), date(2025, 6, 1)) == {}
    assert age_account([], Decimal(0), date(2025, 6, 1)) == {}


def test_a_negative_settlement_pays_nothing() -> None:
    owed = age_account([Charge(date(2025, 1, 10), Decimal("80.00"))], Decimal("-20.00"), date(2025, 1, 5))
    assert owed == {AgeBucket.NOT_DUE: Decimal("80.00")}


def test_the_oldest_bucket_and_the_overdue_amount_of_an_aged_account() -> None:
    owed = {AgeBucket.NOT_DUE: Decimal("50.00"), AgeBucket.DAYS_1_30: Decimal("20.00"), AgeBucket.OVER_90: Decimal(5)}
    assert oldest_bucket(owed) == AgeBucket.OVER_90
    assert overdue_amount(owed) == Decimal("25.00")
    assert oldest_bucket({AgeBucket.NOT_DUE: Decimal(1)}) == AgeBucket.NOT_DUE
    assert overdue_amount({AgeBucket.NOT_DUE: Decimal(1)}) == 0
    assert oldest_bucket({}) is None
