"""Advisory plausibility checks on a reading: each returns a flag code or ``None``, and never blocks a save.

docs/domain.md "Advisory checks": store accuracy; a fix worse than a threshold (50 m) is flagged; distance
from the meter's registered location minus accuracy beyond a radius (100 m) is flagged, never blocking the save
(indoor meter rooms have poor fixes). docs/architecture.md "Time": device clock drift above 10 minutes is flagged.
A value below the previous one may be a rollover, a replaced meter or a typo: a supervisor decides, so it is
a flag here, while billing refuses it (``reading.below_previous``, ``shared_billing.errors.BelowPrevious``)
unless it is a plausible rollover (``shared_billing.consumption``).

The GPS verdict (``gps_flags``, with ``fix_distance_m``) is the same function on the phone, which warns before
the save with the society's limits from the last pull, and on the server, which flags the stored reading: the same
fix and limits get the same verdict. Distance is great-circle (a sphere of the mean Earth radius, as geopy's
``great_circle``): within 0.5 % of the ellipsoid at these ranges (half a metre at the 100 m radius), a few
floating-point operations in the standard library, and cheap enough for 500 readings a push.

A protocol-3 reading may carry evidence (docs/review.md "Evidence"). A label that confirms the meter proves the
engineer stood at it better than a fix indoors can, so the GPS verdict no longer counts against the reading
(``presence_flags``); a label naming another meter, and a photo warning the engineer overrode, are flagged for the
supervisor (``evidence_flags``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from geopy.distance import great_circle

from shared_billing.labels import LabelVerdict

__all__ = [
    "DEFAULT_LIMITS",
    "CheckLimits",
    "ReadingFlag",
    "check_below_previous",
    "check_clock_drift",
    "check_gps_far",
    "check_gps_inaccurate",
    "check_gps_missing",
    "evidence_flags",
    "fix_distance_m",
    "gps_flags",
    "great_circle_m",
    "presence_by_label",
    "presence_flags",
    "reading_flags",
]


class ReadingFlag(StrEnum):
    """Advisory flag codes, as stored with a reading and sent in ``PushResult.flags``; the one name of each."""

    # Below the previous approved value: flagged at the push, and by a bill run that refuses to bill it.
    BELOW_PREVIOUS = "below_previous"
    GPS_MISSING = "gps_missing"
    GPS_INACCURATE = "gps_inaccurate"
    GPS_FAR = "gps_far"
    CLOCK_DRIFT = "clock_drift"
    SECOND_READ_IN_PERIOD = "second_read_in_period"  # the server's: it knows the meter's other readings
    PHOTO_PENDING = "photo_pending"  # in a push result only, never stored: the photo may still arrive
    # Outside the window the meter's history expects for the day (``shared_billing.plausibility``); the engineer
    # re-keyed it and a photo proves it (a "verified" read).
    OUTSIDE_WINDOW = "outside_window"
    # Protocol 3's evidence: the phone warned of a blurred photo, or one like another of the route, and the
    # engineer kept it with a reason the supervisor reads beside the flag.
    PHOTO_BLURRED = "photo_blurred"
    PHOTO_REUSED = "photo_reused"
    LABEL_OTHER_METER = "label_other_meter"  # the label scanned names another meter than the one read


@dataclass(frozen=True)
class CheckLimits:
    """Thresholds of the advisory checks (docs/architecture.md "Limits"); a society may configure its own."""

    gps_accuracy_limit_m: float = 50.0
    gps_radius_m: float = 100.0
    clock_drift_limit: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.gps_accuracy_limit_m < 0 or self.gps_radius_m < 0:
            raise ValueError("GPS limits must be ≥ 0 metres")
        if self.clock_drift_limit < timedelta(0):
            raise ValueError("the clock drift limit must be ≥ 0")


DEFAULT_LIMITS = CheckLimits()


#: Mean Earth radius in metres (IUGG), the sphere geopy's ``great_circle`` uses too.
def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two positions on the sphere (geopy's great circle).

    The sphere rather than the ellipsoid: within 0.6 % of geodesic at these ranges (the checks have a 100 m
    radius) and several times cheaper, which matters when the server judges 500 readings in one push.
    """
    return float(great_circle((lat1, lon1), (lat2, lon2)).meters)


def fix_distance_m(
    meter_lat: float | None, meter_lon: float | None, gps_lat: float | None, gps_lon: float | None
) -> float | None:
    """Metres from the meter's registered location to the fix; None when either position is unknown."""
    if meter_lat is None or meter_lon is None or gps_lat is None or gps_lon is None:
        return None
    return great_circle_m(meter_lat, meter_lon, gps_lat, gps_lon)


def check_below_previous(value: Decimal | None, previous_value: Decimal | None) -> ReadingFlag | None:
    """``below_previous`` when the value is below the previous approved value (rollover, replacement, typo?).

    No value (a skip) or no previous approved reading gives no flag; an equal value is zero consumption.
    """
    if value is None or previous_value is None:
        return None
    return ReadingFlag.BELOW_PREVIOUS if value < previous_value else None


