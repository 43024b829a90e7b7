"""Tariffs: the versions stored (paged), a tariff file imported, and which units are billed on which tariff."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from shared_billing.api_models import Page, TariffAssigned, TariffAssignmentIn, TariffOut
from shared_billing.api_types import Id
from shared_billing.errors import BillingError
from shared_billing.tariff_file import parse_tariff_toml
from sync_server.api.paging import PageQuery, paginate
from sync_server.deps import DIRECTORY_READERS, CurrentUser, NowDep, SessionDep, access
from sync_server.models import AuditEvent, Role, TariffRecord, Unit, User
from sync_server.problems import Problem

router = APIRouter(tags=["tariffs"])

MAX_TARIFF_BYTES = 256 * 1024


@router.get("/tariffs", **access(*DIRECTORY_READERS))
def list_tariffs(session: SessionDep, page: PageQuery) -> Page[TariffOut]:
    """Tariff versions by code and valid-from date; ``q`` searches codes and names."""
    query = select(TariffRecord).order_by(col(TariffRecord.code), col(TariffRecord.valid_from), col(TariffRecord.id))
    rows, total = paginate(session, query, page, search=[col(TariffRecord.code), col(TariffRecord.name)])
    return Page[TariffOut](
        items=[TariffOut.model_validate(t, from_attributes=True) for t in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


def _store_tariff_file(session: Session, data: bytes, user: User, now: datetime) -> list[TariffOut]:
    try:
        # The bytes, not a decoded text: the parser refuses bytes that are not UTF-8 with their line (a lenient
        # decode would store replacement characters in a name) and drops an editor's byte-order mark.
        schedule = parse_tariff_toml(data, source="uploaded tariff")
    except BillingError as error:
        # details carry the line at fault (``line``, ``key``, ``problem``): the console shows it beside the file.
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
    a bad file is refused with the line at fault (422, ``details.line``) and nothing is stored."""
    body = await request.body()
    if len(body) > MAX_TARIFF_BYTES:
        raise Problem("request.too_large", f"A tariff file is at most {MAX_TARIFF_BYTES} bytes")
    # Parsing and the database run in the thread pool: the route is async only to read the raw body.
    return await run_in_threadpool(_store_tariff_file, session, body, user, now)


def _chosen_units(session: Session, body: TariffAssignmentIn) -> list[Unit]:
    if body.unit_ids is not None:
        wanted = set(body.unit_ids)
        units = list(session.exec(select(Unit).where(col(Unit.id).in_(wanted)).order_by(col(Unit.id))).all())
        unknown = sorted(wanted - {unit.id for unit in units})
        if unknown:
            raise Problem(
                "request.unknown_reference", f"No unit {unknown[0]}", {"field": "unit_ids", "unknown": unknown}
            )
        return units
    query = select(Unit).where(Unit.unit_type == body.unit_type).order_by(col(Unit.id))
    if body.category is not None:
        query = query.where(Unit.category == body.category)
    units = list(session.exec(query).all())
    if not units:
        raise Problem("tariff.no_matching_units", details={"field": "unit_type"})
    return units


@router.post("/tariffs/{tariff_id}/units", **access(Role.ADMIN, errors=(404,)))
def assign_tariff(
    tariff_id: Id, body: TariffAssignmentIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> TariffAssigned:
    """Bill units on this tariff from now on: the units named, or every unit of a type (optionally of one
    category). Bills already made keep the tariff they were made with. Reason required; each unit's change is
    audited with its old and new tariff. Unknown tariff 404, unknown unit 422; nothing is half-saved."""
    if session.get(TariffRecord, tariff_id) is None:
        raise Problem("tariff.not_found", f"No tariff {tariff_id}")
    changed: list[int] = []
    for unit in _chosen_units(session, body):
        if unit.tariff_id == tariff_id:
            continue
        assert unit.id is not None
        session.add(
            AuditEvent(
                at=now,
                actor_id=user.id,
                action="unit.tariff_assigned",
                entity="unit",
                entity_id=str(unit.id),
                reason=body.reason,
                detail={"code": unit.code, "tariff_id": {"old": unit.tariff_id, "new": tariff_id}},
            )
        )
        unit.tariff_id = tariff_id
        session.add(unit)
        changed.append(unit.id)
    session.commit()
    return TariffAssigned(tariff_id=tariff_id, unit_ids=changed)
