"""Overdue ageing of an account: how much of what it owes has been due for how long.

Payments and credits settle the oldest charges first (first in, first out), the way a society's office and its
accountant read a ledger: what remains unpaid is the newest charges. Each remaining amount is aged from its due day
into one of ``AGEING_BUCKETS``; a charge not yet due is ``not_due``. An account in credit owes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

__all__ = ["AGEING_BUCKETS", "AgeBucket", "Charge", "age_account", "bucket_of", "oldest_bucket", "overdue_amount"]


class AgeBucket(StrEnum):
    NOT_DUE = "not_due"
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    OVER_90 = "over_90"


AGEING_BUCKETS: tuple[AgeBucket, ...] = tuple(AgeBucket)
_UPPER_DAYS = (
    (0, AgeBucket.NOT_DUE),
    (30, AgeBucket.DAYS_1_30),
    (60, AgeBucket.DAYS_31_60),
    (90, AgeBucket.DAYS_61_90),
)


@dataclass(frozen=True)
class Charge:
    """Something the account was charged: its amount and the day it fell due."""

    due_on: date
    amount: Decimal


def bucket_of(days_overdue: int) -> AgeBucket:
    """The bucket of an amount ``days_overdue`` days past its due day (0 or less: not yet overdue)."""
    for upper, bucket in _UPPER_DAYS:
        if days_overdue <= upper:
            return bucket
    return AgeBucket.OVER_90


def age_account(charges: Iterable[Charge], settled: Decimal, today: date) -> dict[AgeBucket, Decimal]:
    """What the account still owes per bucket on ``today``: ``settled`` (payments and credits, a positive sum)
    pays the charges in the order they fell due. Buckets with nothing owed are absent."""
    left = settled
    owed: dict[AgeBucket, Decimal] = {}
    for charge in sorted(charges, key=lambda c: c.due_on):
        paid = min(max(left, Decimal(0)), charge.amount)
        left -= paid
        remaining = charge.amount - paid
        if remaining > 0:
            bucket = bucket_of((today - charge.due_on).days)
            owed[bucket] = owed.get(bucket, Decimal(0)) + remaining
    return owed


def overdue_amount(owed: dict[AgeBucket, Decimal]) -> Decimal:
    """What of an aged account is past its due day (everything but ``not_due``)."""
    return sum((amount for bucket, amount in owed.items() if bucket != AgeBucket.NOT_DUE), Decimal(0))


def oldest_bucket(owed: dict[AgeBucket, Decimal]) -> AgeBucket | None:
    """The oldest bucket an aged account owes in (None when it owes nothing)."""
    return max(owed, key=AGEING_BUCKETS.index, default=None)