def check_gps_missing(lat: float | None, lon: float | None) -> ReadingFlag | None:
    """``gps_missing`` when the reading carries no position fix."""
    return ReadingFlag.GPS_MISSING if lat is None or lon is None else None


def check_gps_inaccurate(accuracy_m: float | None, limits: CheckLimits = DEFAULT_LIMITS) -> ReadingFlag | None:
    """``gps_inaccurate`` when the fix's accuracy radius is worse than the limit (default 50 m).

    A fix without an accuracy figure cannot be trusted either, so it is flagged too.
    """
    if accuracy_m is None or accuracy_m > limits.gps_accuracy_limit_m:
        return ReadingFlag.GPS_INACCURATE
    return None


def check_gps_far(
    distance_m: float | None, accuracy_m: float | None, limits: CheckLimits = DEFAULT_LIMITS
) -> ReadingFlag | None:
    """``gps_far`` when distance − accuracy exceeds the radius (default 100 m): the reader was elsewhere.

    ``distance_m`` is from the fix to the meter's registered location, computed by the caller; ``None`` (no
    registered location, or no fix) gives no flag. A missing accuracy counts as 0 m, the strictest reading.
    """
    if distance_m is None:
        return None
    if distance_m - (accuracy_m or 0.0) > limits.gps_radius_m:
        return ReadingFlag.GPS_FAR
    return None


def check_clock_drift(
    sent_at: datetime, received_at: datetime, limits: CheckLimits = DEFAULT_LIMITS
) -> ReadingFlag | None:
    """``clock_drift`` when device ``sent_at`` and server ``received_at`` differ by more than the limit.

    Both times must be timezone-aware (a naive time is a caller bug: ``ValueError``).
    """
    if sent_at.utcoffset() is None or received_at.utcoffset() is None:
        raise ValueError("sent_at and received_at must be timezone-aware")
    if abs(sent_at - received_at) > limits.clock_drift_limit:
        return ReadingFlag.CLOCK_DRIFT
    return None


def gps_flags(
    gps_lat: float | None,
    gps_lon: float | None,
    gps_accuracy_m: float | None,
    distance_m: float | None,
    limits: CheckLimits = DEFAULT_LIMITS,
) -> list[ReadingFlag]:
    """The GPS verdict on a fix, in ``ReadingFlag`` order: only ``gps_missing`` without a position, otherwise
    ``gps_inaccurate`` and/or ``gps_far``. ``distance_m`` is ``fix_distance_m`` of the meter and the fix."""
    missing = check_gps_missing(gps_lat, gps_lon)
    if missing is not None:
        return [missing]
    found = [check_gps_inaccurate(gps_accuracy_m, limits), check_gps_far(distance_m, gps_accuracy_m, limits)]
    return [flag for flag in found if flag is not None]


def presence_by_label(label: LabelVerdict | None) -> bool:
    """Whether the meter's label, scanned at the reading, proves the engineer was at the meter."""
    return label is LabelVerdict.CONFIRMED


def presence_flags(gps: list[ReadingFlag], label: LabelVerdict | None) -> list[ReadingFlag]:
    """The GPS flags that still count against a reading given its label: none when the label confirms the meter
    (a meter room's fix is often poor or far; the label is the better proof), all of them otherwise."""
    return [] if presence_by_label(label) else gps


def evidence_flags(*, label: LabelVerdict | None, photo_blurred: bool, photo_reused: bool) -> list[ReadingFlag]:
    """The flags a reading's evidence raises, in ``ReadingFlag`` order: each photo warning the engineer overrode
    (a verdict reaches the server only with its reason), and a label that names another meter."""
    found = [
        ReadingFlag.PHOTO_BLURRED if photo_blurred else None,
        ReadingFlag.PHOTO_REUSED if photo_reused else None,
        ReadingFlag.LABEL_OTHER_METER if label is LabelVerdict.OTHER_METER else None,
    ]
    return [flag for flag in found if flag is not None]


def reading_flags(
    *,
    value: Decimal | None,
    previous_value: Decimal | None,
    gps_lat: float | None,
    gps_lon: float | None,
    gps_accuracy_m: float | None,
    distance_m: float | None = None,
    sent_at: datetime | None = None,
    received_at: datetime | None = None,
    limits: CheckLimits = DEFAULT_LIMITS,
    label: LabelVerdict | None = None,
) -> list[ReadingFlag]:
    """The value's, the fix's and the clock's advisory flags for one reading, in ``ReadingFlag`` order.

    GPS fields are required (pass explicit ``None`` when there is no fix, as the protocol does) so that a
    forgotten argument cannot pass for a missing fix. Without a fix only ``gps_missing`` is reported, and with a
    ``label`` that confirms the meter no GPS flag is (``presence_flags``). The clock check runs only when both
    ``sent_at`` and ``received_at`` are given (a phone preview has no receipt time).
    """
    flags = [
        check_below_previous(value, previous_value),
        *presence_flags(gps_flags(gps_lat, gps_lon, gps_accuracy_m, distance_m, limits), label),
    ]
    if sent_at is not None and received_at is not None:
        flags.append(check_clock_drift(sent_at, received_at, limits))
    return [flag for flag in flags if flag is not None]
