"""Meter-room mode (issue 15): one GPS fix for a room of meters, then each meter in walk order (Flet-free).

A block's meters often hang side by side in one room: the engineer takes the room's fix once, picks the meters in
it, and reads them one after another. Each reading is saved at once like any other (``FieldService.save``), with
the room's fix and ``evidence.room_session``, the id made when the room started, so the server and the supervisor
see the readings were taken together (docs/field-app.md "Meter room").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from mobile_app.capture import CaptureDraft, Fix, usable_fix
from mobile_app.route_model import MeterProgress, RouteRow
from shared_billing.plausibility import ExpectedWindow
from shared_billing.protocol import ReadingV3, ReadType

__all__ = ["MeterRoom", "RoomOutcome", "RoomStep", "block_rows", "room_blocks", "to_read"]


class RoomOutcome(StrEnum):
    READ = "read"
    SKIPPED = "skipped"  # saved as a skip, with its reason
    PASSED = "passed"  # left for later: nothing saved


@dataclass(frozen=True)
class RoomStep:
    """Where the engineer is in the room: what the capture screen shows and puts in the draft."""

    session: uuid.UUID
    fix: Fix | None
    position: int  # 1-based
    total: int


def room_blocks(rows: Iterable[RouteRow]) -> list[str]:
    """The route's blocks in walk order (each at its first meter)."""
    return list(dict.fromkeys(row.meter.block_code for row in rows))


def block_rows(rows: Iterable[RouteRow], block: str) -> list[RouteRow]:
    """The block's meters in the route's (walk) order."""
    return [row for row in rows if row.meter.block_code == block]


def to_read(row: RouteRow) -> bool:
    """Picked at first: every meter still to read, re-read or check this period; a done one only on purpose."""
    return row.progress is not MeterProgress.DONE


@dataclass
class MeterRoom:
    """A room being read: its id, its one fix, the meters picked (walk order) and how each went."""

    rows: tuple[RouteRow, ...]
    fix: Fix | None
    session: uuid.UUID = field(default_factory=uuid.uuid4)
    outcomes: dict[int, RoomOutcome] = field(default_factory=dict)  # by meter id
    position: int = 0  # index of the meter being read

    @classmethod
    def start(cls, rows: Sequence[RouteRow], fix: Fix | None) -> MeterRoom:
        if not rows:
            raise ValueError("a meter room needs at least one meter")
        # A fix the protocol cannot carry is no fix: each reading would drop it anyway (capture.usable_fix).
        return cls(rows=tuple(rows), fix=usable_fix(fix))

    @property
    def current(self) -> RouteRow | None:
        return self.rows[self.position] if self.position < len(self.rows) else None

    @property
    def finished(self) -> bool:
        return self.current is None

    def step(self) -> RoomStep:
        return RoomStep(session=self.session, fix=self.fix, position=self.position + 1, total=len(self.rows))

    def draft(self, window: ExpectedWindow | None) -> CaptureDraft:
        """The current meter's draft: the room's fix and session; a re-read replaces the reading it is for."""
        row = self.current
        if row is None:
            raise ValueError("the room is finished")
        replaces = row.reread.reading_uuid if row.reread is not None else None
        return CaptureDraft(meter=row.meter, fix=self.fix, replaces=replaces, window=window, room_session=self.session)

    def done(self, saved: ReadingV3 | None) -> None:
        """The current meter saved (``saved``) or passed (None); on to the next."""
        row = self.current
        if row is None:
            raise ValueError("the room is finished")
        if saved is None:
            outcome = RoomOutcome.PASSED
        else:
            outcome = RoomOutcome.SKIPPED if saved.read_type is ReadType.SKIP else RoomOutcome.READ
        self.outcomes[row.meter.meter_id] = outcome
        self.position += 1

    def finish(self) -> None:
        """End the room early: the meters not reached are passed (nothing saved for them)."""
        while self.current is not None:
            self.done(None)

    def count(self, outcome: RoomOutcome) -> int:
        return sum(1 for value in self.outcomes.values() if value is outcome)
