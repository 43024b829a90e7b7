"""Is a reading plausible for its meter? The expected window from the meter's history, and the rollover triage.

docs/domain.md "Expected window and estimate". The phone (offline, from the usage the pull delivered) and the server
(at the push, from the approved reads before the reading) call the same functions, so a value the phone asked the
engineer to re-key is the value the server flags ``outside_window`` for the supervisor.

- ``usage_from_history``: from the meter's approved actual reads (at least two, spanning at least a day), the
  average daily use over the span, and per-day bounds widened by the spread of the per-interval daily rates:
  ``low = max(0, mean − 2·sd) × 0.5``, ``high = (mean + 2·sd) × 1.5 + 1 unit a day``.
- ``expected_window``: the register values a read at an instant may show: ``since_value + days × bound``.
- ``rollover_offered``: ``consumption.is_plausible_rollover`` with the window's upper bound as the most units a
  rollover may mean, so 43727 → 120 on six dials is no rollover and 999950 → 30 with small daily use is.

All figures are register units (before the multiplier), as the engineer reads them. Rates and days are kept to four
decimal places so the usage survives the wire (``usage_to_wire``/``usage_from_wire``) exactly: the phone and the
server compute the same window from it to the last digit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
from itertools import pairwise

from shared_billing.consumption import MeterRegister, RegisterKind, is_plausible_rollover
from shared_billing.protocol import UsageWindow

__all__ = [
    "AT_EXPECTED_SHARE",
    "DAILY_ALLOWANCE",
    "HIGH_FACTOR",
    "LOW_FACTOR",
    "SPREAD",
    "ExpectedWindow",
    "Usage",
    "at_expected",
    "check_agrees",
    "expected_window",
    "outside_window",
    "rollover_offered",
    "usage_from_history",
    "usage_from_wire",
    "usage_to_wire",
]

#: How many standard deviations of the per-interval daily rates widen the average: two cover a household's
#: ordinary month-to-month swing (summer air conditioning against a mild month) without hiding a misread digit.
SPREAD = Decimal(2)
#: Below the spread: a meter may run at half its low rate (a family away for part of the month) before it is odd.
LOW_FACTOR = Decimal("0.5")
#: Above the spread: half as much again (guests, a new appliance) before a supervisor should look.
HIGH_FACTOR = Decimal("1.5")
#: Units a day added to the upper bound whatever the history, so a meter with steady or no use (a locked flat) still
#: gets a window a small real use fits in, rather than one of zero width that flags every read.
DAILY_ALLOWANCE = Decimal(1)

#: Intervals shorter than this say little about a daily rate (two reads the same afternoon): they count towards the
#: average over the span but not towards its spread; the history must span at least this much to be judged.
_MIN_SPAN = timedelta(days=1)
_PLACES = Decimal("0.0001")  # daily rates and days: exact on the wire, fine enough for any register
_SECONDS_A_DAY = Decimal(86400)
# Explicit precision: the result must not depend on a caller's (thread-local) decimal context.
_CONTEXT = Context(prec=28)


@dataclass(frozen=True)
class Usage:
    """How much a meter usually advances per day (register units), from its approved actual reads."""

    since_value: Decimal  # the newest read the window counts from
    since: datetime
    daily_use: Decimal  # average units per day
    low_per_day: Decimal  # the average narrowed / widened by the history's spread
    high_per_day: Decimal
    reads: int  # how many reads the average rests on


@dataclass(frozen=True)
class ExpectedWindow:
    """The register values a read at ``at`` may plausibly show."""

    low: Decimal
    high: Decimal
    expected: Decimal  # since_value + daily_use × days
    days: Decimal
    daily_use: Decimal


def _days(span: timedelta) -> Decimal:
    """A time span in days, exactly (from whole seconds and microseconds, never a float), to four places."""
    seconds = Decimal(span.days * 86400 + span.seconds) + Decimal(span.microseconds).scaleb(-6)
    return _CONTEXT.divide(seconds, _SECONDS_A_DAY).quantize(_PLACES, rounding=ROUND_HALF_UP)


def _interval_units(register: MeterRegister, earlier: Decimal, later: Decimal) -> Decimal | None:
    """Register units between two approved reads; None for a drop that is no rollover (a replaced meter or a
    corrected typo approved anyway): such an interval says nothing about the meter's daily use."""
    if register.kind is RegisterKind.CONSUMPTION:
        return later  # the register shows the units since the read before
    if later >= earlier:
        return later - earlier
    if is_plausible_rollover(register, earlier, later):
        return register.capacity - earlier + later
    return None


def _sample_sd(rates: Sequence[Decimal]) -> Decimal:
    # The sample standard deviation (n − 1): a handful of months is a sample of the meter's habits, and the wider
    # figure is the cautious one for a window meant to catch misreads, not ordinary months.
    if len(rates) < 2:
        return Decimal(0)
    mean = _CONTEXT.divide(sum(rates, Decimal(0)), Decimal(len(rates)))
    squares = sum(((rate - mean) ** 2 for rate in rates), Decimal(0))
    return _CONTEXT.sqrt(_CONTEXT.divide(squares, Decimal(len(rates) - 1)))


