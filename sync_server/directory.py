"""Changes to engineers' routes that phones must learn about: assign, unassign, reorder, move, hand over.

Every change keeps three records in step, in the caller's transaction (the caller commits): ``Assignment`` (who
has the meter now, and where on their route), ``AssignmentHistory`` (who had it when: a reading saved offline
before a change is judged by it, docs/domain.md "Routes") and sync events (the phones learn it on their next
pull: ``assigned`` re-sends the meter with its place, ``unassigned`` removes it). Each change is audited with who,
when and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared_billing.protocol import MeterStatus
from sync_server.events import record_events
from sync_server.models import Assignment, AssignmentHistory, AuditEvent, Meter, Role, SyncEvent, SyncEventKind, User
from sync_server.problems import Problem

__all__ = [
    "ROUTE_ORDER",
    "assign_meter",
    "hand_over_meter",
    "move_meters",
    "reorder_route",
    "require_engineer",
    "route_statement",
    "start_assignment",
    "unassign_meter",
]


def _meter(session: Session, meter_id: int) -> Meter:
    meter = session.get(Meter, meter_id)
    if meter is None:
        raise Problem("reading.unknown_meter", f"There is no meter {meter_id}")
    return meter


def require_engineer(session: Session, engineer_id: int, field: str = "engineer_id") -> User:
    """The active field engineer ``engineer_id``; 422 naming ``field`` for anyone else."""
    engineer = session.get(User, engineer_id)
    if engineer is None or engineer.role != Role.ENGINEER or not engineer.active:
        raise Problem("meter.unknown_engineer", f"User {engineer_id} is not an active field engineer", {"field": field})
    return engineer


#: A route's order (console and pull alike): its walk order, ties (and routes never ordered) by meter number.
ROUTE_ORDER = (col(Assignment.walk_order), col(Meter.number))


def route_statement(engineer_id: int) -> Any:
    """The engineer's (Assignment, Meter) rows in walk order."""
    return (
        select(Assignment, Meter)
        .join(Meter, col(Meter.id) == col(Assignment.meter_id))
        .where(Assignment.engineer_id == engineer_id)
        .order_by(*ROUTE_ORDER)
    )


def _route_end(session: Session, engineer_id: int) -> int:
    last = session.exec(select(func.max(Assignment.walk_order)).where(Assignment.engineer_id == engineer_id)).one()
    return int(last or 0)


def start_assignment(session: Session, *, meter_id: int, engineer_id: int, walk_order: int, now: datetime) -> None:
    """Put an unassigned meter on a route and open its spell in the history (no event, no audit: see callers)."""
    session.add(Assignment(meter_id=meter_id, engineer_id=engineer_id, assigned_at=now, walk_order=walk_order))
    session.add(AssignmentHistory(meter_id=meter_id, engineer_id=engineer_id, valid_from=now))


def _end_spell(session: Session, meter_id: int, now: datetime) -> None:
    for spell in session.exec(
        select(AssignmentHistory).where(
            AssignmentHistory.meter_id == meter_id, col(AssignmentHistory.valid_to).is_(None)
        )
    ).all():
        spell.valid_to = now
        session.add(spell)


def _audit(session: Session, actor: User, now: datetime, *, action: str, reason: str | None, **detail: Any) -> None:
    meter_id = detail.get("meter_id")
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action=action,
            entity="meter" if meter_id is not None else "route",
            entity_id=str(meter_id if meter_id is not None else detail.get("engineer_id")),
            reason=reason,
            detail=detail,
        )
    )


def _event(engineer_id: int, kind: SyncEventKind, meter_id: int, now: datetime) -> SyncEvent:
    return SyncEvent(engineer_id=engineer_id, kind=kind, meter_id=meter_id, created_at=now)


def _reassign(session: Session, current: Assignment | None, meter_id: int, engineer_id: int, now: datetime) -> int:
    """Move one meter to the end of ``engineer_id``'s route; its place there."""
    walk_order = _route_end(session, engineer_id) + 1
    events = [_event(engineer_id, SyncEventKind.ASSIGNED, meter_id, now)]
    if current is None:
        start_assignment(session, meter_id=meter_id, engineer_id=engineer_id, walk_order=walk_order, now=now)
    else:
        events.insert(0, _event(current.engineer_id, SyncEventKind.UNASSIGNED, meter_id, now))
        _end_spell(session, meter_id, now)
        current.engineer_id, current.assigned_at, current.walk_order = engineer_id, now, walk_order
        session.add(current)
        session.add(AssignmentHistory(meter_id=meter_id, engineer_id=engineer_id, valid_from=now))
    record_events(session, events)
    session.flush()
    return walk_order


def assign_meter(
    session: Session, *, meter_id: int, engineer_id: int, actor: User, now: datetime, reason: str | None = None
) -> None:
    """Put a meter at the end of an engineer's route (taking it off any other route); the caller commits."""
    meter = _meter(session, meter_id)
    if meter.status is MeterStatus.RETIRED:
        raise Problem("meter.retired", f"Meter {meter.number} is retired: put its replacement on the route")
    require_engineer(session, engineer_id)
    current = session.get(Assignment, meter_id)
    if current is not None and current.engineer_id == engineer_id:
        return
    old = current.engineer_id if current is not None else None
    walk_order = _reassign(session, current, meter_id, engineer_id, now)
    _audit(
        session,
        actor,
        now,
        action="meter.assigned",
        reason=reason,
        meter_id=meter_id,
        engineer_id={"old": old, "new": engineer_id},
        walk_order=walk_order,
    )


