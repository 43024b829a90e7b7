"""Engineers' routes: which meters each reads, in which walking order; phones learn changes on their next pull.

The rules live in ``sync_server.directory``; these routes commit what it changed (docs/domain.md "Routes").
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlmodel import Session, col

from shared_billing.api_models import AssignmentIn, Page, RouteMove, RouteMoved, RouteOrder, RouteStop
from shared_billing.api_types import Id
from sync_server.api.paging import PageQuery, paginate
from sync_server.deps import CurrentUser, NowDep, SessionDep, access
from sync_server.directory import assign_meter, move_meters, reorder_route, route_statement, unassign_meter
from sync_server.models import Block, Meter, Role, Unit, User
from sync_server.problems import Problem

router = APIRouter(tags=["routes"])


def _engineer(session: Session, engineer_id: int) -> User:
    """The engineer a route path names (deactivated ones too: their meters still need moving away)."""
    engineer = session.get(User, engineer_id)
    if engineer is None or engineer.role != Role.ENGINEER:
        raise Problem("user.not_found", f"No field engineer {engineer_id}")
    return engineer


@router.get("/routes/{engineer_id}", **access(Role.SUPERVISOR, Role.ADMIN, errors=(404,)))
def get_route(engineer_id: Id, session: SessionDep, page: PageQuery) -> Page[RouteStop]:
    """An engineer's meters in walk order (ties by meter number); ``q`` searches meter numbers and unit codes."""
    _engineer(session, engineer_id)
    statement = (
        route_statement(engineer_id)
        .add_columns(col(Block.code), col(Unit.code))
        .join(Block, col(Block.id) == col(Meter.block_id))
        .outerjoin(Unit, col(Unit.id) == col(Meter.unit_id))
    )
    rows, total = paginate(session, statement, page, search=[col(Meter.number), col(Unit.code), col(Meter.label)])
    items = [
        RouteStop(
            meter_id=assignment.meter_id,
            meter_number=meter.number,
            block_code=block_code,
            unit_code=unit_code if unit_code is not None else meter.label,
            walk_order=assignment.walk_order,
            assigned_at=assignment.assigned_at,
        )
        for assignment, meter, block_code, unit_code in rows
    ]
    return Page[RouteStop](items=items, total=total, limit=page.limit, offset=page.offset)


@router.put("/routes/{engineer_id}", status_code=204, **access(Role.ADMIN, errors=(404,)))
def put_route_order(engineer_id: Id, body: RouteOrder, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """Set a route's whole walking order: ``meter_ids`` lists every meter of the engineer's route once (422
    ``route.order_mismatch`` with what is missing, unexpected or repeated otherwise). The phone gets the new
    order on its next pull. Audited with the old and new order."""
    _engineer(session, engineer_id)
    reorder_route(session, engineer_id=engineer_id, meter_ids=body.meter_ids, actor=user, now=now, reason=body.reason)
    session.commit()
    return Response(status_code=204)


@router.post("/routes/move", **access(Role.ADMIN))
def move_route_meters(body: RouteMove, session: SessionDep, user: CurrentUser, now: NowDep) -> RouteMoved:
    """Move meters from one engineer's route to the end of another's, keeping their order (reason required).
    Every meter must be on the first route (422 ``route.order_mismatch``); the second engineer must be an active
    field engineer (422 ``meter.unknown_engineer``). Both phones learn it on their next pull. Audited."""
    moved = move_meters(
        session,
        from_engineer_id=body.from_engineer_id,
        to_engineer_id=body.to_engineer_id,
        meter_ids=body.meter_ids,
        actor=user,
        now=now,
        reason=body.reason,
    )
    session.commit()
    return RouteMoved(
        to_engineer_id=body.to_engineer_id,
        meter_ids=[meter_id for meter_id, _ in moved],
        walk_orders=[walk_order for _, walk_order in moved],
    )


@router.put("/meters/{meter_id}/assignment", status_code=204, **access(Role.ADMIN, errors=(404, 409)))
def put_assignment(meter_id: Id, body: AssignmentIn, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """Assign a meter to a field engineer (replacing any earlier one), at the end of their route."""
    assign_meter(session, meter_id=meter_id, engineer_id=body.engineer_id, actor=user, now=now)
    session.commit()
    return Response(status_code=204)


@router.delete("/meters/{meter_id}/assignment", status_code=204, **access(Role.ADMIN, errors=(404,)))
def delete_assignment(meter_id: Id, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """Take a meter off its engineer's route; the phone drops it on the next pull."""
    unassign_meter(session, meter_id=meter_id, actor=user, now=now)
    session.commit()
    return Response(status_code=204)
