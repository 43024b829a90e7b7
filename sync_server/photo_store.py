"""Content-addressed photo storage: the bytes are checked, then kept unchanged under their SHA-256.

Checks, in order: declared size, hash, image type, pixel count (before decoding, so a decompression bomb is
refused without inflating it), then a full decode (a truncated JPEG is refused).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from sync_server.problems import Problem

__all__ = ["CONTENT_TYPES", "CheckedPhoto", "PhotoStore"]

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class CheckedPhoto:
    sha256: str
    content_type: str
    size_bytes: int
    width: int
    height: int


class PhotoStore:
    def __init__(self, root: Path, *, max_bytes: int, max_pixels: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def check(self, sha256: str, data: bytes) -> CheckedPhoto:
        if len(data) > self.max_bytes:
            raise Problem(413, "photo.too_large", f"{len(data)} bytes; the limit is {self.max_bytes}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise Problem(400, "photo.hash_mismatch", details={"declared": sha256, "actual": actual})
        try:
            with warnings.catch_warnings():
                # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse at our own limit.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    if image.format not in CONTENT_TYPES:
                        raise Problem(415, "photo.unsupported_type", f"{image.format} images are not accepted")
                    width, height = image.size
                    if width * height > self.max_pixels:
                        raise Problem(
                            422,
                            "photo.too_many_pixels",
                            f"{width}×{height} pixels; the limit is {self.max_pixels}",
                        )
                    image.load()
                    content_type = CONTENT_TYPES[image.format]
        except UnidentifiedImageError as error:
            raise Problem(415, "photo.unsupported_type", "The bytes are not a JPEG, PNG or WebP image") from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise Problem(422, "photo.too_many_pixels", str(error)) from error
        except (OSError, SyntaxError, ValueError) as error:
            raise Problem(422, "photo.undecodable", f"The image does not decode: {error}") from error
        return CheckedPhoto(sha256, content_type, len(data), width, height)

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
