"""The meter's label: its QR code, read on the phone with OpenCV, confirms which meter is in front of the engineer
(docs/field-app.md "The meter's label").

A label carries the meter number, alone or inside a longer text (a utility's URL or ``SN:40012102``). The photo or
camera frame is turned upright (EXIF), made grey and scaled to at most ``MAX_SIDE_PX`` before OpenCV's QR detector
looks at it: a label fills a good part of a close-up, and a full 12 MP frame only costs time.
"""

from __future__ import annotations

import io
from typing import Final

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# The rule lives with the server's (shared_billing.labels): phone and server judge a label alike.
from shared_billing.labels import LabelVerdict, label_verdict

__all__ = ["MAX_SIDE_PX", "LabelVerdict", "label_verdict", "scan_label"]

MAX_SIDE_PX: Final = 1600


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
