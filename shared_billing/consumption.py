"""Consumption: the units a meter recorded between two register values.

This slice knows only the ordinary case, ``(current − previous) × multiplier``. DOMAIN.md's rollover
(``(curr − prev) mod 10^dials × multiplier``, when plausible) and meter replacement (old final − old
previous + new current − new initial) arrive in a later issue as their own functions here; they will call
``subtractive_consumption`` for each plain segment. Until then a current value below the previous one is
refused (``consumption.negative``), never billed as the raw register value (the defect of the system we
replace).
"""

from __future__ import annotations

from decimal import Decimal

from shared_billing.errors import NegativeConsumption

__all__ = ["subtractive_consumption"]


def subtractive_consumption(previous: Decimal, current: Decimal, *, multiplier: Decimal = Decimal(1)) -> Decimal:
    """Units consumed: ``(current − previous) × multiplier``, exact (no rounding).

    Raises ``NegativeConsumption`` (``consumption.negative``) when ``current < previous``: a rollover, a
    replaced meter or a typo, which a person must resolve. Zero consumption is valid (the fixed charge still
    applies). A multiplier ≤ 0 is bad meter master data and raises ``ValueError``.
    """
    if not multiplier > 0:
        raise ValueError(f"the multiplying factor must be positive, not {multiplier}")
    if current < previous:
        raise NegativeConsumption(
            f"Current reading {current} is below the previous reading {previous}: "
            "a rollover, a replaced meter or a typo?",
            previous=str(previous),
            current=str(current),
        )
    return (current - previous) * multiplier
