"""The phone's capture rules (mobile_app.capture), without a UI or a server: values, questions, skips, GPS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from geopy.distance import great_circle
from hypothesis import given
from hypothesis import strategies as st

from mobile_app.capture import (
    BelowPreviousAnswer,
    CaptureDraft,
    CaptureError,
    CaptureProblem,
    Fix,
    ValueCheck,
    below_previous_answers,
    build_reading,
    check_value,
    consumption_units,
    distance_m,
    distance_warning,
    is_outside_window,
    meter_usage,
)
from shared_billing.checks import CheckLimits
from shared_billing.plausibility import ExpectedWindow
from shared_billing.protocol import MeterAssignment, PreviousReading, ReadType, SkipReason, UsageWindow
from shared_billing.readings import parse_register_value

CAPTURED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PHOTO = "ab" * 32
METER_LAT, METER_LON = 30.9010, 75.8573


def meter(**overrides: Any) -> MeterAssignment:
    fields: dict[str, Any] = {
        "meter_id": 7,
        "meter_number": "40012000",
        "unit_code": "2BHK-B1-GF",
        "block_code": "B",
        "kind": "unit",
        "dials": 6,
        "decimals": 1,
        "multiplier": "1",
        "lat": METER_LAT,
        "lon": METER_LON,
        "previous": PreviousReading(value="1200.0", captured_at=CAPTURED_AT - timedelta(days=30)),
    }
    fields.update(overrides)
    return MeterAssignment(**fields)


def usage_wire(*, since_value: str, high_per_day: str) -> UsageWindow:
    return UsageWindow(
        since_value=since_value,
        since=CAPTURED_AT - timedelta(days=30),
        daily_use="8",
        low_per_day="4",
        high_per_day=high_per_day,
        reads=4,
    )


def draft(**overrides: Any) -> CaptureDraft:
    fields: dict[str, Any] = {
        "meter": meter(),
        "value_text": "1250.5",
        "fix": Fix(METER_LAT, METER_LON, 5.0),
        "photo_sha256": PHOTO,
    }
    fields.update(overrides)
    return CaptureDraft(**fields)


def fix_at(distance_m: float, accuracy_m: float | None) -> Fix:
    """A fix ``distance_m`` due north of the meter's registered location (on the sphere the checks measure on)."""
    point = great_circle(meters=distance_m).destination((METER_LAT, METER_LON), bearing=0)
    return Fix(point.latitude, point.longitude, accuracy_m)


def refusal(capture: CaptureDraft) -> tuple[CaptureProblem, str]:
    with pytest.raises(CaptureError) as caught:
        build_reading(capture, captured_at=CAPTURED_AT)
    return caught.value.problem, caught.value.message


# --- check_value -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   "])
def test_check_value_asks_for_a_value_when_empty(text: str) -> None:
    check = check_value(meter(), text)

    assert check == ValueCheck(None, CaptureProblem.VALUE_MISSING, "Enter the register value")
    assert check.field_error is None  # an empty field is not an error while typing
    assert not check.asks_below_previous


@pytest.mark.parametrize("text", ["12a", "1,250", "1e3", ".5"])
def test_check_value_refuses_what_is_not_a_number(text: str) -> None:
    check = check_value(meter(), text)

    assert (check.value, check.problem) == (None, CaptureProblem.NOT_A_READING)
    assert check.message == (
        f"Value {text!r} is not a meter reading: expected digits with an optional fraction, like 12345 or 12345.6"
    )
    assert check.field_error == check.message


def test_check_value_refuses_more_digits_than_dials() -> None:
    assert check_value(meter(dials=6), "1234567") == ValueCheck(
        None, CaptureProblem.TOO_MANY_DIGITS, "Value 1234567 has 7 digits; meter has 6 dials"
    )


