"""Is a reading plausible for its meter? The expected window from the meter's history, and the rollover triage.

SCAFFOLD (issue 12): the shapes below are agreed between the phone and the server; the bodies are being written.
docs/domain.md "Expected window" will describe the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shared_billing.consumption import MeterRegister

__all__ = ["ExpectedWindow", "Usage", "expected_window", "outside_window", "rollover_offered", "usage_from_history"]


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


def usage_from_history(history: Sequence[tuple[datetime, Decimal]], *, register: MeterRegister) -> Usage | None:
    """``history``: (captured_at, value) of approved actual reads, any order. None when too little to judge."""
    raise NotImplementedError


def expected_window(usage: Usage, at: datetime, *, register: MeterRegister) -> ExpectedWindow:
    raise NotImplementedError


def outside_window(value: Decimal, window: ExpectedWindow) -> bool:
    raise NotImplementedError


def rollover_offered(
    register: MeterRegister, previous: Decimal, current: Decimal, *, usage: Usage | None, at: datetime
) -> bool:
    """Whether "rollover" may be offered for a value below the previous one (``consumption.is_plausible_rollover``
    with the usage window's upper bound as the most units plausible)."""
    raise NotImplementedError
