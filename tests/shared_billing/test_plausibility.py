"""The expected window and the rollover triage (docs/domain.md "Expected window and estimate")."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.consumption import MeterRegister, RegisterKind
from shared_billing.plausibility import (
    ExpectedWindow,
    Usage,
    check_agrees,
    expected_window,
    outside_window,
    rollover_offered,
    usage_from_history,
    usage_from_wire,
    usage_to_wire,
)

D = Decimal
SIX = MeterRegister(dials=6)
JUNE = datetime(2025, 6, 1, 4, 30, tzinfo=UTC)


def day(n: float) -> datetime:
    return JUNE + timedelta(days=n)


# The worked example of docs/domain.md: 300, 330 and 270 units over three 30-day months.
HISTORY = [(day(0), D(1000)), (day(30), D(1300)), (day(60), D(1630)), (day(90), D(1900))]


def test_the_worked_example_of_the_domain_page():
    usage = usage_from_history(list(reversed(HISTORY)), register=SIX)  # any order
    assert usage == Usage(
        since_value=D(1900), since=day(90), daily_use=D(10), low_per_day=D(4), high_per_day=D(19), reads=4
    )
    window = expected_window(usage, day(120), register=SIX)
    assert (window.low, window.expected, window.high, window.days) == (D(2020), D(2200), D(2470), D(30))
    assert not outside_window(D(2200), window)
    assert not outside_window(D(2020), window)
    assert not outside_window(D(2470), window)
    assert outside_window(D(2019), window)
    assert outside_window(D(2471), window)
    assert outside_window(D(999999), window)  # the issue's 999999


def test_too_little_history_gives_no_usage():
    assert usage_from_history([], register=SIX) is None
    assert usage_from_history([(day(0), D(10))], register=SIX) is None
    # Two reads, but not a day apart.
    assert usage_from_history([(day(0), D(10)), (day(0.9), D(20))], register=SIX) is None
    # A day apart, but the only interval is a drop that is no rollover (a replaced meter approved anyway).
    assert usage_from_history([(day(0), D(5000)), (day(30), D(120))], register=SIX) is None


def test_steady_use_still_has_a_usable_window():
    steady = [(day(30 * n), D(1000 + 300 * n)) for n in range(4)]
    usage = usage_from_history(steady, register=SIX)
    assert usage is not None
    assert (usage.daily_use, usage.low_per_day, usage.high_per_day) == (D(10), D(5), D(16))
    window = expected_window(usage, day(120), register=SIX)
    assert (window.low, window.high) == (D(2050), D(2380))


def test_a_locked_flat_gets_the_daily_allowance():
    idle = [(day(0), D(500)), (day(30), D(500)), (day(60), D(500))]
    usage = usage_from_history(idle, register=SIX)
    assert usage is not None
    assert usage.daily_use == 0
    window = expected_window(usage, day(90), register=SIX)
    assert (window.low, window.high) == (D(500), D(530))


def test_a_rollover_in_the_history_counts_its_units():
    usage = usage_from_history([(day(0), D(999900)), (day(10), D(100))], register=SIX)
    assert usage is not None
    assert usage.daily_use == D(20)


def test_a_drop_in_the_history_is_left_out_of_the_average():
    reads = [(day(0), D(1000)), (day(30), D(1300)), (day(40), D(50)), (day(70), D(350))]
    usage = usage_from_history(reads, register=SIX)
    assert usage is not None
    assert (usage.daily_use, usage.since_value, usage.reads) == (D(10), D(350), 4)


def test_short_intervals_count_towards_the_average_but_not_the_spread():
    reads = [(day(0), D(0)), (day(30), D(300)), (day(30.25), D(303)), (day(60), D(600))]
    usage = usage_from_history(reads, register=SIX)
    assert usage is not None
    assert usage.daily_use == D(10)
    # The two monthly rates are 10.0 and 297 / 29.75 = 9.98…: a small spread, the 12-a-day quarter day ignored.
    assert usage.high_per_day < D("16.1")


def test_days_are_fractional_and_never_negative():
    usage = usage_from_history(HISTORY, register=SIX)
    assert usage is not None
    half = expected_window(usage, day(90.5), register=SIX)
    assert (half.days, half.expected) == (D("0.5"), D(1905))
    before = expected_window(usage, day(80), register=SIX)
    assert before.days == 0
    assert before.low == before.high == D(1900)


def test_bounds_are_at_the_register_decimals_and_rounded_outwards():
    register = MeterRegister(dials=6, decimals=1)
    usage = Usage(D("100.0"), JUNE, D("3.3333"), D("1.1111"), D("7.7777"), 3)
    window = expected_window(usage, JUNE + timedelta(days=1), register=register)
    assert (window.low, window.expected, window.high) == (D("101.1"), D("103.3"), D("107.8"))


def test_a_consumption_register_counts_from_zero():
    register = MeterRegister(dials=4, kind=RegisterKind.CONSUMPTION)
    usage = usage_from_history([(day(0), D(290)), (day(30), D(300)), (day(60), D(300))], register=register)
    assert usage is not None
    assert usage.daily_use == D(10)
    window = expected_window(usage, day(90), register=register)
    assert window.expected == D(300)
    assert window.low < D(300) < window.high
    assert not rollover_offered(register, D(300), D(20), usage=usage, at=day(90))


def test_the_issue_example_43727_to_120_on_six_dials_is_no_rollover():
    assert not rollover_offered(SIX, D(43727), D(120), usage=None, at=day(0))
    usage = usage_from_history([(day(0), D(43000)), (day(30), D(43400)), (day(60), D(43727))], register=SIX)
    assert not rollover_offered(SIX, D(43727), D(120), usage=usage, at=day(90))


def test_999950_to_30_with_small_daily_use_is_a_rollover():
    usage = usage_from_history([(day(0), D(999500)), (day(30), D(999720)), (day(60), D(999950))], register=SIX)
    assert usage is not None
    assert rollover_offered(SIX, D(999950), D(30), usage=usage, at=day(90))
    assert rollover_offered(SIX, D(999950), D(30), usage=None, at=day(90))  # the plain rule agrees


def test_a_rollover_above_the_window_is_not_offered():
    # 999950 → 90000 is in the bottom tenth (the plain rule offers it) but would mean 90,050 units in a month.
    usage = usage_from_history([(day(0), D(999500)), (day(30), D(999720)), (day(60), D(999950))], register=SIX)
    assert rollover_offered(SIX, D(999950), D(90000), usage=None, at=day(90))
    assert not rollover_offered(SIX, D(999950), D(90000), usage=usage, at=day(90))


def test_the_usage_survives_the_wire_exactly():
    usage = usage_from_history([*HISTORY, (day(97.3), D(1977))], register=SIX)
    assert usage is not None
    wire = usage_to_wire(usage)
    back = usage_from_wire(type(wire).model_validate_json(wire.model_dump_json()))
    assert back == usage
    assert expected_window(back, day(130), register=SIX) == expected_window(usage, day(130), register=SIX)


reads = st.lists(
    st.tuples(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=900)), min_size=1, max_size=6
)


@given(reads, st.integers(min_value=0, max_value=100))
def test_the_window_holds_the_expected_value_and_grows_with_time(steps, later):
    history, at, value = [(JUNE, D(0))], JUNE, D(0)
    for days, units in steps:
        at, value = at + timedelta(days=days), value + units
        history.append((at, value))
    usage = usage_from_history(history, register=SIX)
    assert usage is not None
    assert 0 <= usage.low_per_day <= usage.daily_use < usage.high_per_day
    now = expected_window(usage, at + timedelta(days=later), register=SIX)
    nearer = expected_window(usage, at + timedelta(days=later / 2), register=SIX)
    assert now.low <= now.expected <= now.high
    assert now.low >= nearer.low >= value
    assert now.high >= nearer.high >= value
    assert not outside_window(now.expected, now)


@given(st.integers(min_value=900_000, max_value=999_999), st.integers(min_value=0, max_value=99_999))
def test_usage_only_narrows_the_plain_rollover_rule(previous, current):
    usage = Usage(D(previous), JUNE, D(5), D(2), D(9), 3)
    with_usage = rollover_offered(SIX, D(previous), D(current), usage=usage, at=day(30))
    plain = rollover_offered(SIX, D(previous), D(current), usage=None, at=day(30))
    assert not with_usage or plain
    assert with_usage == (plain and 1_000_000 - previous + current <= 9 * 30)


@pytest.mark.parametrize("register", [MeterRegister(dials=5), MeterRegister(dials=6, decimals=2)])
def test_no_rollover_for_a_rise(register):
    assert not rollover_offered(register, D(10), D(20), usage=None, at=day(0))


def test_a_check_read_agrees_when_not_below_and_inside_the_window_from_the_approved_read() -> None:
    window = ExpectedWindow(
        low=Decimal(1000), high=Decimal(1004), expected=Decimal(1001), days=Decimal("0.5"), daily_use=Decimal(2)
    )
    assert check_agrees(Decimal(1000), Decimal(1000), window)
    assert check_agrees(Decimal(1000), Decimal(1004), window)
    assert not check_agrees(Decimal(1000), Decimal(1005), window)  # more than the meter could use since
    assert not check_agrees(Decimal(1000), Decimal(999), window)  # below the approved read
    # Without history enough for a window, only a drop disagrees.
    assert check_agrees(Decimal(1000), Decimal(1500), None)
    assert not check_agrees(Decimal(1000), Decimal(990), None)
