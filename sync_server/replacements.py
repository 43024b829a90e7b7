"""Recording a meter replacement: one event, one transaction (docs/domain.md "Meter replacement").

An admin records one directly (``record_replacement``), or a supervisor confirms the one a reading reported
(protocol 2: ``confirm_replacement``; ``reject_replacement`` rejects the reading with it). Recording it:

- creates the new meter (same block, unit, kind, label, location and register as the old one unless given);
- retires the old meter: it keeps only readings captured before the replacement date (sync_server/ingest.py);
- hands the old meter's place on its engineer's route to the new one (``directory.hand_over_meter``: sync
  events, so the phone learns it on its next pull);
- stores the new meter's initial read as its baseline approved reading (source ``install``): later periods
  measure the new meter from it, and the replacement's period sums both meters (sync_server/billing/compute.py);
- audits it, with the reason.

A confirmed reading is approved; its value is the new meter's register at the visit, so billing attributes it to
the new meter through the event (sync_server/billing/replacement.py) while the row keeps the meter it was pushed
against (the phone's record, and its payload hash, stay as sent).
"""

from __future__ import annotations

import uuid as uuid_mod
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from shared_billing.consumption import meter_consumption
from shared_billing.errors import BillingError
from shared_billing.protocol import LATEST, Replacement
from shared_billing.readings import format_register_value, parse_register_value
from sync_server.directory import hand_over_meter
from sync_server.models import (
    AuditEvent,
    Meter,
    MeterKind,
    MeterReplacement,
    MeterStatus,
    Reading,
    ReadingSource,
    ReadingStatus,
    ReadType,
    User,
)
from sync_server.periods import period_of
from sync_server.problems import Problem
from sync_server.readings_query import last_approved
from sync_server.replacement_check import taken_number_refusal
from sync_server.review import get_reading, photo_pending, record_decision

__all__ = [
    "NewMeter",
    "confirm_replacement",
    "pending_replacement",
    "record_replacement",
    "reject_replacement",
]


@dataclass(frozen=True)
class NewMeter:
    """The new meter as the replacement names it; a register field left None is the old meter's."""

    number: str
    dials: int | None = None
    decimals: int | None = None
    multiplier: Decimal | None = None


@dataclass(frozen=True)
class _When:
    """The replacement's date (the society's) and the instant its baseline is stamped with; ``previous_before``
    bounds the old meter's previous approved reading."""

    replaced_on: date
    instant: datetime
    previous_before: datetime


def _parse(text: str, meter: Meter, field: str) -> Decimal:
    """A register value read at ``meter``'s dials and decimals; 422 naming the request's ``field``."""
    try:
        return parse_register_value(text, dials=meter.dials, decimals=meter.decimals)
    except BillingError as error:
        raise Problem(error.code, f"{field}: {error.message}", {**error.details, "field": field}) from error


def _runs_forward(meter: Meter, earlier: Decimal, later: Decimal, field: str) -> None:
    """409 ``reading.below_previous`` naming ``field`` unless ``later`` follows ``earlier`` on the meter (at most
    one plausible rollover: the billing rule, shared_billing.consumption)."""
    try:
        meter_consumption(meter.register(), earlier, later)
    except BillingError as error:
        raise Problem(error.code, f"{field}: {error.message}", {**error.details, "field": field}) from error


def _old_meter(session: Session, meter_id: int) -> Meter:
    old = session.get(Meter, meter_id)
    if old is None:
        raise Problem("reading.unknown_meter", f"There is no meter {meter_id}")
    if old.status is MeterStatus.RETIRED:
        raise Problem("replacement.meter_retired", f"Meter {old.number} is retired: it was replaced already")
    if old.kind is not MeterKind.UNIT or old.unit_id is None:
        raise Problem("replacement.not_a_unit_meter", f"Meter {old.number} is not a unit's own meter")
    return old


def _free_number(session: Session, number: str) -> None:
    taken = session.exec(select(Meter).where(Meter.number == number)).first()
    if taken is None:
        return
    refusal = taken_number_refusal(number, taken.status)
    raise Problem(refusal.code, refusal.message, {"field": "new_meter_number", "meter_id": taken.id})


