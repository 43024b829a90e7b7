"""The reports' small rules (sync_server.reports.figures): percentages, averages and the pace of a walk, by the
society's calendar day whatever the machine's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sync_server.reports.figures import average, minutes_per_meter, percent

KOLKATA = ZoneInfo("Asia/Kolkata")


def test_percent_and_average_round_half_up_and_refuse_nothing() -> None:
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 8) == Decimal("12.5")
    assert percent(5, 0) is None
    assert average(Decimal(190), 2) == Decimal("95.0")
    assert average(Decimal(10), 0) is None


def test_minutes_per_meter_leaves_out_breaks_and_nights() -> None:
    # 23:50, 23:54 and 00:01 local: the last is the next day in Kolkata (its gap is no walk's), though all three
    # fall on one UTC day.
    late = datetime(2025, 11, 30, 23, 50, tzinfo=KOLKATA)
    moments = [late, late + timedelta(minutes=4), late + timedelta(minutes=11)]
    assert minutes_per_meter(moments, KOLKATA) == Decimal(4)
    assert minutes_per_meter(moments, UTC) == Decimal("5.5")  # the same three on one UTC day: gaps 4 and 7
    walk = [datetime(2025, 11, 3, 9, 0, tzinfo=KOLKATA) + timedelta(minutes=m) for m in (0, 2, 5, 65, 67)]
    assert minutes_per_meter(walk, KOLKATA) == Decimal("2.0")  # gaps 2, 3, 2: the hour is a break
    assert minutes_per_meter(walk[:1], KOLKATA) is None