def test_check_value_refuses_more_decimals_than_the_meter_shows() -> None:
    assert check_value(meter(decimals=1), "12.34") == ValueCheck(
        None, CaptureProblem.TOO_MANY_DECIMALS, "Value 12.34 has 2 decimal places; meter shows 1 decimal place"
    )
    assert check_value(meter(decimals=0), "12.0") == ValueCheck(
        None, CaptureProblem.TOO_MANY_DECIMALS, "Value 12.0 has 1 decimal place; meter shows none"
    )


def test_check_value_refuses_a_negative_value() -> None:
    check = check_value(meter(), "-5")

    assert (check.value, check.problem) == (None, CaptureProblem.NEGATIVE_VALUE)
    assert check.field_error == "Value -5 is negative; a meter register never is"


def test_check_value_accepts_a_valid_value_around_spaces() -> None:
    assert check_value(meter(decimals=2, previous=None), " 123.4 ") == ValueCheck(Decimal("123.40"))


@pytest.mark.parametrize(
    ("text", "asks"),
    [("1199.9", True), ("15", True), ("1200", False), ("1200.0", False), ("1300", False)],
)
def test_check_value_asks_the_question_only_below_the_previous_reading(text: str, asks: bool) -> None:
    check = check_value(meter(), text)  # previous reading 1200.0

    assert check.value == Decimal(text)
    assert check.asks_below_previous is asks
    assert check.problem is (CaptureProblem.BELOW_PREVIOUS if asks else None)
    assert check.field_error is None  # a question, asked apart: the value itself is fine


def test_check_value_asks_nothing_without_a_previous_reading() -> None:
    assert check_value(meter(previous=None), "15") == ValueCheck(Decimal("15.0"))


# --- build_reading: actual reads ---------------------------------------------------------------------------------


def test_actual_reading_carries_the_draft() -> None:
    reading_id = uuid.uuid4()
    replaced = uuid.uuid4()

    reading = build_reading(
        draft(note="  gate code 42  ", replaces=replaced), captured_at=CAPTURED_AT, new_id=reading_id
    )

    assert reading.uuid == reading_id
    assert reading.meter_id == 7
    assert reading.read_type is ReadType.ACTUAL
    assert reading.value == "1250.5"
    assert reading.photo_sha256 == PHOTO
    assert reading.captured_at == CAPTURED_AT
    assert reading.note == "gate code 42"
    assert reading.replaces == replaced
    assert reading.skip_reason is None


def test_actual_reading_needs_a_photo() -> None:
    assert refusal(draft(photo_sha256=None)) == (CaptureProblem.PHOTO_MISSING, "Add a photo of the meter")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", CaptureProblem.VALUE_MISSING),
        ("abc", CaptureProblem.NOT_A_READING),
        ("-5", CaptureProblem.NEGATIVE_VALUE),
        ("1234567", CaptureProblem.TOO_MANY_DIGITS),
        ("1250.55", CaptureProblem.TOO_MANY_DECIMALS),
    ],
)
def test_actual_reading_refuses_the_value_check_value_refuses(text: str, problem: CaptureProblem) -> None:
    check = check_value(meter(), text)

    assert (check.value, check.problem) == (None, problem)
    assert check.message is not None
    assert refusal(draft(value_text=text)) == (problem, check.message)


def test_value_is_formatted_at_the_meters_decimals() -> None:
    two_decimals = meter(decimals=2, previous=None)
    none_shown = meter(decimals=0, previous=None)

    assert build_reading(draft(meter=two_decimals, value_text="123.4"), captured_at=CAPTURED_AT).value == "123.40"
    assert build_reading(draft(meter=two_decimals, value_text="123"), captured_at=CAPTURED_AT).value == "123.00"
    assert build_reading(draft(meter=none_shown, value_text="000123"), captured_at=CAPTURED_AT).value == "123"


def test_equal_to_previous_is_not_below_it() -> None:
    assert build_reading(draft(value_text="1200"), captured_at=CAPTURED_AT).read_type is ReadType.ACTUAL


# --- below the previous reading ----------------------------------------------------------------------------------