def _previous(session: Session, old: Meter, when: _When, tz: ZoneInfo) -> Reading | None:
    """The old meter's previous approved reading; 409 when an approved reading was captured after the date."""
    assert old.id is not None
    latest = last_approved(session, old.id, before=LATEST)
    if latest is not None and latest.captured_at.astimezone(tz).date() > when.replaced_on:
        raise Problem(
            "replacement.before_last_reading",
            f"Meter {old.number} has an approved reading of {latest.captured_at.astimezone(tz).date().isoformat()}, "
            f"after {when.replaced_on.isoformat()}",
            {"field": "replaced_on", "last_reading_on": latest.captured_at.astimezone(tz).date().isoformat()},
        )
    return last_approved(session, old.id, before=when.previous_before)


def _replace(
    session: Session,
    *,
    old: Meter,
    when: _When,
    old_final_text: str,
    new: NewMeter,
    new_initial_text: str,
    reading: Reading | None,
    actor: User,
    now: datetime,
    reason: str | None,
    tz: ZoneInfo,
) -> MeterReplacement:
    """Check everything, then write the event and its consequences (the caller commits)."""
    assert old.id is not None
    old_final = _parse(old_final_text, old, "old_final")
    previous = _previous(session, old, when, tz)
    if previous is not None and previous.value is not None:
        _runs_forward(old, previous.value, old_final, "old_final")
    _free_number(session, new.number)
    meter = Meter(
        number=new.number,
        block_id=old.block_id,
        unit_id=old.unit_id,
        kind=old.kind,
        label=old.label,
        dials=old.dials if new.dials is None else new.dials,
        decimals=old.decimals if new.decimals is None else new.decimals,
        multiplier=old.multiplier if new.multiplier is None else new.multiplier,
        lat=old.lat,
        lon=old.lon,
        install_date=when.replaced_on,
        status=MeterStatus.ACTIVE,
    )
    if meter.decimals >= meter.dials:
        raise Problem("request.invalid", "A meter shows fewer decimals than it has dials", {"field": "new_decimals"})
    new_initial = _parse(new_initial_text, meter, "new_initial")
    if reading is not None and reading.value_text is not None:
        # The reading's value is the new meter's register at the visit: it must fit it, and not run backwards.
        _runs_forward(meter, new_initial, _parse(reading.value_text, meter, "value"), "value")
    old.status = MeterStatus.RETIRED
    session.add_all([old, meter])
    session.flush()
    assert meter.id is not None
    event = MeterReplacement(
        old_meter_id=old.id,
        new_meter_id=meter.id,
        replaced_on=when.replaced_on,
        old_final=old_final,
        new_initial=new_initial,
        reading_uuid=reading.uuid if reading is not None else None,
        recorded_by_id=actor.id or 0,
        recorded_at=now,
        reason=reason,
    )
    session.add(event)
    session.add(_baseline(meter, new_initial, when.instant, actor, now, tz))
    hand_over_meter(session, old_meter_id=old.id, new_meter_id=meter.id, actor=actor, now=now, reason=reason)
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="meter.replaced",
            entity="meter",
            entity_id=str(old.id),
            reason=reason,
            detail={
                "status": {"old": MeterStatus.ACTIVE.value, "new": MeterStatus.RETIRED.value},
                "new_meter_id": meter.id,
                "new_meter_number": meter.number,
                "replaced_on": when.replaced_on.isoformat(),
                "old_final": format_register_value(old_final, decimals=old.decimals),
                "new_initial": format_register_value(new_initial, decimals=meter.decimals),
                "reading_uuid": str(reading.uuid) if reading is not None else None,
            },
        )
    )
    session.flush()
    return event


