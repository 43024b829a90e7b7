"""Late payment surcharge: a daily pro-rata rate on the principal paid late, never on arrears or surcharges.

docs/domain.md "Late payment surcharge": on the principal only, 18% a year pro-rata by day over a 365-day year:
₹3711.00 paid 20 days late is 3711.00 × 18% × 20 ÷ 365 = 36.6016… → ₹36.60 (half-up to paise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared_billing.bill_lines import inr
from shared_billing.money import round_paise

__all__ = ["LatePaymentPolicy", "Surcharge", "late_payment_surcharge"]


@dataclass(frozen=True)
class LatePaymentPolicy:
    """The society's or utility's terms: ``annual_percent`` a year over a ``year_days``-day year."""

    annual_percent: Decimal = Decimal(18)
    year_days: int = 365

    def __post_init__(self) -> None:
        if self.annual_percent < 0 or self.year_days <= 0:
            raise ValueError("a late payment policy has a rate ≥ 0 and a year of ≥ 1 day")


@dataclass(frozen=True)
class Surcharge:
    """The surcharge, the days it ran for, and how it was computed."""

    amount: Decimal
    days_late: int
    explanation: str


def late_payment_surcharge(
    principal: Decimal, *, due_on: date, paid_on: date, policy: LatePaymentPolicy | None = None
) -> Surcharge:
    """The surcharge on ``principal`` (the bill's own charges, not arrears) paid on ``paid_on``.

    Days late = ``paid_on − due_on`` (paid on the due date: 0 days, no surcharge); nothing is charged on a
    principal ≤ 0.
    """
    terms = policy or LatePaymentPolicy()
    days = max(0, (paid_on - due_on).days)
    if days == 0 or principal <= 0:
        return Surcharge(Decimal("0.00"), days, f"Paid by the due date {due_on:%d-%m-%Y}: no late payment surcharge")
    amount = round_paise(principal * terms.annual_percent / 100 * days / terms.year_days)
    explanation = (
        f"Late payment surcharge: {inr(principal)} × {terms.annual_percent}% × {days} days ÷ {terms.year_days} "
        f"= {inr(amount)} (due {due_on:%d-%m-%Y}, paid {paid_on:%d-%m-%Y})"
    )
    return Surcharge(amount, days, explanation)
