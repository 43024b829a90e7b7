"""The rules of capturing one reading on the phone, without any UI: value, GPS fix, photo, skip, questions.

Views call these and show the messages; nothing here talks to a device. Rules: docs/domain.md "Register values"
(a blank read needs a reason code; below the previous reading ask "rollover, replaced meter, or typo?"; GPS
distance is a warning, never a block) and "Expected window" (a value outside the window the meter's history allows
is typed twice and saved as a verified read; rollover is offered only when ``plausibility.rollover_offered`` says
so). What is wrong comes as a ``CaptureProblem``: views decide what to show or ask by it, never by a message's
words. Messages are translated where they are raised (``_``), constants where they are shown (``N_``).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from mobile_app.i18n import N_, _
from mobile_app.photo_checks import PhotoChecks
from shared_billing.checks import (
    DEFAULT_LIMITS,
    CheckLimits,
    ReadingFlag,
    check_below_previous,
    fix_distance_m,
    gps_flags,
)
from shared_billing.consumption import MeterRegister
from shared_billing.errors import NegativeRegisterValue, RegisterValueError, TooManyDecimals, TooManyDigits
from shared_billing.plausibility import ExpectedWindow, Usage, outside_window, rollover_offered, usage_from_wire
from shared_billing.protocol import (
    Evidence,
    MeterAssignment,
    PhotoCheckVerdict,
    ReadingV3,
    ReadType,
    SkipReason,
)
from shared_billing.readings import format_register_value, parse_register_value

__all__ = [
    "BELOW_PREVIOUS_NO_ROLLOVER",
    "BELOW_PREVIOUS_QUESTION",
    "CONFIRMED_OUTSIDE_NOTE",
    "CORRECT_THE_VALUE",
    "LABEL_MAX_CHARS",
    "OVERRIDE_MAX_CHARS",
    "PHOTO_BLURRED",
    "PHOTO_REUSED",
    "SKIP_LABELS",
    "BelowPreviousAnswer",
    "CaptureDraft",
    "CaptureError",
    "CaptureProblem",
    "Fix",
    "ValueCheck",
    "below_previous_answers",
    "build_reading",
    "check_value",
    "consumption_units",
    "distance_m",
    "distance_warning",
    "evidence",
    "is_outside_window",
    "label_text",
    "meter_register",
    "meter_usage",
    "photo_warnings",
    "usable_fix",
]

BELOW_PREVIOUS_QUESTION = N_("Below the previous reading: rollover, replaced meter, or typo?")
# Asked when rollover is not plausible for the drop (docs/domain.md "Expected window"): the other two answers only.
BELOW_PREVIOUS_NO_ROLLOVER = N_("Below the previous reading: replaced meter, or typo?")
CORRECT_THE_VALUE = N_("Correct the value, then save")
CONFIRMED_OUTSIDE_NOTE = N_("Confirmed outside the expected range ({low} to {high})")
PHOTO_BLURRED = N_("Photo looks blurred — retake, or keep it with a reason")
PHOTO_REUSED = N_("This photo looks like one already taken on this route")
# The protocol's bounds (``PhotoCheckOverride``, ``LabelText``): the form and the scan stay inside them.
OVERRIDE_MAX_CHARS = 200
LABEL_MAX_CHARS = 256

SKIP_LABELS = {
    SkipReason.NO_ACCESS: N_("No access"),
    SkipReason.LOCKED: N_("Locked"),
    SkipReason.DOG: N_("Dog"),
    SkipReason.METER_DAMAGED: N_("Meter damaged"),
    SkipReason.METER_MISSING: N_("Meter missing"),
    SkipReason.UNREADABLE: N_("Unreadable"),
    SkipReason.OTHER: N_("Other"),
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
    # Outside the expected window: the engineer types the value a second time (a misread digit rarely repeats).
    CONFIRMATION_NEEDED = "confirmation_needed"
    CONFIRMATION_MISMATCH = "confirmation_mismatch"
    ROLLOVER_NOT_PLAUSIBLE = "rollover_not_plausible"  # "rollover" answered where the shared rule refuses it
    REPLACEMENT_DETAILS = "replacement_details"  # "meter replaced" is saved with its form, never as a plain read
    # The photo checks warned (blurred, or like one already taken): retake it, or keep it with a reason.
    PHOTO_CHECK_REASON = "photo_check_reason"


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
    # Today's expected window (``FieldService.window``), None without history; the value typed a second time when
    # the first is outside it.
    window: ExpectedWindow | None = None
    confirm_text: str = ""
    # Evidence (protocol 3): the attached photo's checks and why a warned photo is kept; the meter's label as
    # scanned; the meter-room session the reading is taken in.
    photo_checks: PhotoChecks | None = None
    photo_override: str = ""
    label: str | None = None
    room_session: uuid.UUID | None = None


def meter_register(meter: MeterAssignment) -> MeterRegister:
    """The register the shared rules judge: the assignment's dials, decimals and multiplying factor."""
    return MeterRegister(dials=meter.dials, decimals=meter.decimals, multiplier=Decimal(meter.multiplier))


