"""Meter photos on the phone: compress what the camera or file picker gave, then keep it until it is uploaded.

``prepare_photo`` turns camera bytes into the JPEG the server stores unchanged under its SHA-256 (see
docs/architecture.md, "Photos"): EXIF orientation applied, colour flattened to RGB (alpha on white), the longest side
scaled down to ``max_side_px`` (never up), re-encoded at ``quality`` with no EXIF, GPS, XMP, ICC or comment.
``save_photo`` writes it as ``<sha256>.jpg`` atomically and durably; ``record_reading(photo_path=...)`` then names
that file in the reading.

Speed: for JPEG input the decoder is asked for a reduced size (``Image.draft``: libjpeg scales in the DCT by 1/2,
1/4 or 1/8), so a 12 MP camera photo is decoded at 2000×1500 instead of 4000×3000 and the resize that follows
touches a quarter of the pixels. That resize is OpenCV's (``_scaled``): its bicubic interpolation takes ~8 ms where
Pillow's antialiasing bicubic took ~45, and once the photo is JPEG-encoded the two differ by 0.1 dB on the meter's
counter window (bench/photo.py prints both). Orientation is applied after the downscale, where the transpose is
cheapest (the table of ``ImageOps.exif_transpose``, read from the same ``getexif()``). The encoder writes baseline
Huffman tables (see ``_encode``). What is left is mostly libjpeg's entropy decoding of the camera file, which no
scaling removes: bench/photo.py prints the steps.

``prepare_and_check`` does the same and also runs the checks before leaving the meter (``mobile_app.photo_checks``:
blur, and reuse of one of the route's recent photos) on the image already in memory, before it is encoded: a
thumbnail made by ``Image.reduce``, ~3 ms next to ~70 ms for the whole pipeline on a 12 MP photo.

No Flet, no global Pillow state touched (``Image.MAX_IMAGE_PIXELS``, ``ImageFile.LOAD_TRUNCATED_IMAGES`` and the
warning filters are left as they are): safe to call from a worker thread while the sync thread runs. The pixel
limit is checked from the header, before anything is decoded. Pillow itself warns (``DecompressionBombWarning``)
for headers above its own, larger limit (~89 MP) before our check refuses them.

Errors are ``PhotoError(code, message)`` with one of the ``PHOTO_*`` codes below.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from mobile_app.photo_checks import DHash, PhotoChecks, check_photo

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SIDE_PX",
    "DEFAULT_QUALITY",
    "PHOTO_HASH_MISMATCH",
    "PHOTO_NOT_AN_IMAGE",
    "PHOTO_TOO_MANY_PIXELS",
    "PHOTO_TRUNCATED",
    "PHOTO_UNDECODABLE",
    "CheckedPhoto",
    "PhotoError",
    "PreparedPhoto",
    "prepare_and_check",
    "prepare_photo",
    "save_photo",
]

DEFAULT_MAX_SIDE_PX: Final = 1600
DEFAULT_QUALITY: Final = 80
# The server's limit (docs/architecture.md "Photos"): anything larger is a decompression bomb, refused before decoding.
DEFAULT_MAX_PIXELS: Final = 40_000_000

PHOTO_NOT_AN_IMAGE: Final = "photo.not_an_image"  # not a JPEG, PNG or WebP at all (or its header is cut)
PHOTO_TRUNCATED: Final = "photo.truncated"  # the header parses but the image data ends early
PHOTO_TOO_MANY_PIXELS: Final = "photo.too_many_pixels"  # above the pixel limit: a decompression bomb
PHOTO_UNDECODABLE: Final = "photo.undecodable"  # the header parses but the data is corrupt
PHOTO_HASH_MISMATCH: Final = "photo.hash_mismatch"  # save_photo: the bytes do not hash to the declared sha256

# What a phone camera or file picker produces and the server accepts. The multi-picture JPEGs some Android cameras
# write come through the JPEG opener (Pillow calls them MPO; the first picture is used). HEIC is not readable.
_INPUT_FORMATS: Final = ("JPEG", "PNG", "WEBP")
_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_WHITE: Final = (255, 255, 255)
_AREA_FROM_RATIO: Final = 1.5
# EXIF orientation → the transpose that shows the picture upright (the table of ImageOps.exif_transpose).
_UPRIGHT: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class PhotoError(Exception):
    """The bytes cannot become a meter photo; ``code`` is one of the ``PHOTO_*`` constants."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PreparedPhoto:
    """The JPEG to keep and upload, and the SHA-256 of exactly these bytes (the reading's ``photo_sha256``)."""

    data: bytes = field(repr=False)
    sha256: str
    width: int
    height: int