def unassign_meter(session: Session, *, meter_id: int, actor: User, now: datetime, reason: str | None = None) -> None:
    """Take a meter off its engineer's route; the phone drops it on the next pull. The caller commits."""
    _meter(session, meter_id)
    current = session.get(Assignment, meter_id)
    if current is None:
        return
    session.delete(current)
    _end_spell(session, meter_id, now)
    record_events(session, [_event(current.engineer_id, SyncEventKind.UNASSIGNED, meter_id, now)])
    _audit(
        session,
        actor,
        now,
        action="meter.unassigned",
        reason=reason,
        meter_id=meter_id,
        engineer_id={"old": current.engineer_id},
    )


def _route(session: Session, engineer_id: int) -> list[Assignment]:
    return [assignment for assignment, _ in session.exec(route_statement(engineer_id)).all()]


def _order_mismatch(field: str, route: Sequence[int], given: Sequence[int], message: str) -> Problem:
    duplicates = sorted({meter_id for meter_id in given if given.count(meter_id) > 1})
    return Problem(
        "route.order_mismatch",
        message,
        {
            "field": field,
            "missing": sorted(set(route) - set(given)),
            "unexpected": sorted(set(given) - set(route)),
            "duplicates": duplicates,
        },
    )


def reorder_route(
    session: Session, *, engineer_id: int, meter_ids: Sequence[int], actor: User, now: datetime, reason: str | None
) -> None:
    """Set the whole walk order of a route: ``meter_ids`` must be exactly the engineer's meters, each once."""
    route = _route(session, engineer_id)
    old = [assignment.meter_id for assignment in route]
    if sorted(old) != sorted(meter_ids):
        raise _order_mismatch("meter_ids", old, meter_ids, "List every meter of the route exactly once")
    by_meter = {assignment.meter_id: assignment for assignment in route}
    changed = []
    for place, meter_id in enumerate(meter_ids, start=1):
        assignment = by_meter[meter_id]
        if assignment.walk_order != place:
            assignment.walk_order = place
            session.add(assignment)
            changed.append(meter_id)
    if not changed:
        return
    # "assigned" again: the phone's next pull re-sends the meter with its new place.
    record_events(session, [_event(engineer_id, SyncEventKind.ASSIGNED, meter_id, now) for meter_id in changed])
    _audit(
        session,
        actor,
        now,
        action="route.reordered",
        reason=reason,
        engineer_id=engineer_id,
        meter_ids={"old": old, "new": list(meter_ids)},
    )


def move_meters(
    session: Session,
    *,
    from_engineer_id: int,
    to_engineer_id: int,
    meter_ids: Sequence[int],
    actor: User,
    now: datetime,
    reason: str,
) -> list[tuple[int, int]]:
    """Move meters of one route to the end of another, in their order on the first: (meter id, new place)s."""
    if from_engineer_id == to_engineer_id:
        raise Problem("route.same_engineer", "Choose another engineer to move the meters to", {"field": "to"})
    require_engineer(session, to_engineer_id, field="to_engineer_id")
    route = _route(session, from_engineer_id)
    on_route = [assignment.meter_id for assignment in route]
    chosen = set(meter_ids)
    if len(chosen) != len(meter_ids) or not chosen <= set(on_route):
        raise Problem(
            "route.order_mismatch",
            f"Every meter moved must be on engineer {from_engineer_id}'s route, once",
            {
                "field": "meter_ids",
                "missing": [],
                "unexpected": sorted(chosen - set(on_route)),
                "duplicates": sorted({m for m in meter_ids if list(meter_ids).count(m) > 1}),
            },
        )
    moved = [
        (assignment.meter_id, _reassign(session, assignment, assignment.meter_id, to_engineer_id, now))
        for assignment in route
        if assignment.meter_id in chosen
    ]
    _audit(
        session,
        actor,
        now,
        action="route.moved",
        reason=reason,
        engineer_id={"old": from_engineer_id, "new": to_engineer_id},
        meter_ids=[meter_id for meter_id, _ in moved],
        walk_orders=[walk_order for _, walk_order in moved],
    )
    return moved


def hand_over_meter(
    session: Session, *, old_meter_id: int, new_meter_id: int, actor: User, now: datetime, reason: str | None
) -> None:
    """The new meter takes the old one's place on its route (a replacement); the old one leaves the route."""
    current = session.get(Assignment, old_meter_id)
    if current is None:
        return
    engineer_id, walk_order = current.engineer_id, current.walk_order
    unassign_meter(session, meter_id=old_meter_id, actor=actor, now=now, reason=reason)
    if session.get(Assignment, new_meter_id) is not None:
        unassign_meter(session, meter_id=new_meter_id, actor=actor, now=now, reason=reason)
    session.flush()
    start_assignment(session, meter_id=new_meter_id, engineer_id=engineer_id, walk_order=walk_order, now=now)
    record_events(session, [_event(engineer_id, SyncEventKind.ASSIGNED, new_meter_id, now)])
    _audit(
        session,
        actor,
        now,
        action="meter.assigned",
        reason=reason,
        meter_id=new_meter_id,
        engineer_id={"old": None, "new": engineer_id},
        walk_order=walk_order,
        replaces_meter_id=old_meter_id,
    )
