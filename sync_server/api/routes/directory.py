from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from shared_billing.api_models import AssignmentIn, TariffOut, UserOut
from shared_billing.api_types import Id
from shared_billing.errors import BillingError
from shared_billing.tariff_file import parse_tariff_toml
from sync_server.deps import CurrentUser, NowDep, SessionDep, access
from sync_server.directory import assign_meter, unassign_meter
from sync_server.models import AuditEvent, Role, TariffRecord, User
from sync_server.problems import Problem

router = APIRouter(tags=["directory"])

READERS = (Role.SUPERVISOR, Role.ADMIN, Role.ACCOUNTANT)
MAX_TARIFF_BYTES = 256 * 1024


@router.get("/tariffs", **access(*READERS))
def list_tariffs(session: SessionDep) -> list[TariffOut]:
    """Tariffs, stored as data."""
    return [TariffOut.model_validate(t, from_attributes=True) for t in session.exec(select(TariffRecord)).all()]


def _store_tariff_file(session: Session, text: str, user: User, now: datetime) -> list[TariffOut]:
    try:
        schedule = parse_tariff_toml(text, source="uploaded tariff")
    except BillingError as error:
        raise Problem(error.code, error.message, dict(error.details)) from error
    rows = [
        TariffRecord(
            code=(f"{v.code}@{v.effective_from.isoformat()}" if v.effective_from else v.code)[:40],
            name=v.name,
            valid_from=v.effective_from or now.date(),
            config=v.to_dict(),
        )
        for v in schedule.versions
    ]
    session.add_all(rows)
    session.add(
        AuditEvent(
            at=now,
            actor_id=user.id,
            action="tariff.imported",
            entity="tariff",
            entity_id=schedule.versions[0].code,
            detail={"versions": len(rows)},
        )
    )
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Problem("tariff.exists") from error
    return [TariffOut.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/tariffs",
    status_code=201,
    **access(
        Role.ADMIN,
        errors=(409, 413),
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "A tariff file (docs/tariff-format.md)",
                "content": {"application/toml": {"schema": {"type": "string", "maxLength": MAX_TARIFF_BYTES}}},
            }
        },
    ),
)
async def import_tariff(request: Request, session: SessionDep, user: CurrentUser, now: NowDep) -> list[TariffOut]:
    """Import a tariff file (TOML, docs/tariff-format.md) sent as the body: every version is stored as data;
    a bad file is refused with the line at fault and nothing is stored."""
    body = await request.body()
    if len(body) > MAX_TARIFF_BYTES:
        raise Problem("request.too_large", f"A tariff file is at most {MAX_TARIFF_BYTES} bytes")
    text = body.decode("utf-8", errors="replace")
    # Parsing and the database run in the thread pool: the route is async only to read the raw body.
    return await run_in_threadpool(_store_tariff_file, session, text, user, now)


@router.get("/users", **access(Role.ADMIN))
def list_users(session: SessionDep, role: Role | None = None) -> list[UserOut]:
    """Users, optionally of one role."""
    query = select(User).order_by(col(User.username))
    if role is not None:
        query = query.where(User.role == role)
    return [UserOut.model_validate(u, from_attributes=True) for u in session.exec(query).all()]


@router.put("/meters/{meter_id}/assignment", status_code=204, **access(Role.ADMIN, errors=(404,)))
def put_assignment(meter_id: Id, body: AssignmentIn, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """Assign a meter to a field engineer (replacing any earlier one)."""
    assign_meter(session, meter_id=meter_id, engineer_id=body.engineer_id, actor=user, now=now)
    return Response(status_code=204)


@router.delete("/meters/{meter_id}/assignment", status_code=204, **access(Role.ADMIN, errors=(404,)))
def delete_assignment(meter_id: Id, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """Take a meter off its engineer's route; the phone drops it on the next pull."""
    unassign_meter(session, meter_id=meter_id, actor=user, now=now)
    return Response(status_code=204)
