"""The engineer's route as the screens show it: each meter's progress this period, re-read tasks, filters, order.

Flet-free and pure: ``route_rows`` takes the cached meters, this phone's readings, the society's time zone and the
clock; ``snapshot`` filters and searches them. The billing period is the calendar month in the society's zone (as
the server bills it), so a read at 00:30 IST on the 1st belongs to the new month even though it is still the
previous one in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from natsort import natsort_keygen, ns

from mobile_app.reading_states import ReadingState, reading_state
from mobile_app.store import LocalState, ReadingRecord
from shared_billing.checks import ReadingFlag
from shared_billing.protocol import MeterAssignment, PeriodRead, ReadingStatus, ReadType, SkipReason

__all__ = [
    "Connection",
    "MeterProgress",
    "RereadTask",
    "RouteBase",
    "RouteFilter",
    "RouteProgress",
    "RouteRow",
    "RouteSnapshot",
    "SyncStatus",
    "in_period",
    "route_base",
    "route_rows",
    "snapshot",
    "society_zone",
    "walk_order",
]


class RouteFilter(StrEnum):
    ALL = "all"
    TO_READ = "to_read"
    REREAD = "reread"  # tasks: rejected or sent back, or a quality check
    DONE = "done"


class MeterProgress(StrEnum):
    """A meter this billing period, from the server's and this phone's readings together."""

    TO_READ = "to_read"
    DONE = "done"  # read (or skipped) this period, and not rejected
    REREAD = "reread"  # its reading this period was rejected or sent back, and no newer one replaces it yet
    # Its approved read this period was picked for a quality check and no read since answers it: read it again
    # (the approved read stands; the server compares the two).
    CHECK = "check"


@dataclass(frozen=True)
class RereadTask:
    reading_uuid: UUID  # the reading a new read replaces (``CaptureDraft.replaces``)
    status: ReadingStatus  # REJECTED or REREAD
    reason: str | None
    due_on: date | None


@dataclass(frozen=True)
class RouteRow:
    meter: MeterAssignment
    progress: MeterProgress
    value: str | None  # the value read this period (this phone's newest, else the server's); None for a skip
    skip_reason: SkipReason | None
    state: ReadingState | None  # this phone's reading's state; None when the read is known from the server only
    reread: RereadTask | None
    flags: tuple[str, ...]  # the server's flag codes on this period's reading (reading_states.flag_words says them)
    captured_at: datetime | None


@dataclass(frozen=True)
class RouteProgress:
    read: int  # meters DONE this period
    total: int  # meters on the route
    rereads: int


@dataclass(frozen=True)
class RouteSnapshot:
    rows: list[RouteRow]  # in walk order, filtered and searched
    progress: RouteProgress  # of the whole route, whatever the filter
    version: int  # FieldService.version it was built at: a view redraws only when it changed


class Connection(StrEnum):
    ONLINE = "online"  # the last pass reached the server
    OFFLINE = "offline"  # the last pass could not reach it
    SYNCING = "syncing"  # a pass is running now
    UNKNOWN = "unknown"  # no pass yet since the app started


@dataclass(frozen=True)
class SyncStatus:
    connection: Connection
    last_sync_at: datetime | None
    waiting: int  # the signed-in engineer's readings not yet uploaded
    problem: str | None  # why the last pass stopped, in plain words


# --- the derivation ----------------------------------------------------------------------------------------------

_REFUSED = frozenset({ReadingStatus.REJECTED, ReadingStatus.REREAD})
# Readings the server never took (refused at the push, or a different reading under the uuid) count for nothing on
# the route: the Sync screen says why, and the meter still needs a read that the server accepts.
_NOT_ON_SERVER = frozenset({LocalState.REJECTED, LocalState.CONFLICT})
_natural = natsort_keygen(alg=ns.IGNORECASE)


def society_zone(name: str | None) -> tzinfo:
    """The zone the pull named; UTC before the first pull that carried one (or a name this phone's tz data lacks)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def in_period(at: datetime, now: datetime, zone: tzinfo) -> bool:
    """``at`` falls in the billing period (calendar month in ``zone``) that ``now`` is in."""
    here, today = at.astimezone(zone), now.astimezone(zone)
    return (here.year, here.month) == (today.year, today.month)


@lru_cache(maxsize=65536)
def _place(block: str, unit: str, number: str) -> tuple[Any, ...]:
    # Kept per meter for the process: the natural keys are most of a 2,000-meter derivation's time otherwise.
    return (_natural(block), _natural(unit), _natural(number))


def walk_order(meters: Sequence[MeterAssignment]) -> list[MeterAssignment]:
    """The admin's route order first; meters without one after, in natural order by block, unit and meter
    number (B2 before B17, not after it as a string sort has it)."""
    return sorted(
        meters,
        key=lambda m: (
            m.walk_order is None,
            m.walk_order or 0,
            _place(m.block_code, m.unit_code or "", m.meter_number),
        ),
    )


@dataclass(frozen=True)
class _Read:
    """This period's newest read of a meter, from the phone's record or the server's ``period_read``."""

    uuid: UUID
    value: str | None
    skip_reason: SkipReason | None
    captured_at: datetime
    status: ReadingStatus | None
    reason: str | None
    due_on: date | None
    flags: tuple[str, ...]
    state: ReadingState | None


def _from_record(record: ReadingRecord, server: PeriodRead | None) -> _Read:
    status = record.review_status
    reason, due_on = record.review_reason, record.due_on
    if server is not None and server.reading_uuid == record.reading.uuid and status is None:
        # The same reading: the server's view of its review may be the newer one (a pull before its decision).
        status, reason, due_on = server.status, server.reason, server.due_on
    # The pull's flags are the server's current ones; the push result's are as they stood at upload, and its
    # photo_pending is the photo's state (shown by ``state``), not a finding for the engineer.
    same = server is not None and server.reading_uuid == record.reading.uuid
    flags = tuple(server.flags) if server is not None and same else record.flags
    flags = tuple(code for code in flags if code != ReadingFlag.PHOTO_PENDING)
    return _Read(
        uuid=record.reading.uuid,
        value=record.reading.value,
        skip_reason=record.reading.skip_reason,
        captured_at=record.reading.captured_at,
        status=status,
        reason=reason,
        due_on=due_on,
        flags=flags,
        state=reading_state(record),
    )


def _from_server(read: PeriodRead) -> _Read:
    return _Read(
        uuid=read.reading_uuid,
        value=read.value if read.read_type is not ReadType.SKIP else None,
        skip_reason=None,  # the pull says a skip happened, not why
        captured_at=read.captured_at,
        status=read.status,
        reason=read.reason,
        due_on=read.due_on,
        flags=tuple(read.flags),
        state=None,
    )


def _newest_read(records: Sequence[ReadingRecord], server: PeriodRead | None) -> _Read | None:
    """The meter's newest read this period: the phone's newest record, unless the server knows a newer one (another
    phone's, or this phone's from before a reinstall)."""
    mine = max(records, key=lambda r: r.reading.captured_at, default=None)
    newer = server is not None and (mine is None or server.captured_at > mine.reading.captured_at)
    if server is not None and newer and all(r.reading.uuid != server.reading_uuid for r in records):
        return _from_server(server)
    return _from_record(mine, server) if mine is not None else None


def _row(meter: MeterAssignment, read: _Read | None) -> RouteRow:
    if read is None:
        return RouteRow(meter, MeterProgress.TO_READ, None, None, None, None, (), None)
    task = None
    progress = MeterProgress.DONE
    if meter.check is not None and read.captured_at < meter.check.requested_at:
        progress = MeterProgress.CHECK
    elif read.status in _REFUSED:
        progress = MeterProgress.REREAD
        task = RereadTask(read.uuid, ReadingStatus(read.status), read.reason, read.due_on)
    # Codes, not words: the derivation is kept across sessions and threads; the tile says them in its language.
    return RouteRow(meter, progress, read.value, read.skip_reason, read.state, task, read.flags, read.captured_at)


@dataclass(frozen=True)
class RouteBase:
    """The route in walk order for one period, each meter's row from the server's ``period_read`` alone: what a
    derivation starts from. It changes only with a pull or a new month, so the phone keeps it between saves and
    sync passes and a derivation rebuilds only the rows of meters this phone read (``route_rows``)."""

    period: tuple[int, int]  # (year, month) in the society's zone
    rows: tuple[RouteRow, ...]
    position: dict[int, int]  # meter id → its row's index

    def holds(self, now: datetime, zone: tzinfo) -> bool:
        today = now.astimezone(zone)
        return self.period == (today.year, today.month)


def route_base(meters: Sequence[MeterAssignment], *, zone: tzinfo, now: datetime) -> RouteBase:
    """Every meter in walk order with the row its server period read gives (no phone readings)."""
    ordered = walk_order(meters)
    today = now.astimezone(zone)
    rows = tuple(_row(meter, _newest_read((), _in_period_read(meter, now, zone))) for meter in ordered)
    position = {meter.meter_id: index for index, meter in enumerate(ordered)}
    return RouteBase(period=(today.year, today.month), rows=rows, position=position)


def _in_period_read(meter: MeterAssignment, now: datetime, zone: tzinfo) -> PeriodRead | None:
    server = meter.period_read
    if server is not None and not in_period(server.captured_at, now, zone):
        return None  # a pull from last month: its period read belongs to a closed period
    return server


def route_rows(
    meters: Sequence[MeterAssignment],
    readings: Sequence[ReadingRecord],
    *,
    zone: tzinfo,
    now: datetime,
    base: RouteBase | None = None,
) -> list[RouteRow]:
    """Every meter of the route in walk order with its progress this period.

    DONE: read or skipped this period and not refused; REREAD: the newest read this period was rejected or sent back
    and no newer read replaces it yet (the phone's or the server's ``period_read``, whichever is newer); TO_READ
    otherwise. A newer read replaces a refused one whether or not it has been uploaded: the engineer's task is done.

    ``base``: ``route_base(meters, ...)`` kept by the caller (rebuilt here when missing or of another period); only
    the rows of meters with a phone reading this period are derived again.
    """
    if base is None or not base.holds(now, zone):
        base = route_base(meters, zone=zone, now=now)
    by_meter: dict[int, list[ReadingRecord]] = {}
    for record in readings:
        if record.state in _NOT_ON_SERVER or not in_period(record.reading.captured_at, now, zone):
            continue
        by_meter.setdefault(record.reading.meter_id, []).append(record)
    rows = list(base.rows)
    for meter_id, records in by_meter.items():
        index = base.position.get(meter_id)
        if index is None:
            continue  # a meter no longer on the route: its readings still show on the Sync screen
        meter = rows[index].meter
        rows[index] = _row(meter, _newest_read(records, _in_period_read(meter, now, zone)))
    return rows


_TASKS = frozenset({MeterProgress.REREAD, MeterProgress.CHECK})  # what the "tasks" filter shows and counts
_WANTED = {
    RouteFilter.TO_READ: frozenset({MeterProgress.TO_READ}),
    RouteFilter.REREAD: _TASKS,
    RouteFilter.DONE: frozenset({MeterProgress.DONE}),
}


def _matches(row: RouteRow, needle: str) -> bool:
    return needle in row.meter.meter_number.casefold() or needle in (row.meter.unit_code or "").casefold()


def snapshot(rows: Sequence[RouteRow], route_filter: RouteFilter, search: str | None, version: int) -> RouteSnapshot:
    """``rows`` filtered and searched (meter or unit number, any case, any part); the progress is the whole
    route's whatever is shown."""
    progress = RouteProgress(
        read=sum(r.progress is MeterProgress.DONE for r in rows),
        total=len(rows),
        rereads=sum(r.progress in _TASKS for r in rows),
    )
    wanted = _WANTED.get(route_filter)
    needle = (search or "").strip().casefold()
    shown = [r for r in rows if (wanted is None or r.progress in wanted) and (not needle or _matches(r, needle))]
    return RouteSnapshot(rows=shown, progress=progress, version=version)
