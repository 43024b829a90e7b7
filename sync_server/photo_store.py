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

The checked bytes are kept by the store's ``blobs`` (sync_server/photo_blobs.py: a folder, or the database), which
also hold the pieces of a photo sent in pieces (docs/api.md "Photos": ``Content-Range`` on ``PUT``); a partial is
never a photo: only the full checks above, passed on the whole bytes, make it one.
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import anyio
from PIL import Image, UnidentifiedImageError

from sync_server.photo_blobs import PhotoBlobs
from sync_server.png_stream import png_stream_problem
from sync_server.problems import Problem

__all__ = ["CONTENT_TYPES", "CheckedPhoto", "PhotoStore"]

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Longest side accepted: a 40 MP budget spent on a 1 × 40,000,000 strip is no photo of a meter, and Pillow's
# per-row buffers grow with the width whatever the pixel count.
MAX_SIDE = 16_384
# JPEG's DCT scaling goes down to 1/8: the smallest picture libjpeg can build while reading every block.
_DRAFT_SCALE = 8


@dataclass(frozen=True)
class CheckedPhoto:
    sha256: str
    content_type: str
    size_bytes: int
    width: int
    height: int


class PhotoStore:
    """Checks a photo's bytes (``check``, ``check_bounded``); ``blobs`` keeps them."""

    def __init__(self, blobs: PhotoBlobs, *, max_bytes: int, max_pixels: int, max_concurrent_decodes: int = 2) -> None:
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        # Created here, outside any event loop: anyio binds the limiter to the loop that first uses it.
        self.decode_limiter = anyio.CapacityLimiter(max_concurrent_decodes)
        self._decoding = 0
        self.peak_decodes = 0  # the most decodes seen at once (tests and benchmarks read it)
        self._count_lock = threading.Lock()
        self._full_decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photo-decode")

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
