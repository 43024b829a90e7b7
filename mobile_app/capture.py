"""The rules of capturing one reading on the phone, without any UI: value, GPS fix, photo, skip, questions.

Views call these and show the messages; nothing here talks to a device. Rules: docs/domain.md "Register values"
(a blank read needs a reason code; below the previous reading ask "rollover, replaced meter, or typo?"; GPS
distance is a warning, never a block).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from shared_billing.checks import DEFAULT_LIMITS, CheckLimits, ReadingFlag, fix_distance_m, gps_flags
from shared_billing.errors import BillingError
from shared_billing.protocol import MeterAssignment, ReadingV1, ReadType, SkipReason
from shared_billing.readings import format_register_value, parse_register_value

__all__ = [
    "BelowPreviousAnswer",
    "CaptureDraft",
    "CaptureError",
    "Fix",
    "build_reading",
    "check_value",
    "distance_m",
    "distance_warning",
    "is_below_previous",
    "usable_fix",
]

SKIP_LABELS = {
    SkipReason.NO_ACCESS: "No access",
    SkipReason.LOCKED: "Locked",
    SkipReason.DOG: "Dog",
    SkipReason.METER_DAMAGED: "Meter damaged",
    SkipReason.METER_MISSING: "Meter missing",
    SkipReason.UNREADABLE: "Unreadable",
    SkipReason.OTHER: "Other",
}


class CaptureError(Exception):
    """A draft that cannot be saved yet; ``message`` is shown to the engineer as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BelowPreviousAnswer(StrEnum):
    ROLLOVER = "rollover"
    REPLACED = "replaced"
    TYPO = "typo"


# The protocol's bound for a fix's accuracy (a fix worse than 100 km is noise, not a position).
MAX_ACCURACY_M = 100_000.0


@dataclass(frozen=True)
class Fix:
    """A GPS fix as the device reported it (never typed)."""

    lat: float
    lon: float
    accuracy_m: float | None


def _within(value: float, low: float, high: float) -> bool:
    # NaN fails every comparison and infinities fail the bounds, so this is also the finiteness check.
    return math.isfinite(value) and low <= value <= high


def usable_fix(fix: Fix | None) -> Fix | None:
    """The fix with finite, in-range numbers only, or None when its position is not a real place.

    Devices and browsers have reported NaN or infinite coordinates; JSON cannot carry them and the protocol
    refuses them, so such a position is no fix at all (the server flags the reading "no GPS" instead), and an
    accuracy that is not a finite number between 0 and ``MAX_ACCURACY_M`` is unknown.
    """
    if fix is None or not (_within(fix.lat, -90.0, 90.0) and _within(fix.lon, -180.0, 180.0)):
        return None
    if fix.accuracy_m is None or _within(fix.accuracy_m, 0.0, MAX_ACCURACY_M):
        return fix
    return Fix(lat=fix.lat, lon=fix.lon, accuracy_m=None)


@dataclass
class CaptureDraft:
    meter: MeterAssignment
    value_text: str = ""
    fix: Fix | None = None
    photo_sha256: str | None = None
    photo_path: Path | None = None
    skip_reason: SkipReason | None = None
    note: str = ""
    below_previous_answer: BelowPreviousAnswer | None = None
    replaces: uuid.UUID | None = None
    warnings: list[str] = field(default_factory=list)


def check_value(meter: MeterAssignment, text: str) -> tuple[Decimal | None, str | None]:
    """The parsed value, or the message to show under the field."""
    if not text.strip():
        return None, "Enter the register value"
    try:
        return parse_register_value(text.strip(), dials=meter.dials, decimals=meter.decimals), None
    except BillingError as error:
        return None, error.message


def is_below_previous(meter: MeterAssignment, value: Decimal) -> bool:
    return meter.previous is not None and value < Decimal(meter.previous.value)


def distance_m(meter: MeterAssignment, fix: Fix) -> float | None:
    """Metres from the meter's registered location; None when either position is unknown or not finite."""
    usable = usable_fix(fix)
    if usable is None:
        return None
    return fix_distance_m(meter.lat, meter.lon, usable.lat, usable.lon)


def distance_warning(meter: MeterAssignment, fix: Fix | None, limits: CheckLimits = DEFAULT_LIMITS) -> str | None:
    """A warning when the server will flag the fix (the save goes ahead): the server's own GPS verdict
    (``shared_billing.checks.gps_flags``) with the society's limits from the last pull, in words."""
    fix = usable_fix(fix)
    flags = gps_flags(
        fix.lat if fix else None,
        fix.lon if fix else None,
        fix.accuracy_m if fix else None,
        distance_m(meter, fix) if fix else None,
        limits,
    )
    if fix is None or ReadingFlag.GPS_MISSING in flags:
        return "No GPS fix: the reading will be flagged for the supervisor"
    if ReadingFlag.GPS_INACCURATE in flags:
        if fix.accuracy_m is None:
            return "GPS accuracy unknown: the reading will be flagged for the supervisor"
        return f"GPS accuracy is poor (±{fix.accuracy_m:.0f} m)"
    if ReadingFlag.GPS_FAR in flags:
        return f"You are {distance_m(meter, fix) or 0.0:.0f} m from this meter's registered location"
    return None


def build_reading(draft: CaptureDraft, *, captured_at: datetime, new_id: uuid.UUID | None = None) -> ReadingV1:
    """The protocol reading for a complete draft; raises ``CaptureError`` with what is missing.

    Only finite GPS numbers go into the reading (``usable_fix``): the reading is hashed as saved and never
    changes afterwards, so this is the one place they can be dropped without the payload hash disagreeing.
    """
    fix = usable_fix(draft.fix)
    common = {
        "uuid": new_id or uuid.uuid4(),
        "meter_id": draft.meter.meter_id,
        "captured_at": captured_at,
        "gps_lat": fix.lat if fix else None,
        "gps_lon": fix.lon if fix else None,
        "gps_accuracy_m": fix.accuracy_m if fix else None,
        "replaces": draft.replaces,
    }
    if draft.skip_reason is not None:
        if draft.value_text.strip():
            raise CaptureError("A skipped meter has no value: clear the value or the skip reason")
        note = draft.note.strip() or None
        if draft.skip_reason is SkipReason.OTHER and not note:
            raise CaptureError("Say why in the note when the reason is Other")
        return ReadingV1(read_type=ReadType.SKIP, skip_reason=draft.skip_reason, note=note, **common)
    value, error = check_value(draft.meter, draft.value_text)
    if value is None:
        raise CaptureError(error or "Enter the register value")
    if draft.photo_sha256 is None:
        raise CaptureError("Add a photo of the meter")
    read_type = ReadType.ACTUAL
    note = draft.note.strip()
    if is_below_previous(draft.meter, value):
        answer = draft.below_previous_answer
        if answer is None:
            raise CaptureError("Below the previous reading: rollover, replaced meter, or typo?")
        if answer is BelowPreviousAnswer.TYPO:
            raise CaptureError("Correct the value, then save")
        # The reader confirmed an out-of-range value: a verified read, with the reason for the supervisor.
        read_type = ReadType.VERIFIED
        reason = "Meter rolled over" if answer is BelowPreviousAnswer.ROLLOVER else "Meter replaced"
        note = f"{reason}. {note}".strip() if note else reason
    return ReadingV1(
        read_type=read_type,
        value=format_register_value(value, decimals=draft.meter.decimals),
        photo_sha256=draft.photo_sha256,
        note=note or None,
        **common,
    )
