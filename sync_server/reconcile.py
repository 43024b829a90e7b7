"""Pure judgement of one pushed reading: stored, duplicate, conflict or rejected, and its advisory flags.

No database here: ``ingest`` gathers the facts (meter, assignment, existing row, previous value) and applies the
verdict. Rules: docs/architecture.md "Protocol" and "Limits"; docs/domain.md "Register values", "Advisory checks"
and "Meter replacement" (a replacement's own checks: sync_server/replacement_check.py); docs/review.md "Evidence".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from shared_billing.checks import CheckLimits, ReadingFlag, evidence_flags, reading_flags
from shared_billing.consumption import MeterRegister
from shared_billing.errors import BillingError
from shared_billing.labels import LabelVerdict, label_verdict
from shared_billing.plausibility import Usage, expected_window, outside_window
from shared_billing.protocol import Outcome, ReadingStatus, ReadingV3, ReadType
from shared_billing.readings import parse_register_value
from sync_server.replacement_check import NamedMeter, Refusal, check_replacement

__all__ = ["ExistingReading", "MeterFacts", "Verdict", "judge"]


@dataclass(frozen=True)
class MeterFacts:
    meter_id: int
    number: str  # as painted on it: what a label scanned at the reading should name
    dials: int
    decimals: int
    assigned_to_caller: bool
    previous_value: Decimal | None  # of the approved reading captured before this one (sync_server/readings_query.py)
    distance_m: float | None  # from the registered location to the GPS fix; None without either
    # The meter's usual daily use from its approved reads before this one (``shared_billing.plausibility``, the
    # pull's ``usage`` at the reading's instant); None without enough history: no window, no judgement.
    usage: Usage | None = None


@dataclass(frozen=True)
class ExistingReading:
    payload_sha256: str | None
    status: ReadingStatus
    owned_by_caller: bool = True  # False: another engineer's reading, which a push must not reveal or touch


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    code: str | None = None
    message: str | None = None
    value: Decimal | None = None
    flags: list[ReadingFlag] = field(default_factory=list)
    label: LabelVerdict | None = None  # what the label the reading carries says of its meter; None without one


def _rejected(code: str, message: str) -> Verdict:
    return Verdict(Outcome.REJECTED, code=code, message=message)


def _check_shape(reading: ReadingV3) -> Verdict | None:
    if reading.read_type is ReadType.SKIP:
        if reading.replacement is not None:
            return _rejected("replacement.on_skip", "A replacement is reported with the new meter's value, not a skip")
        if reading.skip_reason is None:
            return _rejected("reading.skip_reason_required", "A skipped reading needs a reason code")
        if reading.value is not None:
            return _rejected("reading.value_on_skip", "A skipped reading carries no value")
        return None
    if reading.value is None or not reading.value.strip():
        return _rejected("reading.value_required", f"An {reading.read_type.value} reading needs a value")
    return None


def judge(
    reading: ReadingV3,
    *,
    payload_sha256: str,
    existing: ExistingReading | None,
    meter: MeterFacts | None,
    replaces_ok: bool,
    second_in_period: bool,
    sent_at: datetime,
    received_at: datetime,
    limits: CheckLimits,
    new_meter: NamedMeter | None = None,
) -> Verdict:
    """Decide what happens to one reading of a push; ``new_meter`` is the stored meter its replacement's new
    number names, if any."""
    if existing is not None:
        if not existing.owned_by_caller:
            # Even an identical payload: "duplicate" would confirm what another engineer stored.
            return Verdict(Outcome.CONFLICT, code="reading.conflict", message="This reading id is already taken")
        if existing.payload_sha256 == payload_sha256:
            return Verdict(Outcome.DUPLICATE)
        return Verdict(
            Outcome.CONFLICT,
            code="reading.conflict",
            message="A different reading with this id is already stored; it was left unchanged",
        )
    if meter is None:
        return _rejected("reading.unknown_meter", f"There is no meter {reading.meter_id}")
    if not meter.assigned_to_caller:
        return _rejected("reading.not_assigned", f"Meter {reading.meter_id} is not assigned to you")
    shape_error = _check_shape(reading)
    if shape_error is not None:
        return shape_error
    if reading.replaces is not None and not replaces_ok:
        return _rejected("reading.unknown_replaces", f"Reading {reading.replaces} of this meter is not known")
    value: Decimal | None = None
    previous_value = meter.previous_value
    replacement_flags: tuple[ReadingFlag, ...] = ()
    if reading.replacement is not None and reading.value is not None:
        checked = check_replacement(
            reading.replacement,
            reading.value,
            old_meter_id=meter.meter_id,
            old=MeterRegister(dials=meter.dials, decimals=meter.decimals),
            old_previous=meter.previous_value,
            named=new_meter,
        )
        if isinstance(checked, Refusal):
            return _rejected(checked.code, checked.message)
        # The value is the new meter's: the old meter's previous value says nothing about it.
        value, previous_value, replacement_flags = checked.value, None, checked.flags
    elif reading.value is not None:
        try:
            value = parse_register_value(reading.value, dials=meter.dials, decimals=meter.decimals)
        except BillingError as error:
            return _rejected(error.code, error.message)
    label = _label(reading, meter)
    # In ReadingFlag order: a replacement's below_previous comes first, as a plain reading's does.
    flags = [*replacement_flags]
    flags += reading_flags(
        value=value,
        previous_value=previous_value,
        gps_lat=reading.gps_lat,
        gps_lon=reading.gps_lon,
        gps_accuracy_m=reading.gps_accuracy_m,
        distance_m=meter.distance_m,
        sent_at=sent_at,
        received_at=received_at,
        limits=limits,
        label=label,
    )
    if second_in_period:
        flags.append(ReadingFlag.SECOND_READ_IN_PERIOD)
    if reading.replacement is None and _outside_window(value, meter, reading, flags):
        flags.append(ReadingFlag.OUTSIDE_WINDOW)
    checks = reading.evidence.photo_checks if reading.evidence is not None else None
    flags += evidence_flags(
        label=label,
        photo_blurred=checks is not None and checks.blurred,
        photo_reused=checks is not None and checks.reused,
    )
    return Verdict(Outcome.STORED, value=value, flags=flags, label=label)


def _label(reading: ReadingV3, meter: MeterFacts) -> LabelVerdict | None:
    """The verdict on the label the reading carries (``shared_billing.labels``, the phone's rule), None without
    one. A replacement is pushed against the old meter while the label on the wall may already be the new one's:
    either number confirms it."""
    scanned = reading.evidence.label if reading.evidence is not None else None
    if scanned is None:
        return None
    verdict = label_verdict(scanned, meter.number)
    if verdict is LabelVerdict.OTHER_METER and reading.replacement is not None:
        return label_verdict(scanned, reading.replacement.new_meter_number)
    return verdict


def _outside_window(value: Decimal | None, meter: MeterFacts, reading: ReadingV3, flags: list[ReadingFlag]) -> bool:
    """The value lies outside the window the meter's history expects at the reading's instant: the phone's check
    (``plausibility.expected_window``, the same usage), so a value it had re-keyed is flagged for the supervisor.
    A drop below the previous reading is ``below_previous``'s question (rollover, replacement, typo), as on the
    phone, and a replacement's value is the new meter's, which the old meter's history says nothing about."""
    if value is None or meter.usage is None or ReadingFlag.BELOW_PREVIOUS in flags:
        return False
    register = MeterRegister(dials=meter.dials, decimals=meter.decimals)
    return outside_window(value, expected_window(meter.usage, reading.captured_at, register=register))
