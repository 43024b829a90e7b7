"""Advisory reading checks: flags, never refusals (docs/domain.md "Advisory checks"; docs/architecture.md "Time",
"Limits")."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from shared_billing.checks import (
    CheckLimits,
    ReadingFlag,
    check_below_previous,
    check_clock_drift,
    check_gps_far,
    check_gps_inaccurate,
    check_gps_missing,
    reading_flags,
)

D = Decimal
RECEIVED_AT = datetime(2025, 11, 30, 10, 0, tzinfo=UTC)


def make_flags(**overrides: Any):
    """A clean reading (no flags) with ``overrides`` applied."""
    values: dict[str, Any] = {
        "value": D("1200"),
        "previous_value": D("1100"),
        "gps_lat": 30.9,
        "gps_lon": 75.85,
        "gps_accuracy_m": 12.0,
        "distance_m": 20.0,
        "sent_at": RECEIVED_AT,
        "received_at": RECEIVED_AT,
    }
    values.update(overrides)
    return reading_flags(**values)


def test_default_limits_match_the_architecture():
    limits = CheckLimits()
    assert limits.gps_accuracy_limit_m == 50
    assert limits.gps_radius_m == 100
    assert limits.clock_drift_limit == timedelta(minutes=10)


def test_clean_reading_has_no_flags():
    assert make_flags() == []


def test_value_below_previous_is_flagged_not_refused():
    assert check_below_previous(D("120"), D("99950")) == "below_previous"
    assert make_flags(value=D("120"), previous_value=D("99950")) == ["below_previous"]


@pytest.mark.parametrize(
    ("value", "previous"), [(D("100"), D("100")), (D("101"), D("100")), (None, D(5)), (D(5), None)]
)
def test_no_below_previous_flag_otherwise(value, previous):
    assert check_below_previous(value, previous) is None


def test_missing_fix_is_flagged_alone():
    assert check_gps_missing(None, None) == "gps_missing"
    assert check_gps_missing(30.9, None) == "gps_missing"
    assert make_flags(gps_lat=None, gps_lon=None, gps_accuracy_m=None, distance_m=None) == ["gps_missing"]


@pytest.mark.parametrize(("accuracy_m", "flagged"), [(50.0, False), (50.1, True), (None, True), (0.0, False)])
def test_inaccurate_fix_above_limit(accuracy_m, flagged):
    assert (check_gps_inaccurate(accuracy_m) == "gps_inaccurate") is flagged


@pytest.mark.parametrize(
    ("distance_m", "accuracy_m", "flagged"),
    [
        (150.0, 50.0, False),
        (150.1, 50.0, True),
        (100.0, None, False),
        (101.0, None, True),
        (None, 5.0, False),
    ],
)
def test_far_when_distance_minus_accuracy_exceeds_radius(distance_m, accuracy_m, flagged):
    assert (check_gps_far(distance_m, accuracy_m) == "gps_far") is flagged


@pytest.mark.parametrize(
    ("offset", "flagged"),
    [
        (timedelta(minutes=10), False),
        (timedelta(minutes=10, seconds=1), True),
        (-timedelta(minutes=10, seconds=1), True),  # device clock behind
        (timedelta(days=365), True),
    ],
)
def test_clock_drift_beyond_ten_minutes(offset, flagged):
    assert (check_clock_drift(RECEIVED_AT + offset, RECEIVED_AT) == "clock_drift") is flagged


def test_clock_drift_compares_instants_across_time_zones():
    ist = timezone(timedelta(hours=5, minutes=30))
    assert check_clock_drift(RECEIVED_AT.astimezone(ist), RECEIVED_AT) is None


def test_clock_drift_refuses_naive_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        check_clock_drift(datetime(2025, 11, 30, 10, 0), RECEIVED_AT)


def test_clock_drift_skipped_without_receipt_time():
    assert make_flags(sent_at=RECEIVED_AT - timedelta(days=1), received_at=None) == []


def test_flags_compose_in_a_stable_order():
    flags = make_flags(
        value=D(1),
        gps_accuracy_m=80.0,
        distance_m=500.0,
        sent_at=RECEIVED_AT - timedelta(hours=2),
    )
    assert flags == ["below_previous", "gps_inaccurate", "gps_far", "clock_drift"]
    # The reading's own checks, in ReadingFlag order; the push adds the ones that need the stored history
    # (second_read_in_period, outside_window) or the photo's arrival (photo_pending); a protocol-3 reading's
    # evidence raises its own after them (evidence_flags).
    push_only = (
        ReadingFlag.GPS_MISSING,
        ReadingFlag.SECOND_READ_IN_PERIOD,
        ReadingFlag.PHOTO_PENDING,
        ReadingFlag.OUTSIDE_WINDOW,
        ReadingFlag.PHOTO_BLURRED,
        ReadingFlag.PHOTO_REUSED,
        ReadingFlag.LABEL_OTHER_METER,
    )
    assert flags == [flag for flag in ReadingFlag if flag not in push_only]
    assert all(type(flag) is ReadingFlag for flag in flags)  # members: stored and sent as their value


def test_custom_limits_apply():
    strict = CheckLimits(gps_accuracy_limit_m=10, gps_radius_m=5, clock_drift_limit=timedelta(seconds=30))
    flags = make_flags(distance_m=40.0, sent_at=RECEIVED_AT + timedelta(minutes=1), limits=strict)
    assert flags == ["gps_inaccurate", "gps_far", "clock_drift"]


def test_limits_refuse_negative_values():
    with pytest.raises(ValueError, match="GPS"):
        CheckLimits(gps_radius_m=-1)
