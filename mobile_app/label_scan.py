"""The meter's label: its QR code, read on the phone with OpenCV, confirms which meter is in front of the engineer
(docs/field-app.md "The meter's label").

A label carries the meter number, alone or inside a longer text (a utility's URL or ``SN:40012102``). The photo or
camera frame is turned upright (EXIF), made grey and scaled to at most ``MAX_SIDE_PX`` before OpenCV's QR detector
looks at it: a label fills a good part of a close-up, and a full 12 MP frame only costs time.
"""

from __future__ import annotations

import io
import re
from enum import StrEnum
from typing import Final

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["MAX_SIDE_PX", "LabelVerdict", "label_verdict", "scan_label"]

MAX_SIDE_PX: Final = 1600
_TOKENS = re.compile(r"[A-Za-z0-9]+")


class LabelVerdict(StrEnum):
    CONFIRMED = "confirmed"  # the label names the selected meter
    OTHER_METER = "other_meter"  # it names another: the engineer is warned before saving
    NO_LABEL = "no_label"  # nothing could be read off the picture


def scan_label(data: bytes) -> str | None:
    """The text of the QR code on a photo's bytes, or None when there is none (or the bytes are not a picture)."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("L")
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX), Image.Resampling.BILINEAR)
    text, _points, _straight = cv2.QRCodeDetector().detectAndDecode(np.asarray(image))
    return str(text).strip() or None


def label_verdict(scanned: str | None, meter_number: str) -> LabelVerdict:
    """Whether the label read names ``meter_number``: the whole text, or one of its words (``SN:40012102``, a URL
    ending ``/40012102``), compared without regard to case."""
    if not scanned:
        return LabelVerdict.NO_LABEL
    wanted = meter_number.strip().upper()
    words = {token.upper() for token in _TOKENS.findall(scanned)}
    return LabelVerdict.CONFIRMED if scanned.strip().upper() == wanted or wanted in words else LabelVerdict.OTHER_METER
