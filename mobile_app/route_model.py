"""The engineer's route as the screens show it: each meter's progress this period, re-read tasks, filters, order.

SCAFFOLD (issue 12): the shapes below are agreed between the phone's service and its screens; the derivation is
being written. Flet-free and pure: ``route_rows`` takes the cached meters, this phone's readings and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from mobile_app.reading_states import ReadingState
from shared_billing.protocol import MeterAssignment, ReadingStatus, SkipReason

__all__ = [
    "Connection",
    "MeterProgress",
    "RereadTask",
    "RouteFilter",
    "RouteProgress",
    "RouteRow",
    "RouteSnapshot",
    "SyncStatus",
]


class RouteFilter(StrEnum):
    ALL = "all"
    TO_READ = "to_read"
    REREAD = "reread"  # rejected or sent back: a task
    DONE = "done"


class MeterProgress(StrEnum):
    """A meter this billing period, from the server's and this phone's readings together."""

    TO_READ = "to_read"
    DONE = "done"  # read (or skipped) this period, and not rejected
    REREAD = "reread"  # its reading this period was rejected or sent back, and no newer one replaces it yet


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
    flags: tuple[str, ...]  # the server's flags on this period's reading, in plain words
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