def _target_size(size: tuple[int, int], max_side_px: int) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if longest <= max_side_px:
        return size
    scale = max_side_px / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _orientation(image: Image.Image) -> int:
    # A photo with an unreadable EXIF block is still a photo: it is kept as stored rather than refused.
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, struct.error):
        return 1
    return value if isinstance(value, int) else 1


def _decode_error(error: Exception) -> PhotoError:
    message = str(error) or type(error).__name__
    # Pillow's only signal for data that ends early (with LOAD_TRUNCATED_IMAGES off, its default).
    if "truncated" in message:
        return PhotoError(PHOTO_TRUNCATED, f"the image data ends early: {message}")
    return PhotoError(PHOTO_UNDECODABLE, f"the image does not decode: {message}")


def _encode(image: Image.Image, quality: int) -> bytes:
    # A fresh info dict: Pillow's JPEG writer would otherwise copy a source COM comment into the output.
    image.info = {}
    out = io.BytesIO()
    # No exif/icc_profile/xmp arguments: none is written. Baseline Huffman tables: optimize (a second pass for
    # tailored tables) is lossless, but at 1600 px it doubles the encode time (~5 → ~11 ms, as much as the photo
    # checks cost twice over) to save ~3 % (296 → 287 KB, both well under the 400 KB budget); progressive costs
    # ~30 ms for ~6 %. The pixels are the same either way (bench/photo.py prints the figures).
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _check_arguments(max_side_px: int, quality: int, max_pixels: int) -> None:
    if max_side_px < 1:
        raise ValueError(f"max_side_px must be at least 1, not {max_side_px}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be within 1..100, not {quality}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be at least 1, not {max_pixels}")


def _open(data: bytes) -> ImageFile.ImageFile:
    try:
        return Image.open(io.BytesIO(data), formats=_INPUT_FORMATS)
    except UnidentifiedImageError as error:
        raise PhotoError(PHOTO_NOT_AN_IMAGE, "the bytes are not a JPEG, PNG or WebP image") from error
    except Image.DecompressionBombError as error:
        raise PhotoError(PHOTO_TOO_MANY_PIXELS, str(error)) from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise _decode_error(error) from error


def _upright_image(data: bytes, max_side_px: int, max_pixels: int) -> Image.Image:
    """Decode, flatten to RGB, scale down and turn upright: the picture to encode (and check), in memory."""
    with _open(data) as source:
        width, height = source.size
        if width * height > max_pixels:
            raise PhotoError(
                PHOTO_TOO_MANY_PIXELS, f"{width}×{height} pixels; the limit is {max_pixels} (decompression bomb?)"
            )
        target = _target_size(source.size, max_side_px)
        # JPEG only (a no-op elsewhere): decode at the largest 1/2, 1/4, 1/8 scale that is still >= target.
        # box maps the reduced image back onto the exact original area (its size is rounded up).
        if target != source.size:
            source.draft("RGB", target)
        try:
            source.load()
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
            raise _decode_error(error) from error
        orientation = _orientation(source)

        image: Image.Image = source
        if image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
            # Onto white before scaling: a transparent pixel's hidden colour never bleeds into the edges (the
            # same picture as a premultiplied resize composited afterwards).
            rgba = image.convert("RGBA")
            image = Image.new("RGB", image.size, _WHITE)
            image.paste(rgba, mask=rgba.getchannel("A"))
        elif image.mode not in ("RGB", "L"):
            image = image.convert("RGB")  # P, 1, CMYK, YCbCr, I;16 …
        if image.size != target:
            image = _scaled(image, target)
        if image.mode != "RGB":
            image = image.convert("RGB")
        method = _UPRIGHT.get(orientation)
        if method is not None:
            image = image.transpose(method)
        elif image is source:
            image = image.copy()  # _encode resets info: never on the opened file's image
    return image