def test_below_previous_without_an_answer_asks_the_question_without_rollover_when_implausible() -> None:
    # 1200.0 → 1199.9 on six dials: turning past 999999.9 would mean ~a million units, so no rollover is offered.
    assert refusal(draft(value_text="1199.9")) == (
        CaptureProblem.BELOW_PREVIOUS,
        "Below the previous reading: replaced meter, or typo?",
    )


def test_below_previous_near_the_top_asks_with_rollover() -> None:
    near_top = meter(previous=PreviousReading(value="999950.0", captured_at=CAPTURED_AT - timedelta(days=30)))
    assert refusal(draft(meter=near_top, value_text="15")) == (
        CaptureProblem.BELOW_PREVIOUS,
        "Below the previous reading: rollover, replaced meter, or typo?",
    )


def test_below_previous_answered_typo_is_refused() -> None:
    assert refusal(draft(value_text="15", below_previous_answer=BelowPreviousAnswer.TYPO)) == (
        CaptureProblem.TYPO_TO_CORRECT,
        "Correct the value, then save",
    )


@pytest.mark.parametrize(
    ("note", "expected"),
    [("", "Meter rolled over"), ("  dials reset at 999999 ", "Meter rolled over. dials reset at 999999")],
)
def test_a_plausible_rollover_is_a_verified_read_with_the_reason(note: str, expected: str) -> None:
    near_top = meter(previous=PreviousReading(value="999950.0", captured_at=CAPTURED_AT - timedelta(days=30)))
    reading = build_reading(
        draft(meter=near_top, value_text="15", below_previous_answer=BelowPreviousAnswer.ROLLOVER, note=note),
        captured_at=CAPTURED_AT,
    )

    assert reading.read_type is ReadType.VERIFIED
    assert reading.value == "15.0"
    assert reading.note == expected
    assert reading.photo_sha256 == PHOTO


def six_dials(previous: str, usage: UsageWindow | None = None) -> MeterAssignment:
    return meter(
        decimals=0,
        previous=PreviousReading(value=previous, captured_at=CAPTURED_AT - timedelta(days=30)),
        usage=usage,
    )


def test_43727_to_120_on_six_dials_offers_no_rollover_and_refuses_one() -> None:
    m = six_dials("43727", usage=usage_wire(since_value="43727", high_per_day="12"))
    assert below_previous_answers(m, Decimal(120), CAPTURED_AT) == (
        BelowPreviousAnswer.REPLACED,
        BelowPreviousAnswer.TYPO,
    )
    problem, message = refusal(draft(meter=m, value_text="120", below_previous_answer=BelowPreviousAnswer.ROLLOVER))
    assert problem is CaptureProblem.ROLLOVER_NOT_PLAUSIBLE
    assert "replaced meter, or typo?" in message


def test_999950_to_30_with_small_daily_use_offers_rollover_first() -> None:
    m = six_dials("999950", usage=usage_wire(since_value="999950", high_per_day="12"))
    assert below_previous_answers(m, Decimal(30), CAPTURED_AT) == tuple(BelowPreviousAnswer)


def test_replaced_is_never_saved_as_a_plain_reading() -> None:
    problem, message = refusal(draft(value_text="15", below_previous_answer=BelowPreviousAnswer.REPLACED))
    assert problem is CaptureProblem.REPLACEMENT_DETAILS
    assert "new meter's number" in message


# --- the expected window -----------------------------------------------------------------------------------------

WINDOW = ExpectedWindow(
    low=Decimal("1230.0"), high=Decimal("1290.0"), expected=Decimal("1260.0"), days=Decimal(30), daily_use=Decimal(2)
)


def test_inside_the_window_is_an_actual_read_without_confirmation() -> None:
    reading = build_reading(draft(value_text="1250.5", window=WINDOW), captured_at=CAPTURED_AT)
    assert reading.read_type is ReadType.ACTUAL
    assert reading.note is None


