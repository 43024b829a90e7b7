from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlmodel import col, select

from shared_billing.api_models import AuditOut, ChainCheck
from shared_billing.api_types import SearchText
from sync_server.audit import AuditSealer
from sync_server.deps import SessionDep, access
from sync_server.models import AuditEvent, Role

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/events", **access(Role.ADMIN))
def list_events(
    session: SessionDep, action: SearchText | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[AuditOut]:
    """The audit log, newest first: who did what, when and why."""
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return [AuditOut.model_validate(e, from_attributes=True) for e in session.exec(query).all()]


@router.get("/verify", **access(Role.ADMIN))
def verify(request: Request) -> ChainCheck:
    """Check the audit log's keyed chain: a rewritten, removed or truncated event (or a forged head) breaks it.

    Events committed but not sealed yet are sealed first (when this process holds the sealer's lease; otherwise
    the process that holds it does so within a second), so a fresh event never reads as tampering.
    """
    sealer: AuditSealer = request.app.state.sealer
    return ChainCheck.model_validate(sealer.verify(seal_first=True).to_dict())
