"""Checks before leaving the meter: is the photo blurred, and is it a photo already used on this route?

Both work on the image ``prepare_and_check`` (mobile_app/photos.py) already holds in memory (never a second decode),
reduced by ``Image.reduce`` to a small greyscale thumbnail (longest side ``CHECK_SIDE_PX`` or less), so together
they cost ~3 ms next to ~70 ms for preparing a 12 MP camera photo (bench/photo.py prints both).
Pillow alone: the phone's package index has numpy and OpenCV too, but neither scipy nor imagehash.

- Blur: the variance of the 3×3 Laplacian of the thumbnail. Edges (digits, the counter window, the meter's rim)
  give large second derivatives; a shaken or misfocused photo has none, so its variance is low.
- Reuse: a 64-bit difference hash (dHash: the thumbnail shrunk to 9×8, one bit per pair of horizontal
  neighbours). Re-encoding, rescaling or a change of brightness keep the bits; another scene changes about half.
  The caller passes the hashes of this route's recent photos; keeping them is the caller's job.

Both are warnings the engineer can override; they never refuse a photo. Deterministic: the same image gives the
same score and hash.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageFilter, ImageStat

__all__ = [
    "BLUR_THRESHOLD",
    "CHECK_SIDE_PX",
    "REUSE_MAX_DISTANCE",
    "DHash",
    "PhotoChecks",
    "blur_score",
    "check_photo",
    "check_thumbnail",
    "closest_distance",
    "dhash",
]

# The thumbnail the checks see: 1600 px photos are reduced 4× to 400 px. Large enough that the meter's digits
# are still edges, small enough that the Laplacian costs well under a millisecond.
CHECK_SIDE_PX: Final = 512

# Laplacian variance below this = blurred. Measured on the 400 px thumbnail of
# 1600 px synthetic meter photos: 12 test scenes (tests/mobile_app/test_photo_checks.py, with and without grain)
# and 2 bench photos (bench/photo.py, heavier texture, smaller digits), sharp and after GaussianBlur(r) at 1600 px:
#   sharp 431–656 · r=1 281–615 · r=2 106–386 · r=3 42–188 · r=4 21–96 · r=6 8–32 · r=8 4–13.
# 150 flags every photo blurred by r=4 at 1600 px (≥ 10 px in a 12 MP original: a shaken or misfocused shot whose
# digits smear) with a 1.5× margin, and stays ~3× below the sharpest scenes' lowest score, leaving room for real
# photos' lower contrast (dim cupboards, glare). Slight softness (r ≤ 1–2, the digits still readable) passes.
BLUR_THRESHOLD: Final = 150

# Hamming distance at or below this = the same picture. Measured on the same 14 scenes, each against itself
# re-encoded at quality 40 and 95, halved in size, brightened or darkened by 15 % (0–5 bits), or cropped by 1 %
# on every side (2–9 bits); different scenes, all the same kind of meter photo, differed by 14–41 bits (median
# 29; random hashes: 32). 8 catches re-saves, rescales, brightness changes and most small crops, 6 bits short of
# the closest different scenes. Two photos of identical meters framed identically can still come close: that is
# why it is a warning the engineer overrides, never a refusal.
REUSE_MAX_DISTANCE: Final = 8

_HASH_SIZE: Final = (9, 8)  # 9 columns → 8 differences per row, 8 rows → 64 bits
# The discrete Laplacian; offset 128 keeps negative responses inside the 8-bit range (±127, beyond that clipped:
# that only lowers very sharp scores, which stay far above the threshold).
_LAPLACIAN: Final = ImageFilter.Kernel((3, 3), (0, 1, 0, 1, -4, 1, 0, 1, 0), scale=1, offset=128)


@dataclass(frozen=True)
class DHash:
    """A 64-bit difference hash; ``value`` is what the caller keeps for the route's recent photos."""

    value: int

    @classmethod
    def from_hex(cls, text: str) -> DHash:
        return cls(int(text, 16))

    @property
    def hex(self) -> str:
        return f"{self.value:016x}"

    def distance(self, other: DHash) -> int:
        """Hamming distance: how many of the 64 bits differ."""
        return (self.value ^ other.value).bit_count()


@dataclass(frozen=True)
class PhotoChecks:
    """The checks' result: warnings to show before the engineer leaves the meter."""

    blur_score: int  # Laplacian variance of the thumbnail; higher = sharper
    blurred: bool  # blur_score < BLUR_THRESHOLD
    dhash: DHash
    closest_distance: int | None  # to the nearest recent hash; None when no recent hashes were given
    reused: bool  # closest_distance <= REUSE_MAX_DISTANCE


def check_thumbnail(image: Image.Image, side_px: int = CHECK_SIDE_PX) -> Image.Image:
    """The greyscale image the checks run on: ``image`` reduced by an integer factor to ``side_px`` or less."""
    factor = max(1, math.ceil(max(image.size) / side_px))
    # reduce() is a box average over factor×factor blocks: cheap, and it keeps the edges a Laplacian needs.
    small = image.reduce(factor) if factor > 1 else image
    return small if small.mode == "L" else small.convert("L")


def blur_score(grey: Image.Image) -> int:
    """Variance of the Laplacian of an ``L`` image (the border row and column, copied unfiltered, left out)."""
    if grey.width < 3 or grey.height < 3:
        return 0
    edges = grey.filter(_LAPLACIAN).crop((1, 1, grey.width - 1, grey.height - 1))
    return round(ImageStat.Stat(edges).var[0])


def dhash(grey: Image.Image) -> DHash:
    """Difference hash of an ``L`` image: one bit per horizontal neighbour pair, set when the left is brighter."""
    # BOX: each of the 9×8 cells is the mean of its area, so JPEG noise and rescaling average out.
    cells = grey.resize(_HASH_SIZE, Image.Resampling.BOX).tobytes()
    width, height = _HASH_SIZE
    value = 0
    for row in range(height):
        for column in range(width - 1):
            left, right = cells[row * width + column], cells[row * width + column + 1]
            value = (value << 1) | (left > right)
    return DHash(value)


def closest_distance(photo: DHash, recent: Iterable[DHash]) -> int | None:
    """The smallest Hamming distance from ``photo`` to any of ``recent``; None when there are none."""
    return min((photo.distance(other) for other in recent), default=None)


def check_photo(image: Image.Image, recent: Iterable[DHash] = ()) -> PhotoChecks:
    """Blur and reuse checks of an upright image already in memory, against this route's recent photos."""
    grey = check_thumbnail(image)
    score = blur_score(grey)
    photo_hash = dhash(grey)
    distance = closest_distance(photo_hash, recent)
    return PhotoChecks(
        blur_score=score,
        blurred=score < BLUR_THRESHOLD,
        dhash=photo_hash,
        closest_distance=distance,
        reused=distance is not None and distance <= REUSE_MAX_DISTANCE,
    )