@pytest.mark.parametrize("value", ["1229.9", "1290.1", "999999"])
def test_outside_the_window_asks_to_type_the_value_again(value: str) -> None:
    problem, message = refusal(draft(value_text=value, window=WINDOW))
    assert problem is CaptureProblem.CONFIRMATION_NEEDED
    assert message == "Outside the expected range (1230.0 to 1290.0): type the value again to confirm it"


def test_outside_the_window_refuses_a_different_second_value() -> None:
    problem, _message = refusal(draft(value_text="1390", confirm_text="1930", window=WINDOW))
    assert problem is CaptureProblem.CONFIRMATION_MISMATCH


def test_outside_the_window_still_needs_the_photo() -> None:
    problem, _message = refusal(draft(value_text="1390", confirm_text="1390", window=WINDOW, photo_sha256=None))
    assert problem is CaptureProblem.PHOTO_MISSING


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("", "Confirmed outside the expected range (1230.0 to 1290.0)"),
        ("new AC", "Confirmed outside the expected range (1230.0 to 1290.0). new AC"),
    ],
)
def test_outside_the_window_confirmed_is_verified_with_a_note(note: str, expected: str) -> None:
    # The same number however written: "1390" and "1390.0" are one reading.
    reading = build_reading(
        draft(value_text="1390", confirm_text=" 1390.0 ", window=WINDOW, note=note), captured_at=CAPTURED_AT
    )
    assert reading.read_type is ReadType.VERIFIED
    assert reading.value == "1390.0"
    assert reading.note == expected


def test_no_window_no_confirmation() -> None:
    reading = build_reading(draft(value_text="999999", window=None), captured_at=CAPTURED_AT)
    assert reading.read_type is ReadType.ACTUAL


def test_is_outside_window_without_a_window_is_never_outside() -> None:
    assert is_outside_window(Decimal(10**6), None) is False
    assert is_outside_window(Decimal("1229.9"), WINDOW) is True
    assert is_outside_window(Decimal("1230.0"), WINDOW) is False


# --- live consumption --------------------------------------------------------------------------------------------


def test_consumption_is_the_difference_times_the_multiplier() -> None:
    assert consumption_units(meter(), Decimal("1250.5")) == Decimal("50.5")
    assert consumption_units(meter(multiplier="2"), Decimal("1250.5")) == Decimal("101.0")


def test_no_consumption_below_previous_or_without_a_previous_reading() -> None:
    assert consumption_units(meter(), Decimal("1199")) is None
    assert consumption_units(meter(previous=None), Decimal("1199")) is None


def test_meter_usage_is_the_wire_usage() -> None:
    wire = usage_wire(since_value="43727", high_per_day="12")
    usage = meter_usage(six_dials("43727", usage=wire))
    assert usage is not None
    assert (usage.since_value, usage.high_per_day, usage.reads) == (Decimal(43727), Decimal(12), 4)
    assert meter_usage(six_dials("43727")) is None


def test_an_answer_is_ignored_when_the_value_is_not_below_previous() -> None:
    reading = build_reading(
        draft(value_text="1300", below_previous_answer=BelowPreviousAnswer.ROLLOVER), captured_at=CAPTURED_AT
    )

    assert reading.read_type is ReadType.ACTUAL
    assert reading.note is None


def test_a_meter_without_a_previous_reading_never_asks() -> None:
    reading = build_reading(draft(meter=meter(previous=None), value_text="0"), captured_at=CAPTURED_AT)

    assert reading.read_type is ReadType.ACTUAL
    assert reading.value == "0.0"


# --- skips -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [r for r in SkipReason if r is not SkipReason.OTHER])
def test_skip_needs_no_value_and_no_photo(reason: SkipReason) -> None:
    reading = build_reading(draft(value_text="  ", photo_sha256=None, skip_reason=reason), captured_at=CAPTURED_AT)

    assert reading.read_type is ReadType.SKIP
    assert reading.skip_reason is reason
    assert reading.value is None
    assert reading.photo_sha256 is None
    assert reading.note is None


