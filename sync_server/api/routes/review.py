from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sqlmodel import Session

from shared_billing.api_models import (
    BulkApproval,
    BulkApprovalOut,
    ExpectedRange,
    PeriodRead,
    RereadDecision,
    ReviewEvidence,
    ReviewFacets,
    ReviewItem,
    ReviewPage,
    ReviewQuery,
    ReviewReplacement,
)
from shared_billing.checks import presence_by_label
from shared_billing.consumption import meter_consumption
from shared_billing.errors import BillingError
from shared_billing.protocol import Evidence
from shared_billing.readings import format_quantity
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import Meter, Reading, ReadingStatus, Role
from sync_server.readings_query import PreviousRow, as_previous_readings
from sync_server.review import ReviewFacts, decide, due_date, expected_at, get_reading, review_facts
from sync_server.review_queue import approve_clean, review_facets, review_page_rows

router = APIRouter(prefix="/review", tags=["review"])


def _consumption(meter: Meter, previous: Decimal | None, reading: Reading) -> str | None:
    """The units the bill will count between the two readings (shared_billing.consumption: rollover-aware), or
    None where billing would refuse them (a drop that is no plausible rollover: the ``below_previous`` flag says
    so) or has nothing to measure."""
    if reading.value is None:
        return None
    register = meter.register()
    if previous is None:
        return None
    try:
        return format_quantity(meter_consumption(register, previous, reading.value).units)
    except BillingError:
        return None


def review_items(session: Session, readings: Sequence[Reading]) -> list[ReviewItem]:
    """The review items of ``readings``, in their order, in a fixed number of queries (``review_facts``)."""
    facts = review_facts(session, readings)
    return [_item(reading, facts) for reading in readings]


def review_item(session: Session, reading: Reading) -> ReviewItem:
    [item] = review_items(session, [reading])
    return item


def _replacement(reading: Reading, facts: ReviewFacts) -> ReviewReplacement | None:
    """The replacement the reading reported and its decision (sync_server/replacements.py): confirmed once its
    event exists, rejected with the reading, else pending."""
    if reading.replacement is None:
        return None
    new_meter_id = facts.confirmed.get(reading.uuid)
    state = "confirmed" if new_meter_id is not None else "pending"
    if new_meter_id is None and reading.status is not ReadingStatus.SUBMITTED:
        state = "rejected"
    return ReviewReplacement.model_validate({**reading.replacement, "state": state, "new_meter_id": new_meter_id})


def _evidence(reading: Reading) -> ReviewEvidence | None:
    """The evidence the reading carried (protocol 3), with the label's verdict the push judged it by."""
    if reading.evidence is None:
        return None
    sent = Evidence.model_validate(reading.evidence)
    return ReviewEvidence(
        photo_checks=sent.photo_checks,
        label=sent.label,
        label_verdict=reading.label_verdict,
        room_session=sent.room_session,
    )


def _item(reading: Reading, facts: ReviewFacts) -> ReviewItem:
    place = facts.places[reading.meter_id]
    meter, block, unit = place.meter, place.block, place.unit
    history = facts.history_of(reading)
    previous = facts.previous_of(reading)
    consumption = _consumption(meter, None if previous is None else previous.value, reading)
    pending = facts.photo_pending(reading)
    return ReviewItem(
        uuid=reading.uuid,
        meter_id=reading.meter_id,
        meter_number=meter.number,
        meter_kind=meter.kind,
        unit_code=unit.code if unit else meter.label,
        block_code=block.code if block else "",
        read_type=reading.read_type,
        skip_reason=reading.skip_reason,
        value=reading.value_text,
        previous_value=previous.value_text if previous else None,
        consumption=consumption,
        captured_at=reading.captured_at,
        received_at=reading.received_at,
        period=reading.period,
        engineer_id=reading.engineer_id,
        gps_lat=reading.gps_lat,
        gps_lon=reading.gps_lon,
        gps_accuracy_m=reading.gps_accuracy_m,
        distance_m=reading.distance_m,
        meter_lat=meter.lat,
        meter_lon=meter.lon,
        note=reading.note,
        replaces=reading.replaces,
        flags=list(facts.flags[reading.uuid]),  # the photo's state is photo_pending, not a flag
        photo_sha256=reading.photo_sha256,
        photo_url=f"/api/photos/{reading.photo_sha256}" if reading.photo_sha256 and not pending else None,
        photo_pending=pending,
        status=reading.status,
        decision_reason=reading.decision_reason,
        replacement=_replacement(reading, facts),
        due_on=reading.due_on,
        engineer_name=facts.engineers.get(reading.engineer_id) if reading.engineer_id is not None else None,
        history=as_previous_readings(history),
        window=_window(meter, history, reading),
        same_period=[
            PeriodRead(
                uuid=row.uuid,
                value=row.value_text,
                skip_reason=row.skip_reason,
                captured_at=row.captured_at,
                status=row.status,
                engineer_name=facts.engineers.get(row.engineer_id) if row.engineer_id is not None else None,
            )
            for row in facts.others_in_period(reading)
        ],
        clean=facts.is_clean(reading),
        ocr=facts.ocr_of(reading),
        evidence=_evidence(reading),
        presence_by_label=presence_by_label(reading.label_verdict),
    )


