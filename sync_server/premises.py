"""The admin's changes to the premises: blocks, units, meters and who shares a shared meter (docs/domain.md
"Directory"). Each change is checked, saved and audited in one transaction: nothing is half-saved.

Routes (``sync_server/api/routes/premises.py``) stay thin: they call these with the validated request models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, or_, select

from shared_billing.api_models import BlockIn, MembershipEnd, MembershipIn, MeterIn, UnitIn
from sync_server.models import (
    AuditEvent,
    Bill,
    Block,
    Meter,
    MeterKind,
    MeterStatus,
    Reading,
    Role,
    SharedMeterMember,
    TariffRecord,
    Unit,
    User,
)
from sync_server.problems import Problem

__all__ = [
    "PERSONAL_DATA_ROLES",
    "add_member",
    "apply_changes",
    "create_block",
    "create_meter",
    "create_unit",
    "end_member",
    "record_change",
    "refuse_billed",
    "update_block",
    "update_meter",
    "update_unit",
]

#: Who sees a unit's consumer name, phone and email; nobody else's answer carries them, and the pull never does.
PERSONAL_DATA_ROLES = frozenset({Role.ADMIN, Role.ACCOUNTANT})

# A meter's readings were taken on this register: changing it would re-read history (docs/domain.md "Directory").
_REGISTER = ("dials", "decimals", "multiplier", "kind")

Row = TypeVar("Row", bound=SQLModel)


def _wire(value: object) -> object:
    """A value as the audit's JSON detail keeps it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def apply_changes(row: SQLModel, values: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """Set ``values`` on ``row``; the changed fields' old and new values, for the audit (a new row: every field,
    from None)."""
    new_row = getattr(row, "id") is None  # noqa: B009 - every premises table has an id
    changes: dict[str, dict[str, object]] = {}
    for field, new in values.items():
        old = None if new_row else getattr(row, field)
        if new_row or old != new:
            changes[field] = {"old": _wire(old), "new": _wire(new)}
            setattr(row, field, new)
    return changes


def record_change(
    session: Session,
    row: SQLModel,
    *,
    entity: str,
    action: str,
    changes: dict[str, dict[str, object]],
    reason: str | None,
    actor: User,
    now: datetime,
) -> None:
    """Add ``row`` and its audit event to the session's transaction, uncommitted: the caller commits, so an import
    saves many changes as one."""
    session.add(row)
    session.flush()
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action=action,
            entity=entity,
            entity_id=str(getattr(row, "id")),  # noqa: B009 - every premises table has an id
            reason=reason,
            detail=changes,
        )
    )


def _save(
    session: Session,
    row: Row,
    *,
    entity: str,
    action: str,
    changes: dict[str, dict[str, object]],
    reason: str | None,
    actor: User,
    now: datetime,
    taken: Callable[[], Problem | None] = lambda: None,
) -> Row:
    """Store ``row`` and its audit event together. A unique column another request took meanwhile (the checks ran
    before) is answered by ``taken``'s problem rather than a bare conflict."""
    try:
        record_change(session, row, entity=entity, action=action, changes=changes, reason=reason, actor=actor, now=now)
        session.commit()
    except IntegrityError:
        session.rollback()
        problem = taken()
        if problem is None:
            raise
        raise problem from None
    session.refresh(row)
    return row


def _unique(
    session: Session, model: type[SQLModel], field: str, value: str, own_id: int | None, code: str
) -> Callable[[], Problem | None]:
    """Refuse ``value`` if another row has it; returns the same check for a race found at commit."""

    def check() -> Problem | None:
        column: Any = getattr(model, field)
        other = session.exec(select(getattr(model, "id")).where(column == value)).first()  # noqa: B009
        if other is not None and other != own_id:
            return Problem(code, f"{field} {value!r} is taken by another row (id {other})", {field: value})
        return None

    problem = check()
    if problem is not None:
        raise problem
    return check


def _referenced(session: Session, model: type[Row], row_id: int | None, field: str) -> Row | None:
    """The row a request's ``field`` names (a 422 naming the field when there is none)."""
    if row_id is None:
        return None
    row = session.get(model, row_id)
    if row is None:
        noun = field.removesuffix("_id")
        raise Problem("request.unknown_reference", f"{field}: there is no {noun} {row_id}", {field: row_id})
    return row


def _block(session: Session, block_id: int) -> Block:
    block = session.get(Block, block_id)
    if block is None:
        raise Problem("billing.unknown_block", f"No block {block_id}")
    return block


def _unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise Problem("request.not_found", f"No unit {unit_id}")
    return unit


