"""Bill lines, their stable codes, and the rupee formatting used in calculation traces.

docs/domain.md "Rounding": each line to paise with ROUND_HALF_UP. A line's ``code`` is a ``LineCode`` value; levy
and subsidy lines add the tariff's own code after a colon (``levy:duty``, ``subsidy:lifeline``) so a ledger can
post each to its account.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

__all__ = ["Adjustment", "BillLine", "LineCode", "about", "inr", "signed_inr"]


class LineCode(StrEnum):
    """Stable codes of bill lines (stored with each line; descriptions are for people and may change)."""

    ENERGY = "energy"
    SHARED_METER = "shared_meter"
    FIXED = "fixed"
    MINIMUM_CHARGE = "minimum_charge"
    LEVY = "levy"
    SUBSIDY = "subsidy"
    ADJUSTMENT = "adjustment"
    ARREARS = "arrears"
    ROUND_OFF = "round_off"


@dataclass(frozen=True)
class BillLine:
    """One line of a bill: ``amount`` in rupees at 0.01; ``rate`` is ``None`` for unpriced lines."""

    code: str
    description: str
    quantity: Decimal
    rate: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class Adjustment:
    """An amount the caller adds to a bill on its own line (a true-up of estimated bills, a debit note).

    Positive is a debit, negative a credit; ``explanation`` goes into the bill's trace.
    """

    description: str
    amount: Decimal
    explanation: str = ""


def inr(amount: Decimal) -> str:
    """``₹1686.65``, ``−₹100.00`` (two decimals, a real minus sign)."""
    sign = "−" if amount < 0 else ""
    return f"{sign}₹{abs(amount):.2f}"


def signed_inr(amount: Decimal) -> str:
    """``+₹0.44`` or ``−₹0.30``."""
    return f"{'−' if amount < 0 else '+'}₹{abs(amount):.2f}"


def about(value: Decimal) -> str:
    """Truncated to 6 places, with an ellipsis when digits were cut (docs/domain.md writes 210 × 77 / 408 = 39.632…)."""
    shown = value.quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    return f"{shown}" if shown == value else f"{shown}…"