def test_skip_refuses_a_value() -> None:
    assert refusal(draft(value_text="1250", skip_reason=SkipReason.LOCKED)) == (
        CaptureProblem.VALUE_ON_SKIP,
        "A skipped meter has no value: clear the value or the skip reason",
    )


@pytest.mark.parametrize("note", ["", "   "])
def test_skip_other_needs_a_note(note: str) -> None:
    assert refusal(draft(value_text="", skip_reason=SkipReason.OTHER, note=note)) == (
        CaptureProblem.NOTE_MISSING,
        "Say why in the note when the reason is Other",
    )


def test_skip_other_with_a_note_keeps_it() -> None:
    reading = build_reading(
        draft(value_text="", photo_sha256=None, skip_reason=SkipReason.OTHER, note=" flooded basement "),
        captured_at=CAPTURED_AT,
    )

    assert reading.read_type is ReadType.SKIP
    assert reading.note == "flooded basement"


# --- GPS ---------------------------------------------------------------------------------------------------------


def test_gps_fields_are_none_without_a_fix() -> None:
    reading = build_reading(draft(fix=None), captured_at=CAPTURED_AT)

    assert (reading.gps_lat, reading.gps_lon, reading.gps_accuracy_m) == (None, None, None)


def test_gps_fields_come_from_the_fix() -> None:
    reading = build_reading(draft(fix=Fix(30.9, 75.85, 12.5)), captured_at=CAPTURED_AT)

    assert (reading.gps_lat, reading.gps_lon, reading.gps_accuracy_m) == (30.9, 75.85, 12.5)


def test_gps_fields_of_a_skip_come_from_the_fix_too() -> None:
    reading = build_reading(
        draft(value_text="", skip_reason=SkipReason.DOG, fix=Fix(30.9, 75.85, None)), captured_at=CAPTURED_AT
    )

    assert (reading.gps_lat, reading.gps_lon, reading.gps_accuracy_m) == (30.9, 75.85, None)


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("fix", "expected"),
    [
        (Fix(NAN, 75.85, 5.0), (None, None, None)),
        (Fix(30.9, -INF, 5.0), (None, None, None)),
        (Fix(91.0, 75.85, 5.0), (None, None, None)),
        (Fix(30.9, 181.0, 5.0), (None, None, None)),
        (Fix(30.9, 75.85, NAN), (30.9, 75.85, None)),
        (Fix(30.9, 75.85, INF), (30.9, 75.85, None)),
        (Fix(30.9, 75.85, -1.0), (30.9, 75.85, None)),
        (Fix(30.9, 75.85, 200_000.0), (30.9, 75.85, None)),
        (Fix(-90.0, 180.0, 0.0), (-90.0, 180.0, 0.0)),
    ],
    ids=["nan-lat", "inf-lon", "lat-91", "lon-181", "nan-acc", "inf-acc", "negative-acc", "acc-200km", "edges"],
)
def test_only_finite_in_range_gps_numbers_go_into_the_reading(
    fix: Fix, expected: tuple[float | None, float | None, float | None]
) -> None:
    for capture in (draft(fix=fix), draft(value_text="", skip_reason=SkipReason.DOG, fix=fix)):
        reading = build_reading(capture, captured_at=CAPTURED_AT)
        assert (reading.gps_lat, reading.gps_lon, reading.gps_accuracy_m) == expected
        # The reading serializes as real JSON (no NaN) and reads back equal, so its payload hash never moves.
        assert "NaN" not in reading.model_dump_json()
        assert "Infinity" not in reading.model_dump_json()
        assert type(reading).model_validate_json(reading.model_dump_json()) == reading


def test_a_non_finite_fix_is_no_fix_for_the_warnings_and_the_distance() -> None:
    no_fix = "No GPS fix: the reading will be flagged for the supervisor"

    assert distance_warning(meter(), Fix(NAN, METER_LON, 5.0)) == no_fix
    assert distance_m(meter(), Fix(METER_LAT, INF, 5.0)) is None
    # Position fine, accuracy unknown: the server flags gps_inaccurate, so the phone says so before the save.
    assert distance_warning(meter(), Fix(METER_LAT, METER_LON, NAN)) == (
        "GPS accuracy unknown: the reading will be flagged for the supervisor"
    )


