from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shared_billing.protocol import PullResponse, PushRequest, PushResponse
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.ingest import ingest_batch
from sync_server.models import Role
from sync_server.pull import pull_for

router = APIRouter(prefix="/sync", tags=["sync"])


@router.post("/push", **access(Role.ENGINEER))
def push(body: PushRequest, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep) -> PushResponse:
    """Store a batch of readings; one outcome per reading (stored, duplicate, rejected, conflict)."""
    return ingest_batch(session, user=user, request=body, now=now, settings=context.settings)


@router.get("/pull", **access(Role.ENGINEER))
def pull(session: SessionDep, user: CurrentUser, cursor: Annotated[int, Query(ge=0)] = 0) -> PullResponse:
    """Assigned meters with their previous approved reading, and review decisions, since ``cursor``."""
    return pull_for(session, user, cursor)
