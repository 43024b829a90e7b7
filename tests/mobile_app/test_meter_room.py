"""Meter-room mode without a UI (``mobile_app.meter_room``): the route's blocks and meters to pick, the session's
order, progress and outcomes, and the drafts it hands the capture screen (the room's fix and session)."""

from __future__ import annotations

import math
import uuid
from decimal import Decimal

import pytest

from mobile_app.capture import Fix, build_reading
from mobile_app.meter_room import MeterRoom, RoomOutcome, block_rows, room_blocks, to_read
from mobile_app.route_model import MeterProgress, RereadTask, RouteRow
from shared_billing.protocol import ReadingStatus, ReadType, SkipReason
from tests.mobile_app.phone_factories import T0, make_meter

FIX = Fix(30.9, 75.85, 7.0)


def _row(meter_id: int, block: str, progress: MeterProgress = MeterProgress.TO_READ, **extra: object) -> RouteRow:
    meter = make_meter(meter_id=meter_id, meter_number=f"MTR-{meter_id:04d}", unit_code=f"{block}-{meter_id}",
                       block_code=block)  # fmt: skip
    fields: dict[str, object] = {
        "meter": meter,
        "progress": progress,
        "value": None,
        "skip_reason": None,
        "state": None,
        "reread": None,
        "flags": (),
        "captured_at": None,
    } | extra
    return RouteRow(**fields)  # type: ignore[arg-type]


ROUTE = [_row(1, "B1"), _row(2, "B1", MeterProgress.DONE), _row(3, "B2"), _row(4, "B1"), _row(5, "B2")]


def test_blocks_come_in_walk_order_and_their_meters_too() -> None:
    assert room_blocks(ROUTE) == ["B1", "B2"]
    assert [row.meter.meter_id for row in block_rows(ROUTE, "B1")] == [1, 2, 4]
    assert [to_read(row) for row in block_rows(ROUTE, "B1")] == [True, False, True]


def test_a_room_goes_through_its_meters_in_order_with_one_fix_and_one_session() -> None:
    room = MeterRoom.start(block_rows(ROUTE, "B1"), FIX)
    seen = []
    while (row := room.current) is not None:
        step = room.step()
        draft = room.draft(window=None)
        assert (draft.meter, draft.fix, draft.room_session) == (row.meter, FIX, room.session)
        seen.append((step.position, step.total))
        draft.value_text = str(Decimal("1300.0") + step.position)
        draft.photo_sha256, draft.photo_path = "a" * 64, None
        reading = build_reading(draft, captured_at=T0)
        assert reading.evidence is not None
        assert reading.evidence.room_session == room.session
        assert (reading.gps_lat, reading.gps_lon, reading.gps_accuracy_m) == (FIX.lat, FIX.lon, FIX.accuracy_m)
        room.done(reading)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert room.finished
    assert room.count(RoomOutcome.READ) == 3
    assert isinstance(room.session, uuid.UUID)
    assert MeterRoom.start(ROUTE[:1], FIX).session != room.session  # each room its own


def test_skips_passes_and_finishing_early_are_counted_apart() -> None:
    room = MeterRoom.start(ROUTE, None)
    skip = room.draft(window=None)
    skip.skip_reason = SkipReason.LOCKED
    room.done(build_reading(skip, captured_at=T0))
    room.done(None)  # "Later": nothing saved
    room.finish()
    assert room.finished
    assert (room.count(RoomOutcome.READ), room.count(RoomOutcome.SKIPPED), room.count(RoomOutcome.PASSED)) == (0, 1, 4)
    with pytest.raises(ValueError, match="finished"):
        room.draft(window=None)


def test_a_skip_in_a_room_carries_the_session_and_no_fix_means_none() -> None:
    room = MeterRoom.start(ROUTE, Fix(math.nan, 75.0, 5.0))  # a position no protocol carries: no fix at all
    assert room.fix is None
    draft = room.draft(window=None)
    draft.skip_reason = SkipReason.NO_ACCESS
    reading = build_reading(draft, captured_at=T0)
    assert reading.read_type is ReadType.SKIP
    assert reading.evidence is not None
    assert (reading.evidence.room_session, reading.evidence.photo_checks) == (room.session, None)
    assert reading.gps_lat is None


def test_a_re_read_in_a_room_replaces_the_reading_it_is_for() -> None:
    rejected = uuid.uuid4()
    task = RereadTask(reading_uuid=rejected, status=ReadingStatus.REJECTED, reason="blurred", due_on=None)
    room = MeterRoom.start([_row(7, "B3", MeterProgress.REREAD, reread=task)], FIX)
    assert room.draft(window=None).replaces == rejected


def test_an_empty_room_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one meter"):
        MeterRoom.start([], FIX)
