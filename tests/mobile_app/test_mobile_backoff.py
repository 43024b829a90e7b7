"""Exponential backoff with full jitter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobile_app.sync import Backoff
from mobile_app.sync.backoff import parse_retry_after

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@given(
    failures=st.integers(min_value=-5, max_value=10_000),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    cap_s=st.floats(min_value=0.0, max_value=3600.0),
)
def test_delay_is_between_zero_and_cap(failures: int, fraction: float, cap_s: float) -> None:
    delay = Backoff(random=lambda: fraction, cap_s=cap_s).delay_s(failures)

    assert 0.0 <= delay <= cap_s


def test_ceiling_doubles_from_base_until_the_cap() -> None:
    backoff = Backoff(random=lambda: 0.0)

    assert [backoff.ceiling_s(n) for n in range(10)] == [0, 2, 4, 8, 16, 32, 64, 128, 256, 300]


def test_delay_is_the_random_fraction_of_the_ceiling() -> None:
    assert Backoff(random=lambda: 0.25).delay_s(3) == 2.0
    assert Backoff(random=lambda: 0.0).delay_s(3) == 0.0


def test_default_cap_is_five_minutes() -> None:
    assert Backoff(random=lambda: 0.999).delay_s(1_000_000) <= 300.0


def test_nonpositive_base_refused() -> None:
    with pytest.raises(ValueError, match="base_s"):
        Backoff(random=lambda: 0.5, base_s=0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Sun, 01 Mar 2026 09:02:30 GMT", 150.0),
        ("Sun, 01 Mar 2026 08:00:00 GMT", 0.0),  # already past: no extra wait
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds
