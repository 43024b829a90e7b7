"""The rules of capturing one reading on the phone, without any UI: value, GPS fix, photo, skip, questions.

Views call these and show the messages; nothing here talks to a device. Rules: docs/domain.md "Register values"
(a blank read needs a reason code; below the previous reading ask "rollover, replaced meter, or typo?"; GPS
distance is a warning, never a block). What is wrong comes as a ``CaptureProblem``: views decide what to show or ask
by it, never by a message's words.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from shared_billing.checks import (
    DEFAULT_LIMITS,
    CheckLimits,
    ReadingFlag,
    check_below_previous,
    fix_distance_m,
    gps_flags,
)
from shared_billing.errors import NegativeRegisterValue, RegisterValueError, TooManyDecimals, TooManyDigits
from shared_billing.protocol import MeterAssignment, ReadingV1, ReadType, SkipReason
from shared_billing.readings import format_register_value, parse_register_value

__all__ = [
    "BELOW_PREVIOUS_QUESTION",
    "CORRECT_THE_VALUE",
    "BelowPreviousAnswer",
    "CaptureDraft",
    "CaptureError",
    "CaptureProblem",
    "Fix",
    "ValueCheck",
    "build_reading",
    "check_value",
    "distance_m",
    "distance_warning",
    "usable_fix",
]

BELOW_PREVIOUS_QUESTION = "Below the previous reading: rollover, replaced meter, or typo?"
CORRECT_THE_VALUE = "Correct the value, then save"

SKIP_LABELS = {
    SkipReason.NO_ACCESS: "No access",
    SkipReason.LOCKED: "Locked",
    SkipReason.DOG: "Dog",
    SkipReason.METER_DAMAGED: "Meter damaged",
    SkipReason.METER_MISSING: "Meter missing",
    SkipReason.UNREADABLE: "Unreadable",
    SkipReason.OTHER: "Other",
}


class CaptureProblem(StrEnum):
    """What keeps a draft from being saved, or what its typed value still needs."""

    VALUE_MISSING = "value_missing"
    NOT_A_READING = "not_a_reading"
    NEGATIVE_VALUE = "negative_value"
    TOO_MANY_DIGITS = "too_many_digits"
    TOO_MANY_DECIMALS = "too_many_decimals"
    # A number, but below the previous reading: the engineer answers rollover, replaced meter or typo.
    BELOW_PREVIOUS = "below_previous"
    TYPO_TO_CORRECT = "typo_to_correct"  # the answer was "typo": the value must change before a save
    PHOTO_MISSING = "photo_missing"
    VALUE_ON_SKIP = "value_on_skip"
    NOTE_MISSING = "note_missing"  # a skip for "Other" says why


# The register parser's refusals (docs/domain.md "Register values"), by their error codes.
_VALUE_PROBLEMS = {
    RegisterValueError.code: CaptureProblem.NOT_A_READING,
    NegativeRegisterValue.code: CaptureProblem.NEGATIVE_VALUE,
    TooManyDigits.code: CaptureProblem.TOO_MANY_DIGITS,
    TooManyDecimals.code: CaptureProblem.TOO_MANY_DECIMALS,
}


class CaptureError(Exception):
    """A draft that cannot be saved yet: ``problem`` says what kind, ``message`` is shown to the engineer as it is."""

    def __init__(self, problem: CaptureProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True)
class ValueCheck:
    """A typed register value, checked: the value when it is a number, and what is wrong or still needed."""

    value: Decimal | None
    problem: CaptureProblem | None = None
    message: str | None = None

    @property
    def asks_below_previous(self) -> bool:
        return self.problem is CaptureProblem.BELOW_PREVIOUS

    @property
    def field_error(self) -> str | None:
        """The words under the field while typing: the value's own faults only. An empty field is no fault yet, and
        a value below the previous one is a question, asked apart."""
        if self.problem in (None, CaptureProblem.VALUE_MISSING, CaptureProblem.BELOW_PREVIOUS):
            return None
        return self.message


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


def check_value(meter: MeterAssignment, text: str) -> ValueCheck:
    """The typed value parsed as the server parses it, and compared with the meter's previous reading."""
    if not text.strip():
        return ValueCheck(None, CaptureProblem.VALUE_MISSING, "Enter the register value")
    try:
        value = parse_register_value(text.strip(), dials=meter.dials, decimals=meter.decimals)
    except RegisterValueError as error:
        return ValueCheck(None, _VALUE_PROBLEMS.get(error.code, CaptureProblem.NOT_A_READING), error.message)
    previous = Decimal(meter.previous.value) if meter.previous is not None else None
    if check_below_previous(value, previous) is ReadingFlag.BELOW_PREVIOUS:
        return ValueCheck(value, CaptureProblem.BELOW_PREVIOUS, BELOW_PREVIOUS_QUESTION)
    return ValueCheck(value)


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
            raise CaptureError(
                CaptureProblem.VALUE_ON_SKIP, "A skipped meter has no value: clear the value or the skip reason"
            )
        note = draft.note.strip() or None
        if draft.skip_reason is SkipReason.OTHER and not note:
            raise CaptureError(CaptureProblem.NOTE_MISSING, "Say why in the note when the reason is Other")
        return ReadingV1(read_type=ReadType.SKIP, skip_reason=draft.skip_reason, note=note, **common)
    check = check_value(draft.meter, draft.value_text)
    if check.value is None:
        # No value: check_value always says why.
        assert check.problem is not None
        assert check.message is not None
        raise CaptureError(check.problem, check.message)
    value = check.value
    if draft.photo_sha256 is None:
        raise CaptureError(CaptureProblem.PHOTO_MISSING, "Add a photo of the meter")
    read_type = ReadType.ACTUAL
    note = draft.note.strip()
    if check.asks_below_previous:
        answer = draft.below_previous_answer
        if answer is None:
            raise CaptureError(CaptureProblem.BELOW_PREVIOUS, BELOW_PREVIOUS_QUESTION)
        if answer is BelowPreviousAnswer.TYPO:
            raise CaptureError(CaptureProblem.TYPO_TO_CORRECT, CORRECT_THE_VALUE)
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
