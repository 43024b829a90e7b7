"""Photos: uploaded whole or in pieces (``Content-Range`` on ``PUT``, resumed after ``HEAD``), and read back.

The resumable upload follows the tus protocol and the IETF "Resumable Uploads for HTTP" draft where it is simple:
``HEAD`` answers ``Upload-Offset``, a piece at another offset is 409 naming it. docs/api.md "Photos" has the wire.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
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
from sync_server.photo_blobs import offset_conflict
from sync_server.photo_store import CheckedPhoto
from sync_server.problems import Problem

log = logging.getLogger(__name__)

router = APIRouter(prefix="/photos", tags=["photos"])

Sha256 = Annotated[Sha256Hex, Path()]
ACCEPTED_TYPES = {"image/jpeg", "image/png", "image/webp"}
_CONTENT_RANGE = re.compile(r"bytes (\d{1,12})-(\d{1,12})/(\d{1,12})")
# An upload's state must never be answered from a cache: it changes with every piece.
_NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class ByteRange:
    """``Content-Range: bytes START-END/TOTAL``: the piece is bytes START..END (both included) of TOTAL."""

    start: int
    end: int
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def _parse_range(header: str, limit: int) -> ByteRange:
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        raise Problem("request.invalid", f"Content-Range must be 'bytes START-END/TOTAL', not {header!r}")
    piece = ByteRange(*(int(group) for group in match.groups()))
    # The size limit applies to the declared whole, before any byte is kept.
    if piece.total > limit:
        raise Problem("photo.too_large", f"{piece.total} bytes; the limit is {limit}")
    if not piece.start <= piece.end < piece.total:
        raise Problem("request.invalid", f"Content-Range {header!r} is not a range inside the photo")
    return piece


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


def _stored_size(session: Session, user: User, sha256: str) -> int | None:
    """The stored photo's size (None: not stored yet); raises unless one of the caller's readings names it."""
    referenced = session.exec(
        select(Reading.id).where(Reading.photo_sha256 == sha256, Reading.engineer_id == user.id)
    ).first()
    if referenced is None:
        raise Problem("photo.not_referenced")
    photo = session.get(Photo, sha256)
    size = None if photo is None else photo.size_bytes
    # End the read transaction: the body upload and the decode that follow can take seconds and must not hold
    # a pooled database connection meanwhile (eight slow uploads would otherwise pin eight connections).
    session.rollback()
    return size


def _authorize_upload(session: Session, user: User, sha256: str) -> bool:
    """True when the photo is already stored; raises unless one of the caller's readings names it."""
    return _stored_size(session, user, sha256) is not None


def _store(
    context: AppContext, session: Session, user: User, sha256: str, data: bytes, checked: CheckedPhoto, now: datetime
) -> int:
    context.photos.blobs.save(sha256, data)  # the file first: a row never points at a missing blob
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


async def _read_piece(request: Request, piece: ByteRange) -> bytes:
    try:
        data = await _read_limited(request, piece.length)
    except Problem as longer:  # over the piece's length, not the photo limit: the range and body disagree
        if longer.code != "photo.too_large":
            raise
        raise Problem("request.invalid", f"The body is longer than the {piece.length} bytes announced") from longer
    if len(data) != piece.length:
        raise Problem("request.invalid", f"Content-Range announces {piece.length} bytes; the body has {len(data)}")
    return data


async def _checked_whole(context: AppContext, sha256: str, data: bytes) -> CheckedPhoto:
    """The checks on the reassembled photo; a refused one is discarded, so the phone starts over from byte 0."""
    try:
        return await context.photos.check_bounded(sha256, data)
    except Problem as refused:
        await run_in_threadpool(context.photos.blobs.discard_partial, sha256)
        raise Problem(
            refused.code,
            f"{refused.message}. The pieces received are discarded: send the photo again from byte 0",
            {**refused.details, "offset": 0},
        ) from refused


