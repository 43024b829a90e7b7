"""The route's derivation (mobile_app.route_model): walk order, the period in the society's zone, re-read tasks from
the phone's record or the server's period read, flags in words, filters and search. Pure: no store, a pinned clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from mobile_app.i18n import set_default_language
from mobile_app.reading_states import ReadingState, flag_words
from mobile_app.route_model import (
    MeterProgress,
    RouteFilter,
    RouteProgress,
    route_base,
    route_rows,
    snapshot,
    society_zone,
    walk_order,
)
from mobile_app.store import LocalState, ReadingRecord
from shared_billing.checks import ReadingFlag
from shared_billing.protocol import CheckRequest, MeterAssignment, PeriodRead, ReadingStatus, ReadType, SkipReason
from tests.mobile_app.phone_factories import make_meter, make_reading

IST = ZoneInfo("Asia/Kolkata")
# 00:30 on 1 December in the society's zone: still 30 November in UTC.
JUST_AFTER = datetime(2026, 12, 1, 0, 30, tzinfo=IST)
TO_READ = MeterProgress.TO_READ


def record(meter_id: int = 1, *, at: datetime, value: str | None = "1300.0", **overrides: Any) -> ReadingRecord:
    fields: dict[str, Any] = {"meter_id": meter_id, "captured_at": at.astimezone(UTC), "value": value}
    if value is None:
        fields.update(read_type="skip", skip_reason="locked")
    for key in ("uuid", "replaces"):
        if key in overrides:
            fields[key] = overrides.pop(key)
    defaults: dict[str, Any] = {
        "reading": make_reading(**fields),
        "state": LocalState.SAVED,
        "server_code": None,
        "server_message": None,
        "answered_at": None,
        "flags": (),
        "review_status": None,
        "review_reason": None,
        "reviewed_at": None,
        "photo_path": None,
        "photo_pending": False,
        "photo_error": None,
        "in_outbox": True,
        "attempts": 0,
        "next_attempt_at": None,
        "last_error": None,
    }
    defaults.update(overrides)
    return ReadingRecord(**defaults)


def period_read(at: datetime, status: ReadingStatus, uuid: UUID | None = None, **overrides: Any) -> PeriodRead:
    fields: dict[str, Any] = {
        "reading_uuid": uuid or uuid4(),
        "read_type": ReadType.ACTUAL,
        "value": "1290.0",
        "captured_at": at,
        "status": status,
    }
    fields.update(overrides)
    return PeriodRead(**fields)


def one_row(meter: MeterAssignment, readings: list[ReadingRecord], now: datetime = JUST_AFTER) -> Any:
    [row] = route_rows([meter], readings, zone=IST, now=now)
    return row


def test_walk_order_is_the_admins_then_natural_by_block_unit_and_number() -> None:
    codes = ["2BHK-B17-FF", "2BHK-B2-FF", "2BHK-B1-GF", "2bhk-b10-FF"]
    meters = [make_meter(meter_id=i, unit_code=code, block_code="B") for i, code in enumerate(codes)]
    meters.append(make_meter(meter_id=10, unit_code="VILLA-A2", block_code="A"))
    meters.append(make_meter(meter_id=11, unit_code="2BHK-B99-SF", block_code="B", walk_order=2))
    meters.append(make_meter(meter_id=12, unit_code="2BHK-B50-SF", block_code="B", walk_order=1))
    ordered = [m.unit_code for m in walk_order(meters)]
    # A string sort would put B17 and B10 before B2.
    assert ordered == [
        "2BHK-B50-SF",
        "2BHK-B99-SF",
        "VILLA-A2",
        "2BHK-B1-GF",
        "2BHK-B2-FF",
        "2bhk-b10-FF",
        "2BHK-B17-FF",
    ]


@pytest.mark.parametrize(
    ("now", "captured", "progress"),
    [
        # 1 December 00:30 IST: a read at 00:20 IST is this period, one at 23:50 IST on 30 November is not,
        # though all three instants are 30 November in UTC.
        (JUST_AFTER, datetime(2026, 12, 1, 0, 20, tzinfo=IST), MeterProgress.DONE),
        (JUST_AFTER, datetime(2026, 11, 30, 23, 50, tzinfo=IST), MeterProgress.TO_READ),
        # 30 November 23:50 IST (18:20 UTC): the read of that morning is this period; one of 31 October is not.
        (datetime(2026, 11, 30, 23, 50, tzinfo=IST), datetime(2026, 11, 30, 9, 0, tzinfo=IST), MeterProgress.DONE),
        (datetime(2026, 11, 30, 23, 50, tzinfo=IST), datetime(2026, 10, 31, 23, 0, tzinfo=IST), MeterProgress.TO_READ),
    ],
)
def test_the_period_is_the_calendar_month_in_the_society_zone(
    now: datetime, captured: datetime, progress: MeterProgress
) -> None:
    row = one_row(make_meter(), [record(at=captured)], now=now)
    assert row.progress is progress
    # The server's period read is judged by the same clock: a stale pull's read of a closed month counts for nothing.
    server_only = one_row(make_meter(period_read=period_read(captured, ReadingStatus.APPROVED)), [], now=now)
    assert server_only.progress is progress


def test_a_kept_base_gives_the_rows_a_fresh_derivation_gives_and_a_new_month_rebuilds_it() -> None:
    at = JUST_AFTER - timedelta(minutes=20)
    meters = [
        make_meter(meter_id=1, unit_code="A-101"),
        make_meter(meter_id=2, unit_code="A-102", period_read=period_read(at, ReadingStatus.REREAD, reason="dim")),
        make_meter(meter_id=3, unit_code="A-103", period_read=period_read(at, ReadingStatus.APPROVED)),
        make_meter(meter_id=4, unit_code="A-104"),
    ]
    readings = [record(1, at=at), record(2, at=at + timedelta(minutes=1)), record(99, at=at)]  # 99: not on the route
    base = route_base(meters, zone=IST, now=JUST_AFTER)
    fresh = route_rows(meters, readings, zone=IST, now=JUST_AFTER)
    kept = route_rows(meters, readings, zone=IST, now=JUST_AFTER, base=base)
    assert kept == fresh
    assert [row.progress for row in kept] == [MeterProgress.DONE, MeterProgress.DONE, MeterProgress.DONE, TO_READ]
    assert kept[3] is base.rows[3]  # a meter this phone has not read: the kept row itself

    # A month later the base of November no longer holds: rebuilt, November's reads count for nothing.
    next_month = JUST_AFTER + timedelta(days=31)
    assert base.holds(JUST_AFTER, IST)
    assert not base.holds(next_month, IST)
    later = route_rows(meters, readings, zone=IST, now=next_month, base=base)
    assert [row.progress for row in later] == [TO_READ] * 4


def test_a_read_and_a_skip_are_done_with_the_value_and_its_state() -> None:
    read = one_row(make_meter(), [record(at=JUST_AFTER - timedelta(minutes=5))])
    assert (read.progress, read.value, read.state, read.reread) == (
        MeterProgress.DONE,
        "1300.0",
        ReadingState.SAVED,
        None,
    )
    assert read.captured_at == JUST_AFTER - timedelta(minutes=5)
    skip = one_row(make_meter(), [record(at=JUST_AFTER - timedelta(minutes=5), value=None)])
    assert (skip.progress, skip.value, skip.skip_reason) == (MeterProgress.DONE, None, SkipReason.LOCKED)


def test_a_reading_the_server_refused_does_not_count_as_read() -> None:
    refused = record(at=JUST_AFTER - timedelta(minutes=5), state=LocalState.REJECTED, server_message="unknown meter")
    assert one_row(make_meter(), [refused]).progress is MeterProgress.TO_READ


def test_a_rejected_phone_reading_is_a_task_until_a_newer_read_replaces_it() -> None:
    at = JUST_AFTER - timedelta(minutes=20)
    rejected = record(
        at=at,
        state=LocalState.UPLOADED,
        in_outbox=False,
        review_status=ReadingStatus.REJECTED,
        review_reason="photo blurred",
        due_on=date(2026, 12, 4),
    )
    row = one_row(make_meter(), [rejected])
    assert row.progress is MeterProgress.REREAD
    assert row.state is ReadingState.REJECTED
    assert row.reread is not None
    assert (row.reread.reading_uuid, row.reread.status) == (rejected.reading.uuid, ReadingStatus.REJECTED)
    assert (row.reread.reason, row.reread.due_on) == ("photo blurred", date(2026, 12, 4))

    replacing = record(at=at + timedelta(minutes=10), value="1310.0", replaces=rejected.reading.uuid)
    row = one_row(make_meter(), [replacing, rejected])
    assert (row.progress, row.value, row.reread, row.state) == (MeterProgress.DONE, "1310.0", None, ReadingState.SAVED)


def test_a_reread_the_server_asked_for_is_a_task_until_the_phone_reads_again() -> None:
    at = JUST_AFTER - timedelta(minutes=20)
    sent_back = period_read(at, ReadingStatus.REREAD, reason="dial hidden", due_on=date(2026, 12, 3))
    meter = make_meter(period_read=sent_back)
    row = one_row(meter, [])
    assert row.progress is MeterProgress.REREAD
    assert row.state is None  # known from the server only
    assert row.reread is not None
    assert (row.reread.reading_uuid, row.reread.reason) == (sent_back.reading_uuid, "dial hidden")
    assert row.reread.status is ReadingStatus.REREAD
    # This phone's older read of the month does not hide the server's newer one.
    older = record(at=at - timedelta(minutes=5))
    assert one_row(meter, [older]).progress is MeterProgress.REREAD
    newer = record(at=at + timedelta(minutes=1), replaces=sent_back.reading_uuid)
    assert one_row(meter, [newer, older]).progress is MeterProgress.DONE


def test_a_quality_check_is_a_task_until_a_read_after_its_request() -> None:
    """The approved read stands (its value is shown), but the meter is to be read again: listed with the tasks
    until this phone reads it after the check was asked for."""
    now = JUST_AFTER + timedelta(hours=10)
    at = JUST_AFTER + timedelta(hours=1)
    approved = period_read(at, ReadingStatus.APPROVED)
    asked = CheckRequest(requested_at=at + timedelta(hours=2), due_on=date(2026, 12, 4))
    meter = make_meter(period_read=approved, check=asked)
    row = one_row(meter, [], now)
    assert (row.progress, row.value, row.reread) == (MeterProgress.CHECK, approved.value, None)
    mine = record(at=at, uuid=approved.reading_uuid, review_status=ReadingStatus.APPROVED)
    assert one_row(meter, [mine], now).progress is MeterProgress.CHECK  # this phone's own approved read: still asked
    again = record(at=now - timedelta(minutes=10))
    assert one_row(meter, [mine, again], now).progress is MeterProgress.DONE
    view = snapshot([row], RouteFilter.REREAD, None, version=1)
    assert ([r.meter.meter_id for r in view.rows], view.progress) == ([meter.meter_id], RouteProgress(0, 1, 1))
    assert snapshot([row], RouteFilter.DONE, None, version=1).rows == []
    assert one_row(make_meter(period_read=approved), [], now).progress is MeterProgress.DONE  # no check asked


def test_the_servers_review_of_this_phones_own_reading_counts() -> None:
    at = JUST_AFTER - timedelta(minutes=20)
    mine = record(at=at, state=LocalState.UPLOADED, in_outbox=False)
    server = period_read(at, ReadingStatus.REJECTED, uuid=mine.reading.uuid, reason="wrong meter")
    row = one_row(make_meter(period_read=server), [mine])
    assert row.progress is MeterProgress.REREAD
    assert row.reread is not None
    assert row.reread.reason == "wrong meter"


def words(row: Any) -> tuple[str, ...]:
    """A tile's flags as it says them (in the session's language at the time it draws)."""
    return tuple(flag_words(code) for code in row.flags)


def test_the_servers_flags_are_plain_words() -> None:
    at = JUST_AFTER - timedelta(minutes=20)
    flagged = record(at=at, flags=(ReadingFlag.OUTSIDE_WINDOW.value, ReadingFlag.GPS_FAR.value, "new_server_flag"))
    row = one_row(make_meter(), [flagged])
    assert words(row) == (
        "outside the meter's usual range (re-keyed, photo)",
        "far from meter",
        "flagged for the supervisor (new_server_flag)",
    )
    server = period_read(at, ReadingStatus.SUBMITTED, flags=[ReadingFlag.BELOW_PREVIOUS.value])
    assert words(one_row(make_meter(period_read=server), [])) == ("below previous",)
    # Every flag this app knows has words of its own, not the fallback.
    assert not [flag for flag in ReadingFlag if flag_words(flag.value).startswith("flagged for the supervisor")]


def test_a_tile_shows_the_servers_current_flags_not_the_photo_state_of_the_upload() -> None:
    at = JUST_AFTER - timedelta(minutes=20)
    # The push answered gps_missing and photo_pending; the photo arrived since: the state says so, not a flag.
    uploaded = record(
        at=at,
        state=LocalState.UPLOADED,
        in_outbox=False,
        flags=(ReadingFlag.GPS_MISSING.value, ReadingFlag.PHOTO_PENDING.value),
    )
    assert words(one_row(make_meter(), [uploaded])) == ("no GPS fix",)
    # A later pull carries the server's flags on the same reading, which win over the push's answer.
    server = period_read(at, ReadingStatus.SUBMITTED, uuid=uploaded.reading.uuid, flags=[ReadingFlag.GPS_FAR.value])
    assert words(one_row(make_meter(period_read=server), [uploaded])) == ("far from meter",)


def test_a_kept_row_says_its_flags_in_the_language_of_whoever_draws_it() -> None:
    # The derivation is shared by sessions and threads: it keeps codes, and the words come at drawing time.
    at = JUST_AFTER - timedelta(minutes=20)
    row = one_row(make_meter(), [record(at=at, flags=(ReadingFlag.GPS_MISSING.value,))])
    assert row.flags == ("gps_missing",)
    try:
        set_default_language("hi")
        assert words(row) == ("GPS लोकेशन नहीं",)
    finally:
        set_default_language("en")
    assert words(row) == ("no GPS fix",)


def test_filters_and_search_show_part_of_the_route_and_count_all_of_it() -> None:
    at = JUST_AFTER - timedelta(minutes=20)
    meters = [
        make_meter(meter_id=1, meter_number="MTR-0001", unit_code="2BHK-B1-GF", block_code="B"),
        make_meter(meter_id=2, meter_number="MTR-0002", unit_code="2BHK-B2-GF", block_code="B"),
        make_meter(meter_id=3, meter_number="MTR-0003", unit_code="VILLA-A2", block_code="V"),
        make_meter(
            meter_id=4,
            meter_number="MTR-0004",
            unit_code="VILLA-A3",
            block_code="V",
            period_read=period_read(at, ReadingStatus.REJECTED),
        ),
    ]
    rows = route_rows(meters, [record(1, at=at), record(3, at=at, value=None)], zone=IST, now=JUST_AFTER)
    progress = RouteProgress(read=2, total=4, rereads=1)

    def shown(route_filter: RouteFilter, search: str | None = None) -> list[int]:
        view = snapshot(rows, route_filter, search, version=7)
        assert (view.progress, view.version) == (progress, 7)
        return [row.meter.meter_id for row in view.rows]

    assert shown(RouteFilter.ALL) == [1, 2, 3, 4]
    assert shown(RouteFilter.DONE) == [1, 3]
    assert shown(RouteFilter.TO_READ) == [2]
    assert shown(RouteFilter.REREAD) == [4]
    assert shown(RouteFilter.ALL, "villa") == [3, 4]  # unit number, any case
    assert shown(RouteFilter.ALL, " mtr-0002 ") == [2]  # meter number
    assert shown(RouteFilter.DONE, "VILLA") == [3]


def test_an_unknown_or_missing_zone_is_utc() -> None:
    assert society_zone(None) is UTC
    assert society_zone("Mars/Olympus") is UTC
    assert society_zone("Asia/Kolkata") == IST
