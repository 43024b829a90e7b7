"""Content-addressed photo storage: the bytes are checked, then kept unchanged under their SHA-256.

Checks, in order: declared size, hash, image type, dimensions and pixel count (from the header, before decoding,
so a decompression bomb is refused without inflating it), then a decode (a truncated or corrupt image is refused).

The decode is bounded in memory and in concurrency. A JPEG (what phones send) is decoded in draft mode at 1/8
scale: libjpeg still entropy-decodes every block, so a truncated or corrupt stream fails as before, but the picture
it builds is 1/64 of the full one (a 40 MP photo: about 2.5 MB instead of 160 MB). A PNG's data is checked by
inflating it in pieces without building the picture (``png_stream``). Only WebP and interlaced PNG are decoded in
full, one at a time. At most ``max_concurrent_decodes`` checks run at once (``check_bounded``: the others wait on
the event loop, holding no thread), so eight big photos arriving together cannot take the server past a bound:
about one full decode plus that many small pictures.

A photo may also arrive in pieces (docs/api.md "Photos": ``Content-Range`` on ``PUT``). The pieces are appended to
``.partial/<sha256>.<total>`` in the store's folder; the dot keeps them out of backups, and a partial is never a
photo: only the full checks above, passed on the whole bytes, put a file where ``path_for`` looks. A partial's
modification time is the server clock's time of its last piece, which ``purge_partials`` expires.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import anyio
from PIL import Image, UnidentifiedImageError

from sync_server.png_stream import png_stream_problem
from sync_server.problems import Problem

__all__ = ["CONTENT_TYPES", "PARTIAL_TTL", "CheckedPhoto", "Partial", "PhotoStore"]

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Longest side accepted: a 40 MP budget spent on a 1 × 40,000,000 strip is no photo of a meter, and Pillow's
# per-row buffers grow with the width whatever the pixel count.
MAX_SIDE = 16_384
# JPEG's DCT scaling goes down to 1/8: the smallest picture libjpeg can build while reading every block.
_DRAFT_SCALE = 8
# A partial upload left alone this long is given up: the phone starts that photo over if it ever comes back.
PARTIAL_TTL = timedelta(hours=48)
_PARTIAL_DIR = ".partial"


@dataclass(frozen=True)
class Partial:
    """What has arrived of a photo sent in pieces: ``offset`` bytes of a declared ``total`` (None: nothing yet)."""

    offset: int
    total: int | None


@dataclass(frozen=True)
class CheckedPhoto:
    sha256: str
    content_type: str
    size_bytes: int
    width: int
    height: int


class PhotoStore:
    def __init__(self, root: Path, *, max_bytes: int, max_pixels: int, max_concurrent_decodes: int = 2) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        # Created here, outside any event loop: anyio binds the limiter to the loop that first uses it.
        self.decode_limiter = anyio.CapacityLimiter(max_concurrent_decodes)
        self._decoding = 0
        self.peak_decodes = 0  # the most decodes seen at once (tests and benchmarks read it)
        self._count_lock = threading.Lock()
        self._full_decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photo-decode")
        # Pieces of one photo are appended one at a time (a phone retrying while its cut request still runs).
        self._partial_lock = threading.Lock()

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def check(self, sha256: str, data: bytes) -> CheckedPhoto:
        if len(data) > self.max_bytes:
            raise Problem("photo.too_large", f"{len(data)} bytes; the limit is {self.max_bytes}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise Problem("photo.hash_mismatch", details={"declared": sha256, "actual": actual})
        try:
            with warnings.catch_warnings():
                # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse at our own limit.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    if image.format not in CONTENT_TYPES:
                        raise Problem("photo.unsupported_type", f"{image.format} images are not accepted")
                    width, height = image.size
                    if width * height > self.max_pixels or max(width, height) > MAX_SIDE:
                        raise Problem(
                            "photo.too_many_pixels",
                            f"{width}×{height} pixels; the limit is {self.max_pixels} and {MAX_SIDE} a side",
                        )
                    content_type = CONTENT_TYPES[image.format]
                    self._decode(image, data)
        except UnidentifiedImageError as error:
            raise Problem("photo.unsupported_type", "The bytes are not a JPEG, PNG or WebP image") from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise Problem("photo.too_many_pixels", str(error)) from error
        except (OSError, SyntaxError, ValueError) as error:
            raise Problem("photo.undecodable", f"The image does not decode: {error}") from error
        return CheckedPhoto(sha256, content_type, len(data), width, height)

    async def check_bounded(self, sha256: str, data: bytes) -> CheckedPhoto:
        """``check`` in a worker thread, at most ``max_concurrent_decodes`` at once (the rest wait, threadless)."""
        return await anyio.to_thread.run_sync(self.check, sha256, data, limiter=self.decode_limiter)

    def _decode(self, image: Image.Image, data: bytes) -> None:
        with self._count_lock:
            self._decoding += 1
            self.peak_decodes = max(self.peak_decodes, self._decoding)
        try:
            if image.format == "PNG":
                try:
                    problem = png_stream_problem(data)
                except LookupError:  # interlaced: decoded in full below
                    pass
                else:
                    if problem is not None:
                        raise Problem("photo.undecodable", f"The image does not decode: {problem}")
                    return
            if image.format == "JPEG":
                width, height = image.size
                image.draft(image.mode, (max(1, width // _DRAFT_SCALE), max(1, height // _DRAFT_SCALE)))
                image.load()
                return
            # A full decode (WebP, interlaced PNG) peaks far above the picture's size: a 40 MP WebP takes ~600 MB
            # in Pillow 13 (libwebp's RGBA buffer, then copies). One at a time per process, whatever the bound, and
            # always on the same thread: the C allocator keeps freed memory per thread, so decodes spread over many
            # threads would each leave their own ~600 MB behind.
            self._full_decoder.submit(image.load).result()
        finally:
            with self._count_lock:
                self._decoding -= 1

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

    # --- Photos sent in pieces ---

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


def offset_conflict(offset: int, message: str) -> Problem:
    """409 naming the offset the server holds, in the body and in ``Upload-Offset``: resume from there."""
    return Problem(
        "request.conflict",
        f"{message}; the server has {offset} bytes of this photo: resume from byte {offset}",
        details={"offset": offset},
        headers={"Upload-Offset": str(offset)},
    )