def _baseline(meter: Meter, value: Decimal, instant: datetime, actor: User, now: datetime, tz: ZoneInfo) -> Reading:
    """The new meter's initial read as an approved reading: what its next reading and bill measure from."""
    assert meter.id is not None
    return Reading(
        uuid=uuid_mod.uuid4(),
        meter_id=meter.id,
        read_type=ReadType.ACTUAL,
        value_text=format_register_value(value, decimals=meter.decimals),
        value=value,
        captured_at=instant,
        received_at=now,
        period=period_of(instant, tz),
        photo_required=False,
        source=ReadingSource.INSTALL,
        status=ReadingStatus.APPROVED,
        decided_by_id=actor.id,
        decided_at=now,
    )


def record_replacement(
    session: Session,
    *,
    old_meter_id: int,
    replaced_on: date,
    old_final: str,
    new: NewMeter,
    new_initial: str,
    actor: User,
    now: datetime,
    reason: str,
    tz: ZoneInfo,
) -> MeterReplacement:
    """An admin's replacement on a date (the society's): the old meter's previous reading may be of that day, the
    new meter's baseline is stamped at the day's start."""
    start = datetime.combine(replaced_on, time(), tz)
    when = _When(replaced_on, start, start + timedelta(days=1))
    old = _old_meter(session, old_meter_id)
    event = _replace(
        session,
        old=old,
        when=when,
        old_final_text=old_final,
        new=new,
        new_initial_text=new_initial,
        reading=None,
        actor=actor,
        now=now,
        reason=reason,
        tz=tz,
    )
    session.commit()
    return event


def pending_replacement(session: Session, reading: Reading) -> Replacement | None:
    """The replacement a submitted reading reports, while no one has confirmed or rejected it."""
    if reading.replacement is None or reading.status is not ReadingStatus.SUBMITTED:
        return None
    confirmed = session.exec(
        select(MeterReplacement.id).where(col(MeterReplacement.reading_uuid) == reading.uuid)
    ).first()
    return None if confirmed is not None else Replacement.model_validate(reading.replacement)


def _pending(session: Session, reading_uuid: uuid_mod.UUID) -> tuple[Reading, Replacement]:
    reading = get_reading(session, reading_uuid)
    if reading.status is not ReadingStatus.SUBMITTED:
        raise Problem("review.already_decided", f"The reading is already {reading.status}")
    replacement = pending_replacement(session, reading)
    if replacement is None:
        raise Problem("replacement.not_pending", f"Reading {reading_uuid} reports no replacement to decide")
    return reading, replacement


def confirm_replacement(
    session: Session, *, reading_uuid: uuid_mod.UUID, reason: str, supervisor: User, now: datetime, tz: ZoneInfo
) -> MeterReplacement:
    """Record the replacement a reading reported, on the reading's captured date, and approve the reading."""
    reading, replacement = _pending(session, reading_uuid)
    if photo_pending(session, reading):
        raise Problem("review.photo_pending")
    when = _When(reading.captured_at.astimezone(tz).date(), reading.captured_at, reading.captured_at)
    event = _replace(
        session,
        old=_old_meter(session, reading.meter_id),
        when=when,
        old_final_text=replacement.old_final_value,
        new=NewMeter(replacement.new_meter_number),
        new_initial_text=replacement.new_initial_value,
        reading=reading,
        actor=supervisor,
        now=now,
        reason=reason,
        tz=tz,
    )
    record_decision(session, reading, status=ReadingStatus.APPROVED, reason=reason, supervisor=supervisor, now=now)
    session.commit()
    return event


def reject_replacement(
    session: Session, *, reading_uuid: uuid_mod.UUID, reason: str, supervisor: User, now: datetime, due_on: date
) -> Reading:
    """Reject a reported replacement with the reading: its value is another meter's register, so it cannot be
    approved as the old meter's read. The engineer sees the reason and ``due_on`` (``review.due_date``) on the
    next pull and reads again: a re-read task like any rejection's."""
    reading, _ = _pending(session, reading_uuid)
    reading.due_on = due_on
    record_decision(session, reading, status=ReadingStatus.REJECTED, reason=reason, supervisor=supervisor, now=now)
    session.commit()
    return reading
