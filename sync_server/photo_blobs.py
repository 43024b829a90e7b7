"""Where a photo's bytes are kept, and the pieces of one still arriving: a folder (the default) or the database.

``PhotoStore`` (sync_server/photo_store.py) checks a photo's bytes; a ``PhotoBlobs`` keeps them. Both kinds keep
the same contract, so every route, the OCR job and housekeeping work with either:

- a photo is written whole and only after its checks; writing the same hash again changes nothing; ``read`` of a
  hash never stored raises ``FileNotFoundError``;
- pieces of one photo are appended at the offset held (another offset: 409 with that offset), a different declared
  total drops what was held, and a partial's time is the server clock's time of its last piece, which
  ``purge_partials`` expires.

``FolderBlobs`` keeps files under the data folder: one machine. ``DatabaseBlobs`` keeps them in the central
database (tables ``photo_blob`` and ``photo_partial``), so several stateless machines behind one address serve
the same photos and a phone's upload may resume on any of them; backups of the database then hold the photos too.
An S3-compatible object store would be a third implementation of the same few methods (docs/operations.md).
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, LargeBinary, cast, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from sync_server.models import PhotoBlob, PhotoPartial
from sync_server.problems import Problem
from sync_server.sql import table_of

__all__ = ["PARTIAL_TTL", "DatabaseBlobs", "FolderBlobs", "Partial", "PhotoBlobs", "offset_conflict"]

# A partial upload left alone this long is given up: the phone starts that photo over if it ever comes back.
PARTIAL_TTL = timedelta(hours=48)
_PARTIAL_DIR = ".partial"


@dataclass(frozen=True)
class Partial:
    """What has arrived of a photo sent in pieces: ``offset`` bytes of a declared ``total`` (None: nothing yet)."""

    offset: int
    total: int | None


def offset_conflict(offset: int, message: str) -> Problem:
    """409 naming the offset the server holds, in the body and in ``Upload-Offset``: resume from there."""
    return Problem(
        "request.conflict",
        f"{message}; the server has {offset} bytes of this photo: resume from byte {offset}",
        details={"offset": offset},
        headers={"Upload-Offset": str(offset)},
    )


class PhotoBlobs(Protocol):
    def exists(self, sha256: str) -> bool: ...
    def save(self, sha256: str, data: bytes) -> None: ...
    def read(self, sha256: str) -> bytes: ...
    def partial(self, sha256: str) -> Partial: ...
    def append_partial(self, sha256: str, start: int, total: int, piece: bytes, now: datetime) -> bytes | None: ...
    def discard_partial(self, sha256: str) -> None: ...
    def purge_partials(self, now: datetime, ttl: timedelta = PARTIAL_TTL) -> int: ...


class FolderBlobs:
    """Photos as files ``<root>/<sha[:2]>/<sha>``, pieces in ``<root>/.partial/<sha>.<total>`` (the dot keeps them out
    of backups; a file's modification time is the server clock's time of its last piece)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # Pieces of one photo are appended one at a time (a phone retrying while its cut request still runs).
        self._partial_lock = threading.Lock()

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def save(self, sha256: str, data: bytes) -> None:
        """Write atomically and durably; a repeat of the same hash leaves the existing file alone."""
        path = self.path_for(sha256)
        if path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    @property
    def partial_dir(self) -> Path:
        return self.root / _PARTIAL_DIR

    def _partial_file(self, sha256: str) -> Path | None:
        found = sorted(self.partial_dir.glob(f"{sha256}.*")) if self.partial_dir.is_dir() else []
        return found[0] if found else None

    def partial(self, sha256: str) -> Partial:
        """How much of ``sha256`` has arrived in pieces (``Partial(0, None)`` when nothing has)."""
        with self._partial_lock:
            return self._partial_unlocked(sha256)

    def _partial_unlocked(self, sha256: str) -> Partial:
        path = self._partial_file(sha256)
        if path is None:
            return Partial(0, None)
        total = int(path.name.rpartition(".")[2])
        offset = path.stat().st_size
        if offset >= total:
            # Complete but never stored: the server stopped during the checks. Its bytes were never judged, so they
            # are not trusted; the phone sends the photo again.
            path.unlink(missing_ok=True)
            return Partial(0, None)
        return Partial(offset, total)

    def append_partial(self, sha256: str, start: int, total: int, piece: bytes, now: datetime) -> bytes | None:
        """Append ``piece`` (bytes ``start``.. of ``total``); the whole photo once it is complete, else None.

        A piece that does not start where the partial ends is refused (409 with the partial's offset), so a piece
        is never written twice or leaves a gap. A ``total`` other than the partial's means the partial cannot be
        this photo's (the hash names one content, one size): it is dropped and the upload starts at 0.
        """
        with self._partial_lock:
            current = self._partial_unlocked(sha256)
            if current.total is not None and current.total != total:
                self.discard_partial(sha256)
                current = Partial(0, None)
            if start != current.offset:
                raise offset_conflict(current.offset, f"The piece starts at byte {start}")
            path = self.partial_dir / f"{sha256}.{total}"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("ab") as file:
                file.write(piece)
                file.flush()
                os.fsync(file.fileno())  # the offset the phone is told must survive a crash
            stamp = now.timestamp()
            os.utime(path, (stamp, stamp))  # the server clock's time of the last piece: what expiry reads
            if start + len(piece) < total:
                return None
            return path.read_bytes()

    def discard_partial(self, sha256: str) -> None:
        path = self._partial_file(sha256)
        if path is not None:
            path.unlink(missing_ok=True)

    def purge_partials(self, now: datetime, ttl: timedelta = PARTIAL_TTL) -> int:
        """Remove the partial uploads whose last piece came ``ttl`` or longer before ``now``; how many."""
        if not self.partial_dir.is_dir():
            return 0
        cutoff = (now - ttl).timestamp()
        removed = 0
        with self._partial_lock:
            for path in self.partial_dir.iterdir():
                if path.is_file() and path.stat().st_mtime <= cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed


