from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from shared_billing.api_types import Sha256 as Sha256Hex
from sync_server.context import AppContext
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import AuditEvent, Photo, Reading, Role, User
from sync_server.photo_store import CheckedPhoto
from sync_server.problems import Problem

log = logging.getLogger(__name__)

router = APIRouter(prefix="/photos", tags=["photos"])

Sha256 = Annotated[Sha256Hex, Path()]
ACCEPTED_TYPES = {"image/jpeg", "image/png", "image/webp"}


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem("photo.too_large", f"{declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise Problem("photo.too_large", f"More than {limit} bytes")
    return bytes(body)


def _authorize_upload(session: Session, user: User, sha256: str) -> bool:
    """True when the photo is already stored; raises unless one of the caller's readings names it."""
    referenced = session.exec(
        select(Reading.id).where(Reading.photo_sha256 == sha256, Reading.engineer_id == user.id)
    ).first()
    if referenced is None:
        raise Problem("photo.not_referenced")
    stored = session.get(Photo, sha256) is not None
    # End the read transaction: the body upload and the decode that follow can take seconds and must not hold
    # a pooled database connection meanwhile (eight slow uploads would otherwise pin eight connections).
    session.rollback()
    return stored


def _store(
    context: AppContext, session: Session, user: User, sha256: str, data: bytes, checked: CheckedPhoto, now: datetime
) -> int:
    context.photos.save(sha256, data)  # the file first: a row never points at a missing blob
    session.add(
        Photo(
            sha256=sha256,
            content_type=checked.content_type,
            size_bytes=checked.size_bytes,
            width=checked.width,
            height=checked.height,
            stored_at=now,
            uploaded_by_id=user.id,
        )
    )
    session.add(AuditEvent(at=now, actor_id=user.id, action="photo.stored", entity="photo", entity_id=sha256))
    try:
        session.commit()
    except IntegrityError:  # the same photo arrived twice at once: the other upload stored it
        session.rollback()
        return 200
    return 201


@router.put(
    "/{sha256}",
    status_code=201,
    **access(
        Role.ENGINEER,
        errors=(400, 404, 413, 415),
        responses={200: {"description": "Already stored"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(ACCEPTED_TYPES)},
            }
        },
    ),
    response_class=Response,
)
async def upload_photo(
    sha256: Sha256, request: Request, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep
) -> Response:
    """Store a reading's photo under its SHA-256 (201); a repeat is a no-op (200)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise Problem("photo.unsupported_type", f"Content-Type {content_type or 'missing'} is not accepted")
    # Database and Pillow work runs in the thread pool: this route is async only to stream the body.
    if await run_in_threadpool(_authorize_upload, session, user, sha256):
        return Response(status_code=200)
    data = await _read_limited(request, context.settings.max_photo_bytes)
    checked = await context.photos.check_bounded(sha256, data)  # decodes bounded in number (photo_store)
    status = await run_in_threadpool(_store, context, session, user, sha256, data, checked, now)
    return Response(status_code=status)


@router.get(
    "/{sha256}",
    **access(
        Role.ENGINEER,
        Role.SUPERVISOR,
        Role.ADMIN,
        errors=(404,),
        responses={200: {"content": {t: {} for t in sorted(ACCEPTED_TYPES)}, "description": "The photo"}},
    ),
    response_class=Response,
)
def get_photo(sha256: Sha256, context: ContextDep, session: SessionDep, user: CurrentUser) -> Response:
    """The stored photo, byte for byte."""
    photo = session.get(Photo, sha256)
    if photo is None:
        raise Problem("photo.not_found")
    # Supervisors and admins review every photo; an engineer sees only the photos he uploaded himself (naming
    # someone else's hash in a reading of his own must not open it). 404 either way: existence is not revealed.
    if user.role == Role.ENGINEER and photo.uploaded_by_id != user.id:
        raise Problem("photo.not_found")
    try:
        data = context.photos.read(sha256)
    except FileNotFoundError:
        # The row outlived its file (a restore without the photo folder, a disk replaced): the operator must
        # know, and the reviewer gets a plain answer rather than a server error.
        log.error("photo %s is recorded but its file is missing from the photo store", sha256)
        raise Problem("photo.file_missing") from None
    return Response(
        data,
        media_type=photo.content_type,
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )
