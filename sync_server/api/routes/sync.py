from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from shared_billing.protocol import PullResponse, PushRequest, PushResponse
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.ingest import ingest_batch
from sync_server.models import Role
from sync_server.pull import pull_for

router = APIRouter(prefix="/sync", tags=["sync"])


@router.post("/push", response_model=PushResponse, **access(Role.ENGINEER))
def push(body: PushRequest, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """Store a batch of readings; one outcome per reading (stored, duplicate, rejected, conflict)."""
    answer = ingest_batch(session, user=user, request=body, now=now, settings=context.settings)
    # Serialized once by its own model: FastAPI would validate the 500 results a second time.
    return Response(answer.model_dump_json(), media_type="application/json")


@router.get("/pull", **access(Role.ENGINEER))
def pull(session: SessionDep, user: CurrentUser, cursor: Annotated[int, Query(ge=0)] = 0) -> PullResponse:
    """Assigned meters with their previous approved reading, and review decisions, since ``cursor``."""
    return pull_for(session, user, cursor)