def meter_usage(meter: MeterAssignment) -> Usage | None:
    """The meter's usual daily use as the pull delivered it (``MeterAssignment.usage``), for the shared rules."""
    return usage_from_wire(meter.usage) if meter.usage is not None else None


def consumption_units(meter: MeterAssignment, value: Decimal) -> Decimal | None:
    """Units since the previous reading as the engineer types (× the multiplier, at the meter's precision); None
    without a previous reading or below it (a question, not a consumption)."""
    if meter.previous is None:
        return None
    previous = Decimal(meter.previous.value)
    if value < previous:
        return None
    return meter_register(meter).units(value - previous)


def is_outside_window(value: Decimal, window: ExpectedWindow | None) -> bool:
    """Whether ``value`` needs confirming: outside today's window (never without one: no history, no judgement)."""
    return window is not None and outside_window(value, window)


def below_previous_answers(meter: MeterAssignment, value: Decimal, at: datetime) -> tuple[BelowPreviousAnswer, ...]:
    """The answers offered for a value below the previous reading: rollover only when the shared rule finds it
    plausible for this meter's register and usual use (43727 → 120 on six dials is not a rollover)."""
    answers = (BelowPreviousAnswer.REPLACED, BelowPreviousAnswer.TYPO)
    if meter.previous is None:
        return answers
    if rollover_offered(meter_register(meter), Decimal(meter.previous.value), value, usage=meter_usage(meter), at=at):
        return (BelowPreviousAnswer.ROLLOVER, *answers)
    return answers


def check_value(meter: MeterAssignment, text: str) -> ValueCheck:
    """The typed value parsed as the server parses it, and compared with the meter's previous reading."""
    if not text.strip():
        return ValueCheck(None, CaptureProblem.VALUE_MISSING, _("Enter the register value"))
    try:
        value = parse_register_value(text.strip(), dials=meter.dials, decimals=meter.decimals)
    except RegisterValueError as error:
        return ValueCheck(None, _VALUE_PROBLEMS.get(error.code, CaptureProblem.NOT_A_READING), error.message)
    previous = Decimal(meter.previous.value) if meter.previous is not None else None
    if check_below_previous(value, previous) is ReadingFlag.BELOW_PREVIOUS:
        return ValueCheck(value, CaptureProblem.BELOW_PREVIOUS, _(BELOW_PREVIOUS_QUESTION))
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
        return _("No GPS fix: the reading will be flagged for the supervisor")
    if ReadingFlag.GPS_INACCURATE in flags:
        if fix.accuracy_m is None:
            return _("GPS accuracy unknown: the reading will be flagged for the supervisor")
        return _("GPS accuracy is poor (±{metres} m)").format(metres=f"{fix.accuracy_m:.0f}")
    if ReadingFlag.GPS_FAR in flags:
        return _("You are {metres} m from this meter's registered location").format(
            metres=f"{distance_m(meter, fix) or 0.0:.0f}"
        )
    return None


def photo_warnings(checks: PhotoChecks | None) -> list[str]:
    """What the photo checks warn about, in words (none for a sharp, new photo)."""
    if checks is None:
        return []
    return [_(text) for flagged, text in ((checks.blurred, PHOTO_BLURRED), (checks.reused, PHOTO_REUSED)) if flagged]


def label_text(scanned: str | None) -> str | None:
    """A scanned label as the protocol carries it: without NULs, at most ``LABEL_MAX_CHARS``; None when empty."""
    text = (scanned or "").replace("\x00", "").strip()[:LABEL_MAX_CHARS].strip()
    return text or None


def _photo_verdict(draft: CaptureDraft) -> PhotoCheckVerdict | None:
    """The photo checks as the reading carries them; raises when a warned photo has no reason to be kept."""
    checks = draft.photo_checks
    if checks is None or draft.photo_sha256 is None:
        return None
    # Typed on a phone keyboard, but a pasted NUL would make the reading unsendable: the protocol refuses it.
    reason = draft.photo_override.replace("\x00", "").strip()[:OVERRIDE_MAX_CHARS].strip() or None
    warnings = photo_warnings(checks)
    if warnings and reason is None:
        raise CaptureError(CaptureProblem.PHOTO_CHECK_REASON, " ".join(warnings))
    return PhotoCheckVerdict(
        blur_score=min(checks.blur_score, 10_000_000),
        blurred=checks.blurred,
        reuse_distance=checks.closest_distance,
        reused=checks.reused,
        # A reason typed for a warning the photo no longer has (retaken since) is not the photo's.
        override_reason=reason if warnings else None,
    )