async def _upload_piece(
    context: AppContext, session: Session, user: User, sha256: str, request: Request, now: datetime
) -> Response:
    piece = _parse_range(request.headers["content-range"], context.settings.max_photo_bytes)
    current = await run_in_threadpool(context.photos.blobs.partial, sha256)
    # Refused before the body is read: a phone resuming at the wrong place learns the offset at once. (Another
    # total cannot be this upload: ``append_partial`` drops that partial and expects byte 0.)
    if current.total in (None, piece.total) and piece.start != current.offset:
        raise offset_conflict(current.offset, f"The piece starts at byte {piece.start}")
    data = await _read_piece(request, piece)
    whole = await run_in_threadpool(context.photos.blobs.append_partial, sha256, piece.start, piece.total, data, now)
    if whole is None:
        offset = piece.end + 1
        return Response(status_code=204, headers={"Upload-Offset": str(offset), "Upload-Complete": "?0", **_NO_STORE})
    checked = await _checked_whole(context, sha256, whole)
    status = await run_in_threadpool(_store, context, session, user, sha256, whole, checked, now)
    await run_in_threadpool(context.photos.blobs.discard_partial, sha256)
    return Response(status_code=status, headers={"Upload-Offset": str(piece.total), "Upload-Complete": "?1"})


@router.put(
    "/{sha256}",
    status_code=201,
    **access(
        Role.ENGINEER,
        errors=(400, 404, 409, 413, 415),
        responses={
            200: {"description": "Already stored"},
            204: {"description": "A piece (Content-Range) kept; Upload-Offset says where the next one starts"},
        },
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
    """Store a reading's photo under its SHA-256 (201); a repeat is a no-op (200).

    With ``Content-Range: bytes START-END/TOTAL`` the body is one piece: kept (204 with ``Upload-Offset``) until
    the last one completes the photo, which is then checked whole like any upload (201).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise Problem("photo.unsupported_type", f"Content-Type {content_type or 'missing'} is not accepted")
    # Database and Pillow work runs in the thread pool: this route is async only to stream the body.
    if await run_in_threadpool(_authorize_upload, session, user, sha256):
        return Response(status_code=200)
    if "content-range" in request.headers:
        return await _upload_piece(context, session, user, sha256, request, now)
    data = await _read_limited(request, context.settings.max_photo_bytes)
    checked = await context.photos.check_bounded(sha256, data)  # decodes bounded in number (photo_store)
    status = await run_in_threadpool(_store, context, session, user, sha256, data, checked, now)
    await run_in_threadpool(context.photos.blobs.discard_partial, sha256)  # a whole upload supersedes any pieces
    return Response(status_code=status)


@router.head(
    "/{sha256}",
    **access(
        Role.ENGINEER,
        errors=(404,),
        responses={
            200: {"description": "Stored: Upload-Complete ?1, Upload-Offset and Upload-Length the photo's size"},
            204: {"description": "Not stored: Upload-Offset is how many bytes have arrived (0: none)"},
        },
    ),
    response_class=Response,
    # Left out of OpenAPI: the schema-driven role matrix and fuzzer read error bodies, which a HEAD answer never
    # has. Its rules are docs/api.md's and tests/sync_server/test_photo_resume.py's.
    include_in_schema=False,
)
def upload_state(sha256: Sha256, context: ContextDep, session: SessionDep, user: CurrentUser) -> Response:
    """Where an upload of this photo stands, for the engineer who may upload it (as ``PUT``, else 404)."""
    size = _stored_size(session, user, sha256)
    if size is not None:
        headers = {"Upload-Complete": "?1", "Upload-Offset": str(size), "Upload-Length": str(size)}
        return Response(status_code=200, headers=headers | _NO_STORE)
    partial = context.photos.blobs.partial(sha256)
    headers = {"Upload-Complete": "?0", "Upload-Offset": str(partial.offset), **_NO_STORE}
    if partial.total is not None:
        headers["Upload-Length"] = str(partial.total)
    return Response(status_code=204, headers=headers)


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
        data = context.photos.blobs.read(sha256)
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