def usage_from_history(history: Sequence[tuple[datetime, Decimal]], *, register: MeterRegister) -> Usage | None:
    """``history``: (captured_at, value) of approved actual reads, any order. None when too little to judge:
    fewer than two reads, a span under a day, or no interval the meter can explain (every one a drop)."""
    reads = sorted(history, key=lambda read: read[0])
    if len(reads) < 2 or reads[-1][0] - reads[0][0] < _MIN_SPAN:
        return None
    total_units = Decimal(0)
    total_days = Decimal(0)
    rates: list[Decimal] = []
    for (earlier_at, earlier), (later_at, later) in pairwise(reads):
        units = _interval_units(register, earlier, later)
        days = _days(later_at - earlier_at)
        if units is None or days <= 0:
            continue
        total_units += units
        total_days += days
        if later_at - earlier_at >= _MIN_SPAN:
            rates.append(_CONTEXT.divide(units, days))
    if total_days < 1:
        return None
    mean = _CONTEXT.divide(total_units, total_days)
    spread = SPREAD * _sample_sd(rates)
    low = max(Decimal(0), mean - spread) * LOW_FACTOR
    high = (mean + spread) * HIGH_FACTOR + DAILY_ALLOWANCE
    since_at, since_value = reads[-1]
    return Usage(
        since_value=since_value,
        since=since_at,
        daily_use=mean.quantize(_PLACES, rounding=ROUND_HALF_UP),
        low_per_day=low.quantize(_PLACES, rounding=ROUND_FLOOR),
        high_per_day=high.quantize(_PLACES, rounding=ROUND_CEILING),
        reads=len(reads),
    )


def expected_window(usage: Usage, at: datetime, *, register: MeterRegister) -> ExpectedWindow:
    """The values a read at ``at`` may show: ``since_value + days × per-day bound``, days from ``usage.since`` to
    ``at`` (fractional, never negative: a read stamped before the history's newest gets the window of that
    instant). Bounds are at the register's decimals, rounded outwards, so a typed value compares with them as shown.

    A register past its maximum is not the window's matter: the bounds may exceed it, and a rolled-over value is
    outside the window (the triage asks, ``rollover_offered``). A consumption register counts from zero at each read.
    """
    days = max(Decimal(0), _days(at - usage.since))
    base = Decimal(0) if register.kind is RegisterKind.CONSUMPTION else usage.since_value
    step = Decimal(1).scaleb(-register.decimals)
    return ExpectedWindow(
        low=(base + usage.low_per_day * days).quantize(step, rounding=ROUND_FLOOR),
        high=(base + usage.high_per_day * days).quantize(step, rounding=ROUND_CEILING),
        expected=(base + usage.daily_use * days).quantize(step, rounding=ROUND_HALF_UP),
        days=days,
        daily_use=usage.daily_use,
    )


#: How close to the expected value a read "lands on" it: this share of the use the window expected, at least one
#: register step. A real dial lands there now and then; an engineer whose reads land there far more often than the
#: others' is likely typing the value the phone expected instead of the one on the dial (the engineers' report).
AT_EXPECTED_SHARE = Decimal("0.02")


def at_expected(value: Decimal, window: ExpectedWindow, *, register: MeterRegister) -> bool:
    """Whether ``value`` lands on the window's expected value (``AT_EXPECTED_SHARE``)."""
    step = Decimal(1).scaleb(-register.decimals)
    tolerance = max(step, window.daily_use * window.days * AT_EXPECTED_SHARE)
    return abs(value - window.expected) <= tolerance


def check_agrees(approved: Decimal, check: Decimal, window: ExpectedWindow | None) -> bool:
    """Whether a quality check's read agrees with the approved read it checks, taken after it: not below it, and
    inside ``window`` — the meter's window at the check's time, counted from the approved read — when its history
    gives one. Without a window only a drop disagrees."""
    if check < approved:
        return False
    return window is None or not outside_window(check, window)


def outside_window(value: Decimal, window: ExpectedWindow) -> bool:
    """Whether ``value`` lies outside the window (its bounds are plausible values themselves)."""
    return value < window.low or value > window.high


def rollover_offered(
    register: MeterRegister, previous: Decimal, current: Decimal, *, usage: Usage | None, at: datetime
) -> bool:
    """Whether "rollover" may be offered for a value below the previous one (``consumption.is_plausible_rollover``
    with the usage window's upper bound as the most units plausible).

    Without usage the plain rule applies (previous in the register's top tenth, current in its bottom tenth). With
    it, the rolled-over value must not pass the window's top too: ``capacity − previous + current`` units at most
    ``window.high − previous``. A consumption register never rolls over into a drop: it shows each period's units.
    """
    if register.kind is RegisterKind.CONSUMPTION:
        return False
    if usage is None:
        return is_plausible_rollover(register, previous, current)
    window = expected_window(usage, at, register=register)
    most = max(Decimal(0), window.high - previous)
    return is_plausible_rollover(register, previous, current, expected_max_units=most)


def usage_to_wire(usage: Usage) -> UsageWindow:
    """The usage as the pull carries it (``MeterAssignment.usage``): decimals as plain strings."""
    return UsageWindow(
        since_value=f"{usage.since_value:f}",
        since=usage.since,
        daily_use=f"{usage.daily_use:f}",
        low_per_day=f"{usage.low_per_day:f}",
        high_per_day=f"{usage.high_per_day:f}",
        reads=usage.reads,
    )


def usage_from_wire(wire: UsageWindow) -> Usage:
    """The inverse of ``usage_to_wire``: the phone's usage for the shared rules, exactly as the server had it."""
    return Usage(
        since_value=Decimal(wire.since_value),
        since=wire.since,
        daily_use=Decimal(wire.daily_use),
        low_per_day=Decimal(wire.low_per_day),
        high_per_day=Decimal(wire.high_per_day),
        reads=wire.reads,
    )
