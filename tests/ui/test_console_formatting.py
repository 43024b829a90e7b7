"""How the console writes times and dates for people: in the zone it is given (the society's), never its own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from mobile_app.console.client import SocietyTime
from mobile_app.ui.common import day, local_time, society_time
from shared_billing.api_models import ClockOut

INDIA = ZoneInfo("Asia/Kolkata")


def test_api_times_are_shown_in_the_given_zone() -> None:
    assert society_time("2026-11-30T20:00:00Z", INDIA) == "01 Dec 2026, 01:30"
    assert society_time("2026-11-30T20:00:00+00:00", ZoneInfo("UTC")) == "30 Nov 2026, 20:00"
    assert society_time(None, INDIA) == "—"
    assert society_time(datetime(2026, 11, 30, 20, 0, tzinfo=UTC), INDIA) == "01 Dec 2026, 01:30"  # a parsed answer
    assert local_time(datetime(2026, 11, 30, 16, 0, tzinfo=UTC), INDIA) == "30 Nov 2026, 21:30"


def test_a_time_without_a_zone_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="without a zone"):
        society_time("2026-11-30T20:00:00", INDIA)
    with pytest.raises(ValueError, match="without a zone"):
        society_time(datetime(2026, 11, 30, 20, 0), INDIA)


def test_calendar_dates_are_written_as_they_are() -> None:
    assert day("2026-12-16") == "16 Dec 2026"
    assert day(date(2026, 12, 16)) == "16 Dec 2026"
    assert day(None) == "—"


def test_the_clock_answer_is_read_with_its_zone() -> None:
    answer = b'{"now": "2026-11-30T20:00:00Z", "today": "2026-12-01", "period": "2026-12", "timezone": "Asia/Kolkata"}'
    society = SocietyTime.of(ClockOut.model_validate_json(answer))
    assert society.now == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert (society.today.isoformat(), society.period, society.zone) == ("2026-12-01", "2026-12", INDIA)
