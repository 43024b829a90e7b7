from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared_billing.api_types import Cursor
from shared_billing.protocol import (
    MAX_BATCH,
    READING_MODELS,
    DeviceId,
    Instant,
    Outcome,
    Protocol,
    PullResponse,
    PushRequest,
    PushResponse,
    PushResult,
    ReadingV3,
    as_latest,
)
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.ingest import check_limits, ingest_batch
from sync_server.models import Role
from sync_server.pull import pull_for

router = APIRouter(prefix="/sync", tags=["sync"])


class PushEnvelope(BaseModel):
    """``PushRequest`` with its readings left raw: the envelope is strict, each item is judged on its own.

    OpenAPI publishes the strict ``PushRequest`` for this route (sync_server/openapi.py); the items are validated
    here one by one, against the reading model of the envelope's protocol (``READING_MODELS``).
    """

    model_config = ConfigDict(extra="forbid")

    protocol: Protocol = 1
    device_id: DeviceId
    sent_at: Instant
    readings: Annotated[list[dict[str, Any]], Field(max_length=MAX_BATCH)]


def _invalid_item(index: int, item: dict[str, Any], error: ValidationError) -> PushResult:
    """A rejection naming the first field at fault and its bound; 422 for the batch if not even the id reads."""
    try:
        uuid = UUID(str(item["uuid"]))
    except (KeyError, ValueError, TypeError, AttributeError):
        raise RequestValidationError(
            [{"loc": ("body", "readings", index, "uuid"), "msg": "a reading needs a valid uuid", "type": "uuid"}]
        ) from None
    problems = [
        {"field": ".".join(str(part) for part in e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()
    ]
    first = problems[0]
    return PushResult(
        uuid=uuid,
        outcome=Outcome.REJECTED,
        code="reading.invalid",
        message=f"{first['field']}: {first['msg']}" if first["field"] else first["msg"],
    )


def split_items(raw: list[dict[str, Any]], protocol: int = 1) -> tuple[list[ReadingV3], dict[int, PushResult]]:
    """Valid readings in order, and the rejections of the others by their index in the batch.

    Each item is read with its protocol's model, so a protocol-1 item carrying a ``replacement`` is rejected
    (``reading.invalid`` naming the field) like any unknown field; every valid one is handed on as the latest
    model, a v1 reading being a v2 reading without a replacement (the same hash).
    """
    model = READING_MODELS[protocol]
    readings: list[ReadingV3] = []
    rejected: dict[int, PushResult] = {}
    for index, item in enumerate(raw):
        try:
            reading = model.model_validate(item)
        except ValidationError as error:
            rejected[index] = _invalid_item(index, item, error)
            continue
        readings.append(as_latest(reading))
    return readings, rejected


@router.post("/push", response_model=PushResponse, **access(Role.ENGINEER))
def push(body: PushEnvelope, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep) -> Response:
    """Store a batch of readings; one outcome per reading (stored, duplicate, rejected, conflict).

    Protocols 1 and 2 (``SUPPORTED_PROTOCOLS``); the answer names the request's. A reading outside its protocol's
    bounds is ``rejected`` with ``reading.invalid`` and the rest are stored; the envelope itself (protocol,
    device_id, sent_at, the list) is checked as a whole (422).
    """
    readings, rejected = split_items(body.readings, body.protocol)
    # Every item of ``request`` is a validated reading: no second validation pass.
    request = PushRequest.model_construct(
        protocol=body.protocol, device_id=body.device_id, sent_at=body.sent_at, readings=readings
    )
    answer = ingest_batch(session, user=user, request=request, now=now, settings=context.settings, rejected=rejected)
    # Serialized once by its own model: FastAPI would validate the 500 results a second time.
    return Response(answer.model_dump_json(), media_type="application/json")


@router.get("/pull", **access(Role.ENGINEER))
def pull(
    session: SessionDep, user: CurrentUser, now: NowDep, context: ContextDep, cursor: Annotated[Cursor, Query()] = 0
) -> PullResponse:
    """Assigned meters with their previous approved reading, review decisions since ``cursor``, GPS limits."""
    return pull_for(session, user, cursor, now, check_limits(context.settings), tz=context.settings.tz)