def _meter(session: Session, meter_id: int) -> Meter:
    meter = session.get(Meter, meter_id)
    if meter is None:
        raise Problem("reading.unknown_meter", f"There is no meter {meter_id}")
    return meter


# --- Blocks ---


def _save_block(session: Session, block: Block, body: BlockIn, *, actor: User, now: datetime, action: str) -> Block:
    taken = _unique(session, Block, "code", body.code, block.id, "block.code_taken")
    changes = apply_changes(block, body.model_dump(exclude={"reason"}))
    return _save(
        session,
        block,
        entity="block",
        action=action,
        changes=changes,
        reason=body.reason,
        actor=actor,
        now=now,
        taken=taken,
    )


def create_block(session: Session, body: BlockIn, *, actor: User, now: datetime) -> Block:
    return _save_block(
        session, Block(**body.model_dump(exclude={"reason"})), body, actor=actor, now=now, action="block.created"
    )


def update_block(session: Session, block_id: int, body: BlockIn, *, actor: User, now: datetime) -> Block:
    return _save_block(session, _block(session, block_id), body, actor=actor, now=now, action="block.updated")


# --- Units ---


def _save_unit(session: Session, unit: Unit, body: UnitIn, *, actor: User, now: datetime, action: str) -> Unit:
    _referenced(session, Block, body.block_id, "block_id")
    _referenced(session, TariffRecord, body.tariff_id, "tariff_id")
    taken = _unique(session, Unit, "code", body.code, unit.id, "unit.code_taken")
    changes = apply_changes(unit, body.model_dump(exclude={"reason"}))
    return _save(
        session,
        unit,
        entity="unit",
        action=action,
        changes=changes,
        reason=body.reason,
        actor=actor,
        now=now,
        taken=taken,
    )


def create_unit(session: Session, body: UnitIn, *, actor: User, now: datetime) -> Unit:
    unit = Unit(**body.model_dump(exclude={"reason"}))
    return _save_unit(session, unit, body, actor=actor, now=now, action="unit.created")


def update_unit(session: Session, unit_id: int, body: UnitIn, *, actor: User, now: datetime) -> Unit:
    return _save_unit(session, _unit(session, unit_id), body, actor=actor, now=now, action="unit.updated")


# --- Meters ---


def _check_unit_meter(session: Session, meter: Meter, body: MeterIn) -> None:
    """A unit's meter sits in the unit's block, and a unit has one active meter (billing reads that one)."""
    unit = _referenced(session, Unit, body.unit_id, "unit_id")
    if unit is None:
        return
    if unit.block_id != body.block_id:
        raise Problem(
            "meter.wrong_block",
            f"block_id: unit {unit.code} is in block {unit.block_id}, not {body.block_id}",
            {"block_id": body.block_id, "unit_block_id": unit.block_id},
        )
    if body.status == MeterStatus.ACTIVE:
        others = select(Meter.number).where(
            Meter.unit_id == unit.id, Meter.kind == MeterKind.UNIT, Meter.status == MeterStatus.ACTIVE
        )
        if meter.id is not None:
            others = others.where(Meter.id != meter.id)
        other = session.exec(others).first()
        if other is not None:
            raise Problem(
                "meter.unit_has_meter",
                f"unit_id: unit {unit.code} already has active meter {other}; a replacement retires it",
                {"unit_id": unit.id, "meter_number": other},
            )


def _save_meter(session: Session, meter: Meter, body: MeterIn, *, actor: User, now: datetime, action: str) -> Meter:
    _referenced(session, Block, body.block_id, "block_id")
    _check_unit_meter(session, meter, body)
    taken = _unique(session, Meter, "number", body.number, meter.id, "meter.number_taken")
    values: dict[str, object] = {
        **body.model_dump(exclude={"reason"}),
        "kind": MeterKind.UNIT if body.unit_id is not None else MeterKind.SHARED,
    }
    if meter.id is not None:
        register = [field for field in _REGISTER if getattr(meter, field) != values[field]]
        if register and session.exec(select(Reading.id).where(Reading.meter_id == meter.id).limit(1)).first():
            raise Problem(
                "meter.has_readings",
                f"Meter {meter.number} has readings taken on its register: {', '.join(register)} cannot change. "
                "If the meter was swapped, record a meter replacement instead.",
                {"fields": register},
            )
        if meter.status == MeterStatus.ACTIVE and body.status == MeterStatus.RETIRED and body.reason is None:
            raise Problem("request.reason_required", "reason: say why the meter is retired", {"field": "reason"})
    changes = apply_changes(meter, values)
    return _save(
        session,
        meter,
        entity="meter",
        action=action,
        changes=changes,
        reason=body.reason,
        actor=actor,
        now=now,
        taken=taken,
    )


