"""Rounding of money and units: always ``Decimal`` with ROUND_HALF_UP, never ``float`` or ``round()``.

docs/domain.md "Rounding": each line to paise with ROUND_HALF_UP; the payable total to the rupee (≥ 50 paise up).
The system we replace used float money with Python ``round()``, whose banker's rounding gives 1234.5 → 1234;
here 1234.5 → 1235. ROUND_HALF_UP rounds ties away from zero, so a credit of −0.5 becomes −1.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["PAISA", "RUPEE", "plain_rate", "round_paise", "round_rupee", "round_units"]

PAISA = Decimal("0.01")
RUPEE = Decimal("1")


def _without_negative_zero(x: Decimal) -> Decimal:
    # Decimal keeps the sign of a zero (-0.004 → -0.00); a bill must never print "-0.00".
    return x.copy_abs() if x.is_zero() else x


def round_paise(x: Decimal) -> Decimal:
    """Round an amount of rupees to whole paise (0.01), ties away from zero; never a negative zero."""
    return _without_negative_zero(x.quantize(PAISA, rounding=ROUND_HALF_UP))


def round_rupee(x: Decimal) -> Decimal:
    """Round to a whole rupee, 50 paise and above away from zero (1234.5 → 1235); never a negative zero."""
    return _without_negative_zero(x.quantize(RUPEE, rounding=ROUND_HALF_UP))


def round_units(x: Decimal, places: int) -> Decimal:
    """Round a quantity of units (kWh) to ``places`` decimal places, ties away from zero.

    ``places`` may be 0 (whole units) or more; a negative ``places`` is a programming error.
    """
    if places < 0:
        raise ValueError(f"places must be ≥ 0, not {places}")
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def plain_rate(rate: Decimal) -> Decimal:
    """A rate as a bill prints it: to the paisa, or to as many places as it has beyond (₹9.00, ₹4.125), whatever
    places a column or a spreadsheet padded it to (9.0000 → 9.00, 4.1250 → 4.125)."""
    paise = rate.quantize(PAISA)
    return paise if paise == rate else rate.normalize()
