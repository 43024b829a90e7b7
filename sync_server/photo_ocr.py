"""The register read off each stored meter photo, on the server itself: nothing leaves the deployment
(docs/review.md "OCR").

rapidocr-onnxruntime 1.4.4 carries its detection and recognition models in its wheel and runs them on the CPU with
ONNX Runtime. Reading is slow (about a second a photo here) and memory-hungry (a full-size photo peaks near 650 MB),
so it never runs on a request: the scheduler's ``photo-ocr`` job (``read_waiting_photos``) reads the photos that
arrived since its last pass, one at a time on the one process that claimed the firing, each scaled down first to
``MAX_SIDE_PX``. The recogniser is loaded once per process, on first use.

What the findings mean (which text is the register, does it agree with the typed value) is
``shared_billing.register_ocr``'s.
"""

from __future__ import annotations

import io
import logging
import threading
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared_billing.protocol import ScheduleStatus
from shared_billing.register_ocr import Found, RegisterRead, ocr_verdict, register_read
from sync_server.models import Photo, PhotoOcr, Reading
from sync_server.scheduling.jobs import Outcome

if TYPE_CHECKING:
    from sync_server.context import AppContext

__all__ = ["MAX_SIDE_PX", "PER_PASS", "judge_readings", "read_register", "read_waiting_photos"]

log = logging.getLogger(__name__)

#: The longest side a photo is read at: the register's digits stay tens of pixels tall, the memory a fraction of a
#: full-size read (bench/ocr.py prints both).
MAX_SIDE_PX = 1280
#: Photos read in one pass of the job: a pass stays short, and the rest wait for the next one.
PER_PASS = 50

_engine: Any = None
_engine_lock = threading.Lock()


def _recogniser() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            # Imported here: the server starts (and most tests run) without loading the models.
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR()
        return _engine


def _upright(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)  # a phone held upright writes the turn in EXIF, not the pixels
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX), Image.Resampling.BICUBIC)
    return image


def _found(result: Any) -> list[Found]:
    found: list[Found] = []
    for box, text, confidence in result or []:
        ys = [point[1] for point in box]
        found.append(Found(text=str(text), confidence=float(confidence), height=float(max(ys) - min(ys))))
    return found


def read_register(data: bytes) -> RegisterRead | None:
    """The register value on a photo's bytes, or None when none is found. One read at a time per process: the
    recogniser is not re-entrant and each read takes hundreds of MB."""
    image = _upright(data)
    engine = _recogniser()
    with _engine_lock:
        result, _ = engine(image)
    return register_read(_found(result))


def _waiting(session: Session, limit: int) -> list[str]:
    """Stored photos of readings that have no read yet, oldest first."""
    read = select(PhotoOcr.sha256).where(col(PhotoOcr.sha256) == col(Photo.sha256)).exists()
    of_a_reading = select(Reading.id).where(col(Reading.photo_sha256) == col(Photo.sha256)).exists()
    statement = select(Photo.sha256).where(~read, of_a_reading).order_by(col(Photo.stored_at)).limit(limit)
    return list(session.exec(statement).all())


def _read_one(context: AppContext, sha256: str, now: datetime) -> PhotoOcr:
    try:
        found = read_register(context.photos.blobs.read(sha256))
    except (OSError, UnidentifiedImageError, ValueError) as error:
        # A stored photo passed the upload's checks: this is a file gone or damaged since, recorded, not retried.
        log.warning("photo %s could not be read for OCR: %s", sha256, error)
        return PhotoOcr(sha256=sha256, read_at=now, problem=str(error)[:200])
    if found is None:
        return PhotoOcr(sha256=sha256, read_at=now)
    return PhotoOcr(sha256=sha256, value=found.value, confidence=found.confidence, read_at=now)


def judge_readings(session: Session) -> int:
    """Give every reading whose photo has been read its verdict (the typed value against the photo's register):
    readings of photos read in this pass, and later readings of a photo read before. Returns how many."""
    rows = session.exec(
        select(Reading, PhotoOcr)
        .join(PhotoOcr, col(PhotoOcr.sha256) == col(Reading.photo_sha256))
        .where(col(Reading.ocr_verdict).is_(None))
    ).all()
    for reading, found in rows:
        read = None if found.value is None else RegisterRead(found.value, found.confidence or Decimal(0))
        reading.ocr_verdict = ocr_verdict(read, reading.value_text)
        session.add(reading)
    session.commit()
    return len(rows)


def read_waiting_photos(context: AppContext, now: datetime, *, limit: int = PER_PASS) -> Outcome:
    """The scheduler's ``photo-ocr`` job: read up to ``limit`` waiting photos, record what each shows and judge the
    readings they prove."""
    with Session(context.engine) as session:
        waiting = _waiting(session, limit)
    counts = {"read": 0, "unreadable": 0}
    for sha256 in waiting:
        record = _read_one(context, sha256, now)
        kind = "read" if record.value is not None else "unreadable"
        with Session(context.engine) as session:
            session.add(record)
            try:
                session.commit()
            except IntegrityError:  # read meanwhile by another process's pass (a firing claimed twice)
                continue
        counts[kind] += 1
    with Session(context.engine) as session:
        judged = judge_readings(session)
    more = " (more waiting)" if len(waiting) == limit else ""
    return Outcome(
        ScheduleStatus.OK,
        f"{counts['read']} photos read, {counts['unreadable']} unreadable, {judged} readings judged{more}",
    )