def create_meter(session: Session, body: MeterIn, *, actor: User, now: datetime) -> Meter:
    meter = Meter(number=body.number, block_id=body.block_id)
    return _save_meter(session, meter, body, actor=actor, now=now, action="meter.created")


def update_meter(session: Session, meter_id: int, body: MeterIn, *, actor: User, now: datetime) -> Meter:
    return _save_meter(session, _meter(session, meter_id), body, actor=actor, now=now, action="meter.updated")


# --- Shared-meter membership ---


def _period(day: date) -> str:
    return f"{day:%Y-%m}"


def refuse_billed(session: Session, meter_id: int, unit_id: int, day: date) -> None:
    """A membership change from ``day`` would re-divide the shares of ``day``'s month onwards: refused when any unit
    sharing the meter then (or the unit itself) already has a bill for that month or a later one, so a billed share
    never changes (docs/domain.md "Shared meters")."""
    month_start = day.replace(day=1)
    sharing = select(SharedMeterMember.unit_id).where(
        SharedMeterMember.meter_id == meter_id,
        or_(col(SharedMeterMember.valid_to).is_(None), col(SharedMeterMember.valid_to) > month_start),
    )
    bill = session.exec(
        select(Bill.unit_id, Bill.period)
        .where(
            or_(col(Bill.unit_id).in_(sharing), Bill.unit_id == unit_id),
            col(Bill.period) >= _period(day),
        )
        .order_by(col(Bill.period).desc())
    ).first()
    if bill is not None:
        raise Problem(
            "membership.billed",
            f"{day.isoformat()}: unit {bill[0]} is billed for {bill[1]}, and billed shares never change; "
            "choose a date after the last billed month",
            {"unit_id": bill[0], "period": bill[1]},
        )


def add_member(session: Session, meter_id: int, body: MembershipIn, *, actor: User, now: datetime) -> SharedMeterMember:
    meter = _meter(session, meter_id)
    if meter.kind != MeterKind.SHARED:
        raise Problem("meter.not_shared", f"Meter {meter.number} is a unit's own meter: it has no members")
    _referenced(session, Unit, body.unit_id, "unit_id")
    # The new membership is open-ended, so any of the unit's memberships of this meter still running on its first
    # day overlaps it.
    overlapping = session.exec(
        select(SharedMeterMember).where(
            SharedMeterMember.meter_id == meter_id,
            SharedMeterMember.unit_id == body.unit_id,
            or_(col(SharedMeterMember.valid_to).is_(None), col(SharedMeterMember.valid_to) > body.valid_from),
        )
    ).first()
    if overlapping is not None:
        until = overlapping.valid_to.isoformat() if overlapping.valid_to else "now"
        raise Problem(
            "membership.overlaps",
            f"valid_from: the unit already shares this meter from {overlapping.valid_from.isoformat()} until {until}",
            {"membership_id": overlapping.id, "valid_from": overlapping.valid_from.isoformat(), "valid_to": until},
        )
    refuse_billed(session, meter_id, body.unit_id, body.valid_from)
    member = SharedMeterMember(meter_id=meter_id, unit_id=body.unit_id, valid_from=body.valid_from)
    changes: dict[str, dict[str, object]] = {
        "unit_id": {"old": None, "new": body.unit_id},
        "valid_from": {"old": None, "new": body.valid_from.isoformat()},
    }
    return _save(
        session,
        member,
        entity="shared_meter_member",
        action="membership.added",
        changes=changes,
        reason=body.reason,
        actor=actor,
        now=now,
    )


def end_member(
    session: Session, meter_id: int, membership_id: int, body: MembershipEnd, *, actor: User, now: datetime
) -> SharedMeterMember:
    member = session.get(SharedMeterMember, membership_id)
    if member is None or member.meter_id != meter_id:
        raise Problem("membership.not_found", f"Meter {meter_id} has no membership {membership_id}")
    if member.valid_to is not None:
        raise Problem("membership.ended", f"The membership ended on {member.valid_to.isoformat()}")
    if body.valid_to <= member.valid_from:
        raise Problem(
            "membership.invalid_dates",
            f"valid_to: the membership started on {member.valid_from.isoformat()}; it ends after that",
            {"field": "valid_to"},
        )
    refuse_billed(session, meter_id, member.unit_id, body.valid_to)
    changes = apply_changes(member, {"valid_to": body.valid_to})
    return _save(
        session,
        member,
        entity="shared_meter_member",
        action="membership.ended",
        changes=changes,
        reason=body.reason,
        actor=actor,
        now=now,
    )
