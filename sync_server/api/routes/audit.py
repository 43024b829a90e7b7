from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, select

from sync_server.audit import verify_chain
from sync_server.deps import SessionDep, access
from sync_server.models import AuditEvent, Role

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity: str
    entity_id: str
    reason: str | None
    detail: dict[str, Any]


class ChainCheck(BaseModel):
    intact: bool
    checked: int
    first_broken_id: int | None


@router.get("/events", **access(Role.ADMIN))
def list_events(
    session: SessionDep, action: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[AuditOut]:
    """The audit log, newest first: who did what, when and why."""
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return [AuditOut.model_validate(e, from_attributes=True) for e in session.exec(query).all()]


@router.get("/verify", **access(Role.ADMIN))
def verify(session: SessionDep) -> ChainCheck:
    """Check the audit log's hash chain: any changed, removed or reordered event breaks it."""
    checked, broken = verify_chain(session)
    return ChainCheck(intact=broken is None, checked=checked, first_broken_id=broken)
