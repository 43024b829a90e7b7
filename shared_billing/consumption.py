"""Consumption: the units a meter recorded between two register values.

docs/domain.md "Consumption", "Rollover", "Meter replacement":
- cumulative (subtractive) registers: ``(current − previous) × multiplier``; consumption registers show the
  period's units themselves: ``value × multiplier``;
- rollover: ``consumption = (curr − prev) mod 10^dials × multiplier``, only when plausible (prev near the
  maximum, curr small), at most one rollover a period (99,950 → 00,120 on 5 dials = 170 units);
- meter replacement: ``(old final − old previous) + (new current − new initial)``; slabs apply to the sum
  (old 4,500 → 4,620 and new 0 → 75 = 195 units).

``meter_consumption`` rounds the units to the meter's own precision (its decimals, half up) before anything
prices or splits them, and its explanations print quantities without trailing zeros.

*Plausible rollover* here: the previous value is in the top tenth of the register's range (≥ 0.9 × 10^dials)
and the current one in the bottom tenth (< 0.1 × 10^dials), and, when the caller knows the expected window
for the period (from history), the rollover consumption does not exceed its upper bound. A rollover's
consumption is then below 0.2 × 10^dials × multiplier. Any other drop is refused (``BelowPrevious``, code
``reading.below_previous``, the name of the reading's flag too) and never billed as the raw register value
(the defect of the system we replace): a person decides between a rollover, a replaced meter and a typo.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from shared_billing.checks import ReadingFlag
from shared_billing.errors import BelowPrevious, TooManyDigits
from shared_billing.money import round_units
from shared_billing.readings import format_quantity
from shared_billing.readings import format_quantity as _q

__all__ = [
    "ROLLOVER_BAND",
    "Consumption",
    "MeterRegister",
    "RegisterKind",
    "is_plausible_rollover",
    "meter_consumption",
    "replacement_consumption",
    "subtractive_consumption",
]

#: "Near the maximum" and "small", as a fraction of the register's range (see the module docstring).
ROLLOVER_BAND = Decimal("0.1")


class RegisterKind(StrEnum):
    """Cumulative registers count up for ever; consumption registers show the period's units (reset each read)."""

    CUMULATIVE = "cumulative"
    CONSUMPTION = "consumption"


@dataclass(frozen=True)
class MeterRegister:
    """Meter master data for one register: dials, decimals shown, multiplying factor, kind."""

    dials: int
    decimals: int = 0
    multiplier: Decimal = Decimal(1)
    kind: RegisterKind = RegisterKind.CUMULATIVE

    def __post_init__(self) -> None:
        # Bad meter master data is a configuration bug, not a reading to flag.
        if self.dials < 1 or self.decimals < 0:
            raise ValueError(f"a register has ≥ 1 dial and ≥ 0 decimals, not {self.dials}/{self.decimals}")
        if not self.multiplier > 0:
            raise ValueError(f"the multiplying factor must be positive, not {self.multiplier}")

    @cached_property
    def capacity(self) -> Decimal:
        """10^dials: register values are below it, and it wraps to 0 there."""
        return Decimal(10) ** self.dials

    @cached_property
    def _plain_multiplier(self) -> Decimal:
        return _plain(self.multiplier)

    def units(self, register_units: Decimal) -> Decimal:
        """Units from a register difference: rounded to the meter's precision (its decimals, half up), times the
        multiplier written without padding zeros.

        Stored register values and multipliers carry 4 places, so a raw product has 8; priced or split by days at
        that precision, a true-up drifts by a paisa from the published arithmetic on whole units. The register is
        what has a precision: a fractional multiplier (a CT ratio of 0.5) still counts every half unit.
        """
        return round_units(register_units, self.decimals) * self._plain_multiplier

    def check(self, value: Decimal) -> None:
        """``TooManyDigits`` for a value the register cannot show."""
        if not 0 <= value < self.capacity:
            raise TooManyDigits(
                f"Value {value} does not fit a {self.dials}-dial register", value=str(value), dials=str(self.dials)
            )


@dataclass(frozen=True)
class Consumption:
    """Units for a period and how they were obtained (``explanation`` goes into the bill's trace)."""

    units: Decimal
    explanation: tuple[str, ...]
    rollover: bool = False
    replaced: bool = False
    estimated: bool = False


def subtractive_consumption(previous: Decimal, current: Decimal, *, multiplier: Decimal = Decimal(1)) -> Decimal:
    """Units consumed: ``(current − previous) × multiplier``, exact (no rounding).

    Raises ``BelowPrevious`` (``reading.below_previous``) when ``current < previous``: a rollover, a
    replaced meter or a typo, which ``meter_consumption`` or a person must resolve. Zero consumption is valid
    (the fixed charge still applies). A multiplier ≤ 0 is bad meter master data and raises ``ValueError``.
    """
    if not multiplier > 0:
        raise ValueError(f"the multiplying factor must be positive, not {multiplier}")
    if current < previous:
        raise BelowPrevious(
            f"Current reading {current} is below the previous reading {previous}: "
            "a rollover, a replaced meter or a typo?",
            previous=str(previous),
            current=str(current),
        )
    return (current - previous) * multiplier


