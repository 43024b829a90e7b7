"""Bill lines, their stable codes, and the rupee formatting used in calculation traces.

docs/domain.md "Rounding": each line to paise with ROUND_HALF_UP. A line's ``code`` is a ``LineCode`` value; levy
and subsidy lines and recurring charges add the tariff's own code after a colon (``levy:duty``, ``subsidy:lifeline``,
``charge:meter_rent``) so a ledger can post each to its account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

__all__ = ["Adjustment", "BillLine", "LineCode", "about", "inr", "ledger_charge", "signed_inr", "tariff_charges"]


class LineCode(StrEnum):
    """Stable codes of bill lines (stored with each line; descriptions are for people and may change)."""

    ENERGY = "energy"
    SHARED_METER = "shared_meter"
    FIXED = "fixed"
    MINIMUM_CHARGE = "minimum_charge"
    CHARGE = "charge"
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


def ledger_charge(lines: Iterable[BillLine]) -> Decimal:
    """What a bill charges its account's ledger: every line but the arrears brought forward, i.e. ``payable −
    arrears`` (stored as ``Bill.charges``, printed as the invoice's "payable for this bill").

    The arrears are the ledger's balance already (docs/domain.md "Ledger, arrears and payments"); the bill's own
    adjustments and round-off are new and are charged with it.
    """
    return sum((line.amount for line in lines if line.code != LineCode.ARREARS), Decimal("0.00"))


def tariff_charges(lines: Iterable[BillLine]) -> Decimal:
    """What the tariff priced for the period's consumption: the lines without arrears, adjustments and round-off.

    A true-up nets an estimated bill's tariff charges off the same period re-rated on its actual units
    (docs/domain.md "Estimated reads and true-up"), like for like: the re-rating has no arrears, no adjustment
    and is taken before round-off, and the estimate's round-off stays charged as billed.
    """
    left_out = (LineCode.ARREARS, LineCode.ADJUSTMENT, LineCode.ROUND_OFF)
    return sum((line.amount for line in lines if line.code not in left_out), Decimal("0.00"))


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
