"""Small pure rules the reports share: percentages, averages, the pace of a walk."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby, pairwise
from statistics import median

__all__ = ["WALK_BREAK", "average", "minutes_per_meter", "percent"]

_TENTH = Decimal("0.1")
#: A longer gap between two readings is a break (lunch, the drive to the next block), not the time a meter took.
WALK_BREAK = timedelta(minutes=30)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part`` of ``whole`` in per cent, to one place; None when ``whole`` is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def average(total: Decimal, count: int) -> Decimal | None:
    """``total / count`` to one place; None for no count."""
    return (total / count).quantize(_TENTH, rounding=ROUND_HALF_UP) if count else None


def minutes_per_meter(captured: Iterable[datetime], tz: tzinfo) -> Decimal | None:
    """The median minutes from one reading to the next on the same local day, breaks (``WALK_BREAK`` or more)
    left out: the time a meter takes on a walk. None with fewer than two readings a day."""
    moments = sorted(captured)
    gaps: list[timedelta] = []
    for _, day in groupby(moments, key=lambda moment: moment.astimezone(tz).date()):
        gaps.extend(later - earlier for earlier, later in pairwise(day) if later - earlier < WALK_BREAK)
    if not gaps:
        return None
    seconds = median(gap.total_seconds() for gap in gaps)
    return (Decimal(str(seconds)) / 60).quantize(_TENTH, rounding=ROUND_HALF_UP)