_BLOBS = table_of(PhotoBlob)
_PARTIALS = table_of(PhotoPartial)


class DatabaseBlobs:
    """Photos and their pieces as rows of the central database, each call in its own short transaction.

    A piece is appended with one conditional UPDATE (``data || piece`` where the held length is still ``start``;
    cast back to a blob, as SQLite's ``||`` makes text):
    two machines receiving the same piece at once cannot both append it, and the loser answers 409 with the
    offset, as the folder's lock does on one machine. Nothing here is held between calls.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def exists(self, sha256: str) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(select(_BLOBS.c.sha256).where(_BLOBS.c.sha256 == sha256)).first() is not None

    def save(self, sha256: str, data: bytes) -> None:
        """Insert the bytes; the same hash stored already (by another machine too) is left as it is."""
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(_BLOBS).values(sha256=sha256, data=data))
        except IntegrityError:
            if not self.exists(sha256):
                raise

    def read(self, sha256: str) -> bytes:
        with self.engine.connect() as connection:
            data = connection.execute(select(_BLOBS.c.data).where(_BLOBS.c.sha256 == sha256)).scalar()
        if data is None:
            raise FileNotFoundError(f"photo {sha256} is not in the database's photo store")
        return bytes(data)

    def partial(self, sha256: str) -> Partial:
        with self.engine.begin() as connection:
            row = connection.execute(
                select(_PARTIALS.c.total, func.length(_PARTIALS.c.data)).where(_PARTIALS.c.sha256 == sha256)
            ).first()
            if row is None:
                return Partial(0, None)
            total, offset = int(row[0]), int(row[1])
            if offset >= total:  # complete but never stored (see FolderBlobs): not trusted, sent again
                connection.execute(delete(_PARTIALS).where(_PARTIALS.c.sha256 == sha256))
                return Partial(0, None)
            return Partial(offset, total)

    def append_partial(self, sha256: str, start: int, total: int, piece: bytes, now: datetime) -> bytes | None:
        """``FolderBlobs.append_partial``'s contract, across machines."""
        current = self.partial(sha256)
        if current.total is not None and current.total != total:
            self.discard_partial(sha256)
            current = Partial(0, None)
        if start != current.offset:
            raise offset_conflict(current.offset, f"The piece starts at byte {start}")
        with self.engine.begin() as connection:
            if current.total is None:
                try:
                    with connection.begin_nested():
                        connection.execute(
                            insert(_PARTIALS).values(sha256=sha256, total=total, data=piece, updated_at=now)
                        )
                except IntegrityError:  # another machine began this photo a moment ago
                    raise offset_conflict(self.partial(sha256).offset, f"The piece starts at byte {start}") from None
            else:
                appended = connection.execute(
                    update(_PARTIALS)
                    .where(
                        _PARTIALS.c.sha256 == sha256,
                        _PARTIALS.c.total == total,
                        func.length(_PARTIALS.c.data) == start,
                    )
                    .values(data=cast(_PARTIALS.c.data.concat(piece), LargeBinary), updated_at=now)
                )
                if appended.rowcount != 1:
                    connection.rollback()
                    raise offset_conflict(self.partial(sha256).offset, f"The piece starts at byte {start}")
            if start + len(piece) < total:
                return None
            data = connection.execute(select(_PARTIALS.c.data).where(_PARTIALS.c.sha256 == sha256)).scalar_one()
            return bytes(data)

    def discard_partial(self, sha256: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_PARTIALS).where(_PARTIALS.c.sha256 == sha256))

    def purge_partials(self, now: datetime, ttl: timedelta = PARTIAL_TTL) -> int:
        with self.engine.begin() as connection:
            removed = connection.execute(delete(_PARTIALS).where(_PARTIALS.c.updated_at <= now - ttl))
            return int(removed.rowcount)
