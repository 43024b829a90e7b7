"""Blocks, units, meters and shared-meter membership: paged lists for the office, writes for admins.

The rules live in ``sync_server.premises``; these routes read the request, call it and shape the answer (a unit's
personal data only for the roles that may see it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from shared_billing.api_models import (
    BlockIn,
    BlockOut,
    MembershipEnd,
    MembershipIn,
    MembershipOut,
    MeterIn,
    MeterOut,
    Page,
    UnitIn,
    UnitOut,
)
from shared_billing.api_types import Id
from sync_server import premises
from sync_server.api.paging import PageQuery, paginate
from sync_server.deps import DIRECTORY_READERS, CurrentUser, NowDep, SessionDep, access
from sync_server.models import (
    Assignment,
    Block,
    Meter,
    MeterKind,
    MeterStatus,
    Role,
    SharedMeterMember,
    Unit,
    User,
)
from sync_server.problems import Problem

router = APIRouter(tags=["premises"])


def _block_out(block: Block) -> BlockOut:
    return BlockOut.model_validate(block, from_attributes=True)


def _unit_out(unit: Unit, user: User) -> UnitOut:
    out = UnitOut.model_validate(unit, from_attributes=True)
    if user.role in premises.PERSONAL_DATA_ROLES:
        return out
    return out.model_copy(update={"consumer_name": None, "phone": None, "email": None})


def _meter_out(meter: Meter, engineer_id: int | None) -> MeterOut:
    return MeterOut.model_validate({**meter.model_dump(), "engineer_id": engineer_id})


def _saved_meter_out(session: Session, meter: Meter) -> MeterOut:
    assignment = session.get(Assignment, meter.id)
    return _meter_out(meter, assignment.engineer_id if assignment else None)


def _membership_out(member: SharedMeterMember, unit_code: str) -> MembershipOut:
    assert member.id is not None
    return MembershipOut(
        id=member.id,
        meter_id=member.meter_id,
        unit_id=member.unit_id,
        unit_code=unit_code,
        valid_from=member.valid_from,
        valid_to=member.valid_to,
    )


# --- Blocks ---


@router.get("/blocks", **access(*DIRECTORY_READERS))
def list_blocks(session: SessionDep, page: PageQuery) -> Page[BlockOut]:
    """Blocks of the society, by code; ``q`` searches code and name."""
    statement = select(Block).order_by(col(Block.code))
    rows, total = paginate(session, statement, page, search=[col(Block.code), col(Block.name)])
    return Page[BlockOut](items=[_block_out(b) for b in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/blocks", status_code=201, **access(Role.ADMIN, errors=(409,)))
def create_block(body: BlockIn, session: SessionDep, user: CurrentUser, now: NowDep) -> BlockOut:
    """Add a block (its code is unique: 409 ``block.code_taken``). Audited."""
    return _block_out(premises.create_block(session, body, actor=user, now=now))


@router.put("/blocks/{block_id}", **access(Role.ADMIN, errors=(404, 409)))
def update_block(block_id: Id, body: BlockIn, session: SessionDep, user: CurrentUser, now: NowDep) -> BlockOut:
    """Edit a block's code and name. Audited with the changed fields' old and new values."""
    return _block_out(premises.update_block(session, block_id, body, actor=user, now=now))


# --- Units ---


@router.get("/units", **access(*DIRECTORY_READERS))
def list_units(session: SessionDep, user: CurrentUser, page: PageQuery, block_id: Id | None = None) -> Page[UnitOut]:
    """Units (flats, villas, shops) by code, optionally of one block; ``q`` searches the unit's and its block's
    code, and for admins and accountants the consumer's name. Consumer name, phone and email are None in a
    supervisor's answer (personal data: admins and accountants only)."""
    statement = select(Unit).join(Block, col(Block.id) == col(Unit.block_id)).order_by(col(Unit.code))
    if block_id is not None:
        statement = statement.where(col(Unit.block_id) == block_id)
    search: list[Any] = [col(Unit.code), col(Block.code)]
    if user.role in premises.PERSONAL_DATA_ROLES:  # a supervisor's search must not reveal names either
        search.append(col(Unit.consumer_name))
    rows, total = paginate(session, statement, page, search=search)
    return Page[UnitOut](items=[_unit_out(u, user) for u in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/units", status_code=201, **access(Role.ADMIN, errors=(409,)))
def create_unit(body: UnitIn, session: SessionDep, user: CurrentUser, now: NowDep) -> UnitOut:
    """Add a unit: block and tariff must exist (422 ``request.unknown_reference`` naming the field), the code is
    unique (409 ``unit.code_taken``). Audited."""
    return _unit_out(premises.create_unit(session, body, actor=user, now=now), user)


@router.put("/units/{unit_id}", **access(Role.ADMIN, errors=(404, 409)))
def update_unit(unit_id: Id, body: UnitIn, session: SessionDep, user: CurrentUser, now: NowDep) -> UnitOut:
    """Edit a unit (every field is sent). Audited with the changed fields' old and new values."""
    return _unit_out(premises.update_unit(session, unit_id, body, actor=user, now=now), user)


# --- Meters ---


@router.get("/meters", **access(*DIRECTORY_READERS))
def list_meters(
    session: SessionDep,
    page: PageQuery,
    block_id: Id | None = None,
    status: MeterStatus | None = None,
    kind: MeterKind | None = None,
) -> Page[MeterOut]:
    """Meters by number with their register shape, registered location, status and assigned engineer; ``q``
    searches number and label."""
    statement = (
        select_rows(Meter, col(Assignment.engineer_id))
        .outerjoin(Assignment, col(Assignment.meter_id) == col(Meter.id))
        .order_by(col(Meter.number))
    )
    if block_id is not None:
        statement = statement.where(col(Meter.block_id) == block_id)
    if status is not None:
        statement = statement.where(col(Meter.status) == status)
    if kind is not None:
        statement = statement.where(col(Meter.kind) == kind)
    rows, total = paginate(session, statement, page, search=[col(Meter.number), col(Meter.label)])
    items = [_meter_out(meter, engineer_id) for meter, engineer_id in rows]
    return Page[MeterOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/meters", status_code=201, **access(Role.ADMIN, errors=(409,)))
def create_meter(body: MeterIn, session: SessionDep, user: CurrentUser, now: NowDep) -> MeterOut:
    """Add a meter: a unit's own (``unit_id``, in the unit's block, one active per unit) or a shared one (no unit).
    Its number is unique (409 ``meter.number_taken``). Audited."""
    return _saved_meter_out(session, premises.create_meter(session, body, actor=user, now=now))


@router.put("/meters/{meter_id}", **access(Role.ADMIN, errors=(404, 409)))
def update_meter(meter_id: Id, body: MeterIn, session: SessionDep, user: CurrentUser, now: NowDep) -> MeterOut:
    """Edit a meter (every field is sent). A meter with readings keeps its dials, decimals, multiplier and kind
    (409 ``meter.has_readings``: record a replacement); retiring one needs a reason. Audited."""
    return _saved_meter_out(session, premises.update_meter(session, meter_id, body, actor=user, now=now))


# --- Shared-meter membership ---


@router.get("/meters/{meter_id}/members", **access(*DIRECTORY_READERS, errors=(404,)))
def list_members(meter_id: Id, session: SessionDep, page: PageQuery) -> Page[MembershipOut]:
    """Which units share a shared meter, and from when until when (ended memberships too); ``q`` searches the
    unit's code."""
    if session.get(Meter, meter_id) is None:
        raise Problem("reading.unknown_meter", f"There is no meter {meter_id}")
    statement = (
        select_rows(SharedMeterMember, col(Unit.code))
        .join(Unit, col(Unit.id) == col(SharedMeterMember.unit_id))
        .where(col(SharedMeterMember.meter_id) == meter_id)
        .order_by(col(SharedMeterMember.valid_from), col(SharedMeterMember.id))
    )
    rows, total = paginate(session, statement, page, search=[col(Unit.code)])
    items = [_membership_out(member, code) for member, code in rows]
    return Page[MembershipOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/meters/{meter_id}/members", status_code=201, **access(Role.ADMIN, errors=(404, 409)))
def add_member(meter_id: Id, body: MembershipIn, session: SessionDep, user: CurrentUser, now: NowDep) -> MembershipOut:
    """A unit shares the meter from ``valid_from`` (409 ``membership.overlaps`` if it already does then, 409
    ``membership.billed`` if a member's bill covers that month). Audited."""
    member = premises.add_member(session, meter_id, body, actor=user, now=now)
    unit = session.get(Unit, member.unit_id)
    assert unit is not None
    return _membership_out(member, unit.code)


@router.post("/meters/{meter_id}/members/{membership_id}/end", **access(Role.ADMIN, errors=(404, 409)))
def end_member(
    meter_id: Id, membership_id: Id, body: MembershipEnd, session: SessionDep, user: CurrentUser, now: NowDep
) -> MembershipOut:
    """The unit stops sharing the meter from ``valid_to`` (409 ``membership.billed`` if a member's bill covers
    that month). Audited with the reason."""
    member = premises.end_member(session, meter_id, membership_id, body, actor=user, now=now)
    unit = session.get(Unit, member.unit_id)
    assert unit is not None
    return _membership_out(member, unit.code)
