"""Photos waiting for upload. They go up only after the server acknowledged a reading that names them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import col, select

from mobile_app.store.database import Store
from mobile_app.store.readings import owned_by
from mobile_app.store.tables import LocalPhoto, LocalReading, LocalState

__all__ = [
    "RECENT_PHOTOS",
    "PendingPhoto",
    "mark_photo_failed",
    "mark_photo_uploaded",
    "photos_to_upload",
    "recent_photo_hashes",
]

# How many of the engineer's latest photos a new one is compared with for reuse: a day's round of a society
# (docs/field-app.md "Photo checks"). A photo re-submitted from last month is older than that; the comparison is a
# XOR per hash, so the bound is about what "recent" means, not cost.
RECENT_PHOTOS = 50


@dataclass(frozen=True)
class PendingPhoto:
    sha256: str
    local_path: Path


def photos_to_upload(*, store: Store, owner: int | None = None) -> list[PendingPhoto]:
    """Photos not on the server yet, named by an acknowledged reading (``owner``'s when given: the server files a
    photo under the engineer whose reading names it), and not refused for good."""
    with store.transaction() as session:
        rows = session.exec(
            select(LocalPhoto)
            .where(
                col(LocalPhoto.uploaded_at).is_(None),
                col(LocalPhoto.error_is_terminal).is_(False),
                col(LocalPhoto.sha256).in_(
                    # The server answers 404 photo.not_referenced until it has a reading naming the hash.
                    select(LocalReading.photo_sha256).where(LocalReading.state == LocalState.UPLOADED, owned_by(owner))
                ),
            )
            .order_by(col(LocalPhoto.sha256))
        ).all()
    return [PendingPhoto(sha256=row.sha256, local_path=Path(row.local_path)) for row in rows]


def mark_photo_uploaded(*, store: Store, sha256: str, uploaded_at: datetime) -> None:
    """The server has these bytes (201 or 200): readings naming them are no longer photo pending."""
    with store.transaction() as session:
        photo = session.get(LocalPhoto, sha256)
        if photo is None:
            return
        photo.uploaded_at = uploaded_at
        photo.error_code = None
        photo.error_message = None
        photo.error_is_terminal = False
        session.add(photo)


def mark_photo_failed(*, store: Store, sha256: str, code: str, message: str, terminal: bool) -> None:
    """Record why an upload failed; ``terminal`` stops automatic retries (the bytes were refused)."""
    with store.transaction() as session:
        photo = session.get(LocalPhoto, sha256)
        if photo is None:
            return
        photo.error_code = code
        photo.error_message = message[:500]
        photo.error_is_terminal = terminal
        session.add(photo)


def recent_photo_hashes(*, store: Store, owner: int | None = None, limit: int = RECENT_PHOTOS) -> list[str]:
    """The difference hashes (hex) of the photos of ``owner``'s last ``limit`` readings with a photo, newest first.

    By reading, not by photo: what counts as recent is what the engineer last saved on this phone. Photos kept
    before hashes were (schema v6) have none and are left out."""
    with store.transaction() as session:
        rows = session.exec(
            select(LocalPhoto.dhash)
            .join(LocalReading, col(LocalReading.photo_sha256) == col(LocalPhoto.sha256))
            .where(col(LocalPhoto.dhash).is_not(None), owned_by(owner))
            .order_by(col(LocalReading.seq).desc())
            .limit(limit)
        ).all()
    return [row for row in rows if row is not None]
