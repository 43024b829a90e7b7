from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlmodel import col, select

from shared_billing.api_models import AuditOut, AuditQuery, ChainCheck, Page
from sync_server.api.paging import PageParams, paginate
from sync_server.audit import AuditSealer
from sync_server.deps import ContextDep, SessionDep, access
from sync_server.models import AuditEvent, Role, User

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/events", **access(Role.ADMIN))
def list_events(session: SessionDep, context: ContextDep, query: Annotated[AuditQuery, Query()]) -> Page[AuditOut]:
    """The audit log, newest first: who did what to which object, when and why; ``total`` counts every event the
    filters select. Days are the society's."""
    statement = (
        select(AuditEvent, User.username)
        .outerjoin(User, col(User.id) == col(AuditEvent.actor_id))
        .order_by(col(AuditEvent.id).desc())
    )
    for column, wanted in (
        (AuditEvent.action, query.action),
        (AuditEvent.entity, query.entity),
        (AuditEvent.entity_id, query.entity_id),
        (AuditEvent.actor_id, query.actor_id),
    ):
        if wanted is not None:
            statement = statement.where(col(column) == wanted)
    tz = context.settings.tz
    if query.since is not None:
        statement = statement.where(col(AuditEvent.at) >= datetime.combine(query.since, time(0), tzinfo=tz))
    if query.until is not None:
        after = datetime.combine(query.until + timedelta(days=1), time(0), tzinfo=tz)
        statement = statement.where(col(AuditEvent.at) < after)
    rows, total = paginate(session, statement, PageParams(q=None, limit=query.limit, offset=query.offset))
    items = [
        AuditOut.model_validate(event, from_attributes=True).model_copy(update={"actor": actor})
        for event, actor in rows
    ]
    return Page[AuditOut](items=items, total=total, limit=query.limit, offset=query.offset)


@router.get("/verify", **access(Role.ADMIN))
def verify(request: Request) -> ChainCheck:
    """Check the audit log's keyed chain: a rewritten, removed or truncated event (or a forged head) breaks it.

    Events committed but not sealed yet are sealed first (when this process holds the sealer's lease; otherwise
    the process that holds it does so within a second), so a fresh event never reads as tampering.
    """
    sealer: AuditSealer = request.app.state.sealer
    return ChainCheck.model_validate(sealer.verify(seal_first=True).to_dict())