def test_no_distance_warning_near_the_meter() -> None:
    assert distance_warning(meter(), Fix(METER_LAT, METER_LON, 5.0)) is None
    assert distance_warning(meter(), fix_at(90, 20.0)) is None


def test_distance_warning_for_poor_accuracy() -> None:
    assert distance_warning(meter(), Fix(METER_LAT, METER_LON, 80.0)) == "GPS accuracy is poor (±80 m)"
    assert distance_warning(meter(), Fix(METER_LAT, METER_LON, 50.0)) is None  # the limit itself is fine


def test_distance_warning_when_far_from_the_meter() -> None:
    assert distance_warning(meter(), fix_at(250, 10.0)) == "You are 250 m from this meter's registered location"


def test_accuracy_is_counted_in_the_engineers_favour() -> None:
    # 140 m away ± 45 m could be 95 m away: no warning; 150 m ± 45 m is at least 105 m away: warned.
    assert distance_warning(meter(), fix_at(140, 45.0)) is None
    assert distance_warning(meter(), fix_at(150, 45.0)) == "You are 150 m from this meter's registered location"


def test_distance_warning_follows_the_limits() -> None:
    strict = CheckLimits(gps_accuracy_limit_m=10.0, gps_radius_m=20.0)

    assert distance_warning(meter(), fix_at(30, 5.0), strict) == "You are 30 m from this meter's registered location"
    assert distance_warning(meter(), Fix(METER_LAT, METER_LON, 15.0), strict) == "GPS accuracy is poor (±15 m)"


def test_distance_warning_without_a_fix() -> None:
    assert distance_warning(meter(), None) == "No GPS fix: the reading will be flagged for the supervisor"


def test_no_distance_warning_for_a_meter_without_a_location() -> None:
    assert distance_warning(meter(lat=None, lon=None), fix_at(5000, 5.0)) is None


# --- property: every valid value survives the trip ---------------------------------------------------------------


@st.composite
def meter_and_value(draw: st.DrawFn, max_dials: int = 12) -> tuple[MeterAssignment, str]:
    dials = draw(st.integers(min_value=1, max_value=max_dials))
    decimals = draw(st.integers(min_value=0, max_value=4))
    leading_zeros = "0" * draw(st.integers(min_value=0, max_value=3))
    whole = draw(st.text(alphabet="0123456789", min_size=1, max_size=dials))
    fraction = draw(st.text(alphabet="0123456789", max_size=decimals))
    text = leading_zeros + whole + (f".{fraction}" if fraction else "")
    return meter(dials=dials, decimals=decimals, previous=None), text


@given(meter_and_value())
def test_any_valid_value_builds_a_reading_that_parses_back_equal(case: tuple[MeterAssignment, str]) -> None:
    assignment, text = case
    typed = parse_register_value(text, dials=assignment.dials, decimals=assignment.decimals)

    reading = build_reading(draft(meter=assignment, value_text=text), captured_at=CAPTURED_AT)

    assert reading.read_type is ReadType.ACTUAL
    assert reading.value is not None
    assert parse_register_value(reading.value, dials=assignment.dials, decimals=assignment.decimals) == typed
    assert Decimal(reading.value) == Decimal(text)
    # Fixed point at the meter's decimals, never an exponent.
    _, dot, shown_fraction = reading.value.partition(".")
    assert len(shown_fraction) == assignment.decimals
    assert bool(dot) == (assignment.decimals > 0)
    assert "E" not in reading.value.upper()


def test_a_value_longer_than_28_digits_builds_a_reading() -> None:
    wide = meter(dials=30, decimals=2, previous=None)
    text = "1" * 27 + ".12"

    reading = build_reading(draft(meter=wide, value_text=text), captured_at=CAPTURED_AT)

    assert reading.value == text