def _wrapped(register: MeterRegister, previous: Decimal, current: Decimal) -> Decimal:
    # (curr − prev) mod 10^dials for curr < prev, written out: Decimal's % keeps the dividend's sign.
    return register.capacity - previous + current


def _plain(value: Decimal) -> Decimal:
    """``value`` without padding zeros and without an exponent (``40.0000`` → ``40``, not ``4E+1``)."""
    return Decimal(format_quantity(value))


def _rollover_refusal(
    register: MeterRegister, previous: Decimal, current: Decimal, expected_max_units: Decimal | None, band: Decimal
) -> str | None:
    # The reason a drop is not a plausible rollover, or None when it is (module docstring).
    capacity = register.capacity
    high, low = (capacity * (1 - band)).normalize(), (capacity * band).normalize()
    if previous < high:
        return f"the previous value {previous} is not near the maximum ({high:f} or more)"
    if current >= low:
        return f"the current value {current} is not small (below {low:f})"
    units = _wrapped(register, previous, current)
    if expected_max_units is not None and units > expected_max_units:
        return f"a rollover would mean {units} units, above the expected {expected_max_units}"
    return None


def is_plausible_rollover(
    register: MeterRegister,
    previous: Decimal,
    current: Decimal,
    *,
    expected_max_units: Decimal | None = None,
    band: Decimal = ROLLOVER_BAND,
) -> bool:
    """Whether a drop from ``previous`` to ``current`` may be billed as one rollover (module docstring)."""
    return current < previous and _rollover_refusal(register, previous, current, expected_max_units, band) is None


def meter_consumption(
    register: MeterRegister,
    previous: Decimal | None,
    current: Decimal,
    *,
    expected_max_units: Decimal | None = None,
    band: Decimal = ROLLOVER_BAND,
) -> Consumption:
    """The units between two register values, with at most one rollover when plausible.

    ``previous`` is unused (may be ``None``) for a consumption register. A drop that is not a plausible
    rollover raises ``BelowPrevious`` with ``details["flag"] = "below_previous"`` and the reason.
    """
    register.check(current)
    multiplier = _q(register.multiplier)
    if register.kind == RegisterKind.CONSUMPTION:
        units = register.units(current)
        return Consumption(units, (f"Consumption register: {_q(current)} × {multiplier} = {units} units",))
    if previous is None:
        raise ValueError("a cumulative register needs the previous value")
    register.check(previous)
    if current >= previous:
        units = register.units(subtractive_consumption(previous, current))
        return Consumption(units, (f"Meter: ({_q(current)} − {_q(previous)}) × {multiplier} = {units} units",))
    refusal = _rollover_refusal(register, previous, current, expected_max_units, band)
    if refusal is not None:
        raise BelowPrevious(
            f"Current reading {current} is below the previous reading {previous} and is not a plausible rollover "
            f"({refusal}): a replaced meter or a typo?",
            previous=str(previous),
            current=str(current),
            flag=ReadingFlag.BELOW_PREVIOUS,
            reason=refusal,
        )
    units = register.units(_wrapped(register, previous, current))
    explanation = (
        f"Meter rolled over at {register.capacity} ({register.dials} dials): ({_q(current)} − {_q(previous)}) mod "
        f"{register.capacity} × {multiplier} = {units} units"
    )
    return Consumption(units, (explanation,), rollover=True)


def replacement_consumption(
    old: MeterRegister,
    old_previous: Decimal,
    old_final: Decimal,
    new: MeterRegister,
    new_initial: Decimal,
    new_current: Decimal,
) -> Consumption:
    """Units over a meter replacement: the old meter's part plus the new meter's, priced together.

    At most one rollover in the period, on either meter (a second is refused as ``reading.below_previous``).
    """
    old_part = meter_consumption(old, old_previous, old_final)
    new_part = meter_consumption(new, new_initial, new_current)
    if old_part.rollover and new_part.rollover:
        raise BelowPrevious(
            "Both the old and the new meter would have rolled over in one period: check the readings",
            previous=str(old_previous),
            current=str(new_current),
            flag=ReadingFlag.BELOW_PREVIOUS,
        )
    units = old_part.units + new_part.units
    explanation = (
        f"Meter replaced: old meter {old_part.units} units ({_q(old_previous)} → {_q(old_final)}) + new meter "
        f"{new_part.units} units ({_q(new_initial)} → {_q(new_current)}) = {units} units, priced together"
    )
    return Consumption(
        units,
        (*old_part.explanation, *new_part.explanation, explanation),
        rollover=old_part.rollover or new_part.rollover,
        replaced=True,
    )