def evidence(draft: CaptureDraft, *, with_photo: bool = True) -> Evidence | None:
    """What the reading carries beyond value, fix and photo; None when there is nothing to say (a protocol 1 or 2
    reading, its bytes and hash unchanged)."""
    verdict = _photo_verdict(draft) if with_photo else None
    found = Evidence(photo_checks=verdict, label=label_text(draft.label), room_session=draft.room_session)
    return found if found != Evidence() else None


def build_reading(draft: CaptureDraft, *, captured_at: datetime, new_id: uuid.UUID | None = None) -> ReadingV3:
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
                CaptureProblem.VALUE_ON_SKIP, _("A skipped meter has no value: clear the value or the skip reason")
            )
        note = draft.note.strip() or None
        if draft.skip_reason is SkipReason.OTHER and not note:
            raise CaptureError(CaptureProblem.NOTE_MISSING, _("Say why in the note when the reason is Other"))
        # A skip has no photo: only the label and the room say something.
        found = evidence(draft, with_photo=False)
        return ReadingV3(read_type=ReadType.SKIP, skip_reason=draft.skip_reason, note=note, evidence=found, **common)
    check = check_value(draft.meter, draft.value_text)
    if check.value is None:
        # No value: check_value always says why.
        assert check.problem is not None
        assert check.message is not None
        raise CaptureError(check.problem, check.message)
    value = check.value
    if draft.photo_sha256 is None:
        raise CaptureError(CaptureProblem.PHOTO_MISSING, _("Add a photo of the meter"))
    found = evidence(draft)
    read_type = ReadType.ACTUAL
    note = draft.note.strip()
    reason: str | None = None
    if check.asks_below_previous:
        reason = _below_previous_reason(draft, value, captured_at)
    elif is_outside_window(value, draft.window):
        assert draft.window is not None
        _check_confirmation(draft, value)
        # Notes are read by the supervisor in the society's language of record, so they stay untranslated.
        reason = CONFIRMED_OUTSIDE_NOTE.format(low=draft.window.low, high=draft.window.high)
    if reason is not None:
        # The reader confirmed an out-of-range value: a verified read, with the reason for the supervisor.
        read_type = ReadType.VERIFIED
        note = f"{reason}. {note}".strip() if note else reason
    return ReadingV3(
        read_type=read_type,
        value=format_register_value(value, decimals=draft.meter.decimals),
        photo_sha256=draft.photo_sha256,
        note=note or None,
        evidence=found,
        **common,
    )


def _below_previous_reason(draft: CaptureDraft, value: Decimal, captured_at: datetime) -> str:
    """The note of a confirmed drop below the previous reading, or why it cannot be saved as it is."""
    answer = draft.below_previous_answer
    offered = below_previous_answers(draft.meter, value, captured_at)
    if answer is None:
        question = BELOW_PREVIOUS_QUESTION if BelowPreviousAnswer.ROLLOVER in offered else BELOW_PREVIOUS_NO_ROLLOVER
        raise CaptureError(CaptureProblem.BELOW_PREVIOUS, _(question))
    if answer is BelowPreviousAnswer.TYPO:
        raise CaptureError(CaptureProblem.TYPO_TO_CORRECT, _(CORRECT_THE_VALUE))
    if answer is BelowPreviousAnswer.REPLACED:
        raise CaptureError(
            CaptureProblem.REPLACEMENT_DETAILS,
            _("Fill in the replaced meter's details: its final reading and the new meter's number and first reading"),
        )
    if answer not in offered:
        raise CaptureError(
            CaptureProblem.ROLLOVER_NOT_PLAUSIBLE,
            _("This drop is too large for the meter to have turned past its last dial: replaced meter, or typo?"),
        )
    return "Meter rolled over"


def _check_confirmation(draft: CaptureDraft, value: Decimal) -> None:
    """A value outside the window is saved only when typed twice alike (the same number, however written)."""
    window = draft.window
    assert window is not None
    if not draft.confirm_text.strip():
        raise CaptureError(
            CaptureProblem.CONFIRMATION_NEEDED,
            _("Outside the expected range ({low} to {high}): type the value again to confirm it").format(
                low=window.low, high=window.high
            ),
        )
    again = check_value(draft.meter, draft.confirm_text)
    if again.value != value:
        raise CaptureError(
            CaptureProblem.CONFIRMATION_MISMATCH,
            _("The two values differ: read the meter again and type the same value in both fields"),
        )