def _window(meter: Meter, history: list[PreviousRow], reading: Reading) -> ExpectedRange | None:
    window = expected_at(meter, history, reading.captured_at)
    if window is None:
        return None
    return ExpectedRange(low=f"{window.low:f}", high=f"{window.high:f}", expected=f"{window.expected:f}")


@router.get("/readings", **access(Role.SUPERVISOR, Role.ADMIN))
def list_readings(session: SessionDep, now: NowDep, query: Annotated[ReviewQuery, Query()]) -> ReviewPage:
    """A page of the readings in a review state the filter selects, with flags, history, expected window,
    distance, photo link and engineer; ``total`` counts them all and ``clean`` those bulk approval would take."""
    readings, total, clean = review_page_rows(
        session, query.selection(), sort=query.sort, limit=query.limit, offset=query.offset, now=now
    )
    return ReviewPage(
        items=review_items(session, readings), total=total, clean=clean, limit=query.limit, offset=query.offset
    )


@router.get("/facets", **access(Role.SUPERVISOR, Role.ADMIN))
def facets(session: SessionDep, status: ReadingStatus = ReadingStatus.SUBMITTED) -> ReviewFacets:
    """The review filters' choices (engineers, blocks, flags) with how many readings in ``status`` each has."""
    return review_facets(session, status)


@router.post("/readings/approve-clean", **access(Role.SUPERVISOR, errors=(409,)))
def approve_clean_readings(body: BulkApproval, session: SessionDep, user: CurrentUser, now: NowDep) -> BulkApprovalOut:
    """Approve every reading the filter selects that has nothing to check (a value, no flag — an overridden photo
    warning or another meter's label is one — its photo in, no replacement), if they are still exactly
    ``expected``: the count the supervisor confirmed."""
    return BulkApprovalOut(
        approved=approve_clean(session, body.filter, expected=body.expected, supervisor=user, now=now)
    )


@router.get("/readings/{reading_uuid}", **access(Role.SUPERVISOR, Role.ADMIN, errors=(404,)))
def get_one(reading_uuid: UUID, session: SessionDep) -> ReviewItem:
    """One reading with everything a reviewer needs."""
    return review_item(session, get_reading(session, reading_uuid))


@router.post("/readings/{reading_uuid}/approve", **access(Role.SUPERVISOR, errors=(404, 409)))
def approve(reading_uuid: UUID, session: SessionDep, user: CurrentUser, now: NowDep) -> ReviewItem:
    """Approve a reading (refused while its photo is pending)."""
    reading = decide(
        session,
        reading_uuid=reading_uuid,
        status=ReadingStatus.APPROVED,
        reason=None,
        supervisor=user,
        now=now,
    )
    return review_item(session, reading)


@router.post("/readings/{reading_uuid}/reject", **access(Role.SUPERVISOR, errors=(404, 409)))
def reject(
    reading_uuid: UUID, body: RereadDecision, session: SessionDep, user: CurrentUser, now: NowDep, context: ContextDep
) -> ReviewItem:
    """Reject a reading with a reason the engineer will see, and the day the new read is due."""
    settings = context.settings
    reading = decide(
        session,
        reading_uuid=reading_uuid,
        status=ReadingStatus.REJECTED,
        reason=body.reason,
        supervisor=user,
        now=now,
        due_on=due_date(body.due_on, now=now, tz=settings.tz, default_days=settings.reread_due_days),
    )
    return review_item(session, reading)


@router.post("/readings/{reading_uuid}/reread", **access(Role.SUPERVISOR, errors=(404, 409)))
def reread(
    reading_uuid: UUID, body: RereadDecision, session: SessionDep, user: CurrentUser, now: NowDep, context: ContextDep
) -> ReviewItem:
    """Send a reading back for a re-read; the engineer gets it as a task, due on ``due_on``, on the next pull."""
    settings = context.settings
    reading = decide(
        session,
        reading_uuid=reading_uuid,
        status=ReadingStatus.REREAD,
        reason=body.reason,
        supervisor=user,
        now=now,
        due_on=due_date(body.due_on, now=now, tz=settings.tz, default_days=settings.reread_due_days),
    )
    return review_item(session, reading)