def _scaled(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """An ``RGB`` or ``L`` image scaled down to ``target`` by OpenCV.

    After the draft decode the ratio left is below 2 (2000×1500 → 1600×1200 for a 12 MP photo): there bicubic
    interpolation is as good as Pillow's antialiasing bicubic once the photo is JPEG-encoded (bench/photo.py: 0.1 dB
    on the counter window) for an eighth of its time. From ``_AREA_FROM_RATIO`` on (large PNG or WebP input, or a
    JPEG the DCT could not reduce enough), pixel-area averaging, which does not alias however far it shrinks.
    The draft's reduced image covers the original up to half a pixel when a side is odd: not worth a resample.
    """
    ratio = max(image.width / target[0], image.height / target[1])
    interpolation = cv2.INTER_AREA if ratio >= _AREA_FROM_RATIO else cv2.INTER_CUBIC
    return Image.fromarray(cv2.resize(np.asarray(image), target, interpolation=interpolation))


def _prepared(image: Image.Image, quality: int) -> PreparedPhoto:
    encoded = _encode(image, quality)
    return PreparedPhoto(
        data=encoded, sha256=hashlib.sha256(encoded).hexdigest(), width=image.width, height=image.height
    )


def prepare_photo(
    data: bytes,
    *,
    max_side_px: int = DEFAULT_MAX_SIDE_PX,
    quality: int = DEFAULT_QUALITY,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> PreparedPhoto:
    """Compress camera bytes into the photo the phone keeps and uploads.

    Deterministic: the same input and arguments give the same bytes, hence the same SHA-256.
    Raises ``PhotoError`` (not an image, truncated, too many pixels, undecodable) and ``ValueError`` for
    out-of-range arguments.
    """
    _check_arguments(max_side_px, quality, max_pixels)
    return _prepared(_upright_image(data, max_side_px, max_pixels), quality)


@dataclass(frozen=True)
class CheckedPhoto:
    """The prepared photo and the checks to show before the engineer leaves the meter."""

    photo: PreparedPhoto
    checks: PhotoChecks


def prepare_and_check(
    data: bytes,
    recent_hashes: Iterable[DHash] = (),
    *,
    max_side_px: int = DEFAULT_MAX_SIDE_PX,
    quality: int = DEFAULT_QUALITY,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> CheckedPhoto:
    """``prepare_photo`` plus the blur and reuse checks (``mobile_app.photo_checks``), from the same decode.

    ``recent_hashes``: the dHashes of this route's recent photos (the caller keeps them; add
    ``checks.dhash`` once the photo is kept). The photo bytes are exactly ``prepare_photo``'s. Same errors.
    """
    _check_arguments(max_side_px, quality, max_pixels)
    image = _upright_image(data, max_side_px, max_pixels)
    # Before _encode: it resets image.info, which the checks do not read anyway.
    checks = check_photo(image, recent_hashes)
    return CheckedPhoto(photo=_prepared(image, quality), checks=checks)


def _fsync_directory(folder: Path) -> None:
    # Makes the rename itself durable (POSIX); platforms without directory fds (Windows) skip it.
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_photo(prepared: PreparedPhoto, folder: Path) -> Path:
    """Write ``prepared`` as ``folder/<sha256>.jpg`` (tmp file, fsync, rename, fsync folder) and return the path.

    Content-addressed, so saving the same photo again keeps the existing file (rewritten only if it no longer
    hashes right). Raises ``PhotoError(PHOTO_HASH_MISMATCH)`` if ``prepared.data`` does not hash to
    ``prepared.sha256``; no file is written then.
    """
    actual = hashlib.sha256(prepared.data).hexdigest()
    if actual != prepared.sha256:
        raise PhotoError(PHOTO_HASH_MISMATCH, f"the bytes hash to {actual}, not {prepared.sha256}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prepared.sha256}.jpg"
    if path.is_file():
        with path.open("rb") as existing:
            if hashlib.file_digest(existing, "sha256").hexdigest() == prepared.sha256:
                return path
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".photo-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(prepared.data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(folder)
    return path
