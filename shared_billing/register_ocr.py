"""What a text recogniser's findings on a meter photo say about the register, and whether it agrees with the value
the engineer typed (docs/review.md "OCR"). Pure: the server runs the recogniser, this decides.

A meter face carries other text (kWh, the serial number, "1P 2W"); the register is the largest run of digits on it,
so the candidate is the tallest text that is a number (digits with at most one decimal point), the most confident
among equally tall ones. Typed and read values agree when they are the same number; a read without its decimal point
(the point on a register is often a faint dot or a red drum) agrees when its digits are the typed value's digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shared_billing.protocol import OcrVerdict

__all__ = ["Found", "RegisterRead", "ocr_verdict", "register_read"]

_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)?")
# Within this share of the tallest number's height, texts count as equally tall (the recogniser's boxes wobble).
_SAME_HEIGHT = 0.8


@dataclass(frozen=True)
class Found:
    """One text the recogniser found: what it read, how sure it is (0–1) and how tall its box is, in pixels."""

    text: str
    confidence: float
    height: float


@dataclass(frozen=True)
class RegisterRead:
    """The register value read off a photo, as written there (``"04521"``, ``"01234.5"``), and the confidence."""

    value: str
    confidence: Decimal


def register_read(found: Iterable[Found]) -> RegisterRead | None:
    """The register among the texts found, or None when no text is a number."""
    numbers = [
        (item, compact) for item in found if _NUMBER.fullmatch(compact := re.sub(r"\s+", "", item.text)) is not None
    ]
    if not numbers:
        return None
    tallest = max(item.height for item, _ in numbers)
    tall = [(item, compact) for item, compact in numbers if item.height >= tallest * _SAME_HEIGHT]
    item, compact = max(tall, key=lambda pair: (pair[0].confidence, len(pair[1])))
    confidence = Decimal(str(round(item.confidence, 3)))
    return RegisterRead(value=compact.replace(",", "."), confidence=confidence)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text).lstrip("0") or "0"


def ocr_verdict(read: RegisterRead | None, typed: str | None) -> OcrVerdict:
    """Match, mismatch or unreadable (no register read); a skip (no typed value) with a readable photo is a mismatch:
    the photo shows a value the engineer said could not be read."""
    if read is None:
        return OcrVerdict.UNREADABLE
    if typed is None:
        return OcrVerdict.MISMATCH
    try:
        same_number = Decimal(read.value) == Decimal(typed)
    except InvalidOperation:
        same_number = False
    point_missed = "." not in read.value and _digits(read.value) == _digits(typed)
    return OcrVerdict.MATCH if same_number or point_missed else OcrVerdict.MISMATCH
