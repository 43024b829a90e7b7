"""Sync protocols 1 to 3: the messages the phone and the server exchange.

Both sides compute a reading's payload hash from this module, so the hash means the same thing everywhere:
SHA-256 of the canonical JSON of the reading (sorted keys, no spaces, decimals and UUIDs as strings, times as
UTC ISO 8601 with microseconds). Every field of ``ReadingV1`` is in it (absent ones as ``null``); a field a later
protocol added is in it only when set. So changing a field of ``ReadingV1`` changes every hash, while protocol 2
(``ReadingV2`` = v1 + an optional ``replacement``) leaves the hash of a reading without one exactly its v1 hash, and
a v2 reading without a replacement is a v1 reading on the wire too (the key is left out, not sent as ``null``).
Protocol 3 (``ReadingV3`` = v2 + an optional ``evidence``) adds to it the same way.

Envelope fields are strictly typed (a wrong type is a 422 for the whole request). Each item is validated on its own
by the server against ``ReadingV1`` (its bounds are published in the schema) and its *meaning* (is the value a
number, is the meter assigned) is checked per item too, so one bad reading never fails the rest.

The bounds below are the wire contract shared by every API parameter (``shared_billing/api_types.py`` builds on them):
ids fit the database's 32-bit integer columns, numbers are finite, times lie between 2000 and 2100 (a phone clock a
day or a year off is still accepted and drift-flagged; year 1 or 9999 is garbage), and text never carries NUL
(PostgreSQL cannot store it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

__all__ = [
    "DB_ID_MAX",
    "EARLIEST",
    "LATEST",
    "MAX_BATCH",
    "NO_NUL",
    "PROTOCOL_VERSION",
    "READING_MODELS",
    "SUPPORTED_PROTOCOLS",
    "AccuracyM",
    "BillStatus",
    "CheckRequest",
    "DbId",
    "Decision",
    "DecisionStatus",
    "DeviceId",
    "EscalationKind",
    "EscalationOutcome",
    "Evidence",
    "ExportFile",
    "FieldTariff",
    "ImportKind",
    "ImportStatus",
    "Instant",
    "Latitude",
    "LedgerEntryKind",
    "Longitude",
    "MatchRule",
    "MeterAssignment",
    "MeterKind",
    "MeterNumber",
    "MeterStatus",
    "Note",
    "NoteKind",
    "NotificationChannel",
    "NotificationEvent",
    "NotificationLanguage",
    "NotificationStatus",
    "NulFreeStr",
    "OcrVerdict",
    "Outcome",
    "PaymentMode",
    "PeriodRead",
    "PhotoCheckVerdict",
    "PreviousReading",
    "PullResponse",
    "PushRequest",
    "PushResponse",
    "PushResult",
    "QualityCheckStatus",
    "ReadType",
    "ReadingStatus",
    "ReadingV1",
    "ReadingV2",
    "ReadingV3",
    "RegisterText",
    "Replacement",
    "ReviewSort",
    "Role",
    "RunStatus",
    "ScheduleCadence",
    "ScheduleKind",
    "ScheduleStatus",
    "SkipReason",
    "StatementLineStatus",
    "UnitCategory",
    "UsageWindow",
    "as_latest",
    "canonical_json",
    "payload_sha256",
    "protocol_for",
]

PROTOCOL_VERSION = 3  # the newest this code speaks; a phone sends the lowest one its batch needs (protocol_for)
SUPPORTED_PROTOCOLS = (1, 2, 3)
MAX_BATCH = 500

DB_ID_MAX = 2**31 - 1  # ids are INTEGER columns on PostgreSQL (32-bit signed)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000
MAX_GPS_ACCURACY_M = 100_000.0  # a fix worse than 100 km is noise, not a position

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
DbId = Annotated[StrictInt, Field(ge=1, le=DB_ID_MAX)]
NulFreeStr = Annotated[str, StringConstraints(pattern=NO_NUL)]
# Aware, and within the years a real device clock can show; the bound is in the description because JSON Schema has
# no minimum for date-time strings.
Instant = Annotated[
    AwareDatetime,
    Field(
        ge=EARLIEST,
        le=LATEST,
        description=f"ISO 8601 with an offset, from {EARLIEST.date()} to {LATEST.date()}",
    ),
]


Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
AccuracyM = Annotated[float, Field(ge=0, le=MAX_GPS_ACCURACY_M, allow_inf_nan=False)]
DeviceId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
Note = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]
# A register value exactly as typed, at the meter's decimals; its meaning is checked per item by the server
# (shared_billing.readings.parse_register_value), so only its length and characters are bounded here.
RegisterText = Annotated[StrictStr, StringConstraints(max_length=32, pattern=NO_NUL)]
# A meter's number as painted on it (the ``meter.number`` column: unique, up to 32 characters), without
# surrounding spaces.
MeterNumber = Annotated[
    StrictStr, StringConstraints(min_length=1, max_length=32, pattern=r"^[^\x00\s](?:[^\x00]*[^\x00\s])?$")
]


class Role(StrEnum):
    """Who a user is; the server decides what each role may do, the apps choose their screens by it."""

    ENGINEER = "engineer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    ACCOUNTANT = "accountant"
    RESIDENT = "resident"


class ReadingStatus(StrEnum):
    """Where a reading stands on the server: submitted, then a supervisor's decision."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    REREAD = "reread"


class MeterKind(StrEnum):
    """A unit's own meter, or a shared (common-area) meter whose units are split among members."""

    UNIT = "unit"
    SHARED = "shared"


class MeterStatus(StrEnum):
    """An active meter is read and billed; a retired one (replaced) only takes readings captured before it went."""

    ACTIVE = "active"
    RETIRED = "retired"


class UnitCategory(StrEnum):
    FLAT = "flat"
    VILLA = "villa"
    SHOP = "shop"


class BillStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    OVERDUE = "overdue"


class ReviewSort(StrEnum):
    """Orders of the review list; each ends on the reading's server sequence, so pages never overlap."""

    OLDEST = "oldest"  # by capture time: the day's walk in order
    NEWEST = "newest"
    UNIT = "unit"  # by block, then unit or meter label
    FLAGGED = "flagged"  # most flags first


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PaymentMode(StrEnum):
    CASH = "cash"
    UPI = "upi"
    CHEQUE = "cheque"
    BANK = "bank"


class LedgerEntryKind(StrEnum):
    """What moved an account's balance: charges and debits raise it, payments and credits lower it."""

    CHARGE = "charge"
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"
    DEBIT_NOTE = "debit_note"
    LATE_FEE = "late_fee"
    OPENING = "opening"  # the balance brought over from the system Fieldmeter replaced (an opening import)


class NoteKind(StrEnum):
    """A credit note lowers what a unit owes, a debit note raises it."""

    CREDIT = "credit"
    DEBIT = "debit"


class ReadType(StrEnum):
    ACTUAL = "actual"
    VERIFIED = "verified"  # re-keyed by the reader after an out-of-range warning
    SKIP = "skip"  # no read; skip_reason says why


class SkipReason(StrEnum):
    NO_ACCESS = "no_access"
    LOCKED = "locked"
    DOG = "dog"
    METER_DAMAGED = "meter_damaged"
    METER_MISSING = "meter_missing"
    UNREADABLE = "unreadable"
    OTHER = "other"


class ReadingV1(BaseModel):
    """One reading as captured on the phone. Immutable once saved: a fix is a new reading naming ``replaces``."""

    uuid: UUID
    meter_id: DbId
    read_type: ReadType
    skip_reason: SkipReason | None = None
    # The register value exactly as typed, at the meter's decimals; parsed per item by the server.
    value: RegisterText | None = None
    captured_at: Instant
    gps_lat: Latitude | None = None
    gps_lon: Longitude | None = None
    gps_accuracy_m: AccuracyM | None = None
    photo_sha256: Sha256Hex | None = None
    note: Note | None = None
    replaces: UUID | None = None

    # Strict types where JSON has a native type (a number sent as a string is a client bug, not a value to guess).
    model_config = ConfigDict(extra="forbid", frozen=True)


class Replacement(BaseModel):
    """A meter replaced at the visit, reported with the reading (protocol 2).

    The rule (docs/domain.md "Meter replacement"): a replacement reading is pushed against the OLD meter's id (the
    meter on the engineer's route); its ``value`` is the NEW meter's register at the time of the visit (equal to
    ``new_initial_value`` when the new meter was just installed). So the period's consumption has four terms:
    ``(old_final_value − old previous approved) + (value − new_initial_value)``, slabs on the sum. Values are
    register values as typed, like ``ReadingV1.value``: the old final at the old meter's dials and decimals, the
    new initial and the reading's value at the new meter's.
    """

    old_final_value: RegisterText
    new_meter_number: MeterNumber
    new_initial_value: RegisterText

    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadingV2(ReadingV1):
    """Protocol 2's reading: a v1 reading that may carry a meter replacement.

    Without one it is a v1 reading: the same canonical JSON and hash, and no ``replacement`` key on the wire.
    """

    replacement: Replacement | None = None

    @model_serializer(mode="wrap")
    def _leave_out_absent_additions(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        fields: dict[str, Any] = handler(self)
        # An older server refuses unknown keys: a reading an older protocol can carry is sent exactly as that
        # protocol sends it (each later field left out while it is absent).
        for name in type(self).model_fields.keys() - ReadingV1.model_fields.keys():
            if getattr(self, name) is None:
                fields.pop(name, None)
        return fields


PhotoCheckOverride = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")]
# What a meter's label said, as scanned (its QR code's text: the number alone, ``SN:…`` or a URL).
LabelText = Annotated[StrictStr, StringConstraints(min_length=1, max_length=256, pattern=NO_NUL)]


class PhotoCheckVerdict(BaseModel):
    """The phone's checks of the reading's photo before the engineer left the meter (``mobile_app/photo_checks``).

    A blurred or reused photo is a warning the engineer may override: then ``override_reason`` says why, and the
    server flags the reading for the supervisor. Figures are the checks' own: the blur score (variance of the
    Laplacian, higher = sharper) and the Hamming distance to the closest recent photo of the route (None when
    there was none to compare with).
    """

    blur_score: Annotated[StrictInt, Field(ge=0, le=10_000_000)]
    blurred: bool
    reuse_distance: Annotated[StrictInt, Field(ge=0, le=64)] | None = None
    reused: bool
    override_reason: PhotoCheckOverride | None = None

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _warning_needs_a_reason(self) -> PhotoCheckVerdict:
        if (self.blurred or self.reused) and self.override_reason is None:
            raise ValueError("a blurred or reused photo is kept only with the engineer's override_reason")
        if self.reused and self.reuse_distance is None:
            raise ValueError("a reused photo names its reuse_distance")
        return self


class Evidence(BaseModel):
    """What proves a reading beyond its value, GPS fix and photo (protocol 3; docs/architecture.md "Protocol").

    Every part is optional; an evidence object with none of them is not sent (``ReadingV3`` leaves it out).
    """

    photo_checks: PhotoCheckVerdict | None = None
    label: LabelText | None = None  # the meter's label as scanned; the server compares it with the meter's number
    room_session: UUID | None = None  # the meter-room session the reading was taken in (one GPS fix, N meters)

    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadingV3(ReadingV2):
    """Protocol 3's reading: a v2 reading that may carry ``evidence``.

    Without it it is a v2 reading: the same canonical JSON and hash, and no ``evidence`` key on the wire.
    """

    evidence: Evidence | None = None


#: The reading model of each protocol version; a server validates an item with its envelope's.
READING_MODELS: dict[int, type[ReadingV1]] = {1: ReadingV1, 2: ReadingV2, 3: ReadingV3}


def as_latest(reading: ReadingV1) -> ReadingV3:
    """``reading`` as the latest protocol's model: an older reading is a v3 reading without the later fields (its
    hash is the same). Not validated again: it was when it was made."""
    if isinstance(reading, ReadingV3):
        return reading
    return ReadingV3.model_construct(_fields_set=reading.model_fields_set, **dict(reading))


def protocol_for(readings: Iterable[ReadingV1]) -> int:
    """The lowest protocol that carries every reading: 3 if one has evidence, 2 if one has a replacement, else 1."""
    needed = 1
    for reading in readings:
        if isinstance(reading, ReadingV3) and reading.evidence is not None:
            return 3
        if isinstance(reading, ReadingV2) and reading.replacement is not None:
            needed = 2
    return needed


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, BaseModel):
        return {name: _canonical_value(getattr(value, name)) for name in type(value).model_fields}
    return value


def canonical_json(reading: ReadingV1) -> bytes:
    """The bytes the payload hash is taken over: every ``ReadingV1`` field, absent values as ``null``, plus each
    field a later protocol added only when it is set (so a reading without it keeps its v1 hash)."""
    fields = {name: _canonical_value(getattr(reading, name)) for name in ReadingV1.model_fields}
    for name in type(reading).model_fields.keys() - ReadingV1.model_fields.keys():
        if (added := getattr(reading, name)) is not None:
            fields[name] = _canonical_value(added)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def payload_sha256(reading: ReadingV1) -> str:
    return hashlib.sha256(canonical_json(reading)).hexdigest()


Protocol = Literal[1, 2, 3]


class PushRequest(BaseModel):
    """A batch of readings. Protocol 1 readings are ``ReadingV1`` (a ``replacement`` is an unknown field there);
    protocol 2 readings are ``ReadingV2`` (an ``evidence`` is unknown there), protocol 3 readings ``ReadingV3``."""

    model_config = ConfigDict(extra="forbid")

    protocol: Protocol = 1
    device_id: DeviceId
    sent_at: Instant
    readings: Annotated[list[ReadingV3], Field(max_length=MAX_BATCH)]

    @field_validator("readings", mode="before")
    @classmethod
    def _readings_as_latest(cls, value: Any) -> Any:
        # Readings a protocol-1 caller built as ReadingV1 are taken as they are (as_latest), not refused.
        if isinstance(value, list):
            return [as_latest(item) if isinstance(item, ReadingV1) else item for item in value]
        return value

    @model_validator(mode="after")
    def _readings_fit_the_protocol(self) -> PushRequest:
        needed = protocol_for(self.readings)
        if needed > self.protocol:
            carried = "evidence" if needed == 3 else "replacement"
            raise ValueError(f"protocol {self.protocol} readings carry no {carried}: send protocol {needed}")
        return self


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    CONFLICT = "conflict"


class PushResult(BaseModel):
    uuid: UUID
    outcome: Outcome
    code: str | None = None
    message: str | None = None
    flags: list[str] = Field(default_factory=list)
    status: ReadingStatus | None = None  # review status of the stored reading, when there is one


class PushResponse(BaseModel):
    protocol: Protocol = 1  # the request's
    received_at: AwareDatetime
    results: list[PushResult]


class PreviousReading(BaseModel):
    value: str
    captured_at: AwareDatetime


class UsageWindow(BaseModel):
    """How much a meter usually advances per day, from its history (``shared_billing.plausibility``): the phone
    turns it into the expected window for the day it is read, offline, with the same function the server uses."""

    since_value: str  # the newest approved actual reading the window counts from
    since: AwareDatetime
    daily_use: str  # average units per day (register units, before the multiplier)
    low_per_day: str  # the window's per-day bounds: the average widened by the history's spread
    high_per_day: str
    reads: int  # how many reads the average rests on


class PeriodRead(BaseModel):
    """The server's latest reading of a meter in the current billing period, and where its review stands."""

    reading_uuid: UUID
    read_type: ReadType
    value: str | None
    captured_at: AwareDatetime
    status: ReadingStatus
    reason: str | None = None  # the supervisor's, for a rejection or a re-read
    due_on: date | None = None  # a re-read's due date
    flags: list[str] = []


class ExportFile(StrEnum):
    """The office's export files (docs/exports.md)."""

    READINGS_CSV = "readings.csv"
    READINGS_XLSX = "readings.xlsx"
    BILLS_CSV = "bills.csv"
    BILLS_XLSX = "bills.xlsx"
    PAYMENTS_CSV = "payments.csv"
    PAYMENTS_XLSX = "payments.xlsx"
    LEDGER_CSV = "ledger.csv"
    LEDGER_XLSX = "ledger.xlsx"
    TALLY_XML = "tally.xml"


class QualityCheckStatus(StrEnum):
    """A quality-control check of an approved read: waiting for the check read, or its verdict."""

    OPEN = "open"
    AGREES = "agrees"  # the check read is where the approved read and the meter's use since put it
    DIFFERS = "differs"


class CheckRequest(BaseModel):
    """The meter's approved read this period was picked for a quality check: read it again. The check read is
    compared with the approved one and never replaces it (docs/review.md "Quality checks")."""

    requested_at: AwareDatetime
    due_on: date | None = None


class MeterAssignment(BaseModel):
    meter_id: int
    meter_number: str
    unit_code: str | None
    block_code: str
    kind: MeterKind
    dials: int
    decimals: int
    multiplier: str
    lat: float | None
    lon: float | None
    previous: PreviousReading | None
    # The meter's place on the engineer's route (the pull lists meters in this order); absent from older servers.
    walk_order: int | None = None
    # Issue 12, all additive (an older server sends none of them):
    # the last approved actual reads, newest first (at most six), for the meter's detail screen;
    history: list[PreviousReading] = []
    # the meter's usual daily use from that history (``shared_billing.plausibility``), None when there is too little;
    usage: UsageWindow | None = None
    # the unit's tariff (a code of ``PullResponse.tariffs``), unit type and sanctioned load, for the capture
    # screen's estimate of the unit's own charges; None for a meter without a unit (a shared meter);
    tariff_code: str | None = None
    unit_type: str | None = None
    sanctioned_load_kw: str | None = None
    # the server's latest reading of this meter in the current billing period (from any phone), if any.
    period_read: PeriodRead | None = None
    # Issue 13, additive: an open quality check of this period's approved read, asked of this engineer.
    check: CheckRequest | None = None


class DecisionStatus(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REREAD = "reread"


class Decision(BaseModel):
    reading_uuid: UUID
    status: DecisionStatus
    reason: str | None
    decided_at: AwareDatetime
    # A rejection or a re-read: the day the new read is due (society's calendar); None from an older server.
    due_on: date | None = None


class FieldLimits(BaseModel):
    """The society's GPS check limits (``shared_billing.checks.CheckLimits``), so the phone warns before the save
    exactly where the server will flag the reading."""

    gps_accuracy_limit_m: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    gps_radius_m: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class FieldTariff(BaseModel):
    code: str
    name: str
    config: dict[str, Any]


class PullResponse(BaseModel):
    protocol: Literal[1] = 1
    cursor: int
    full: bool  # True when ``meters`` is the whole assignment list (first pull), not a delta
    meters: list[MeterAssignment]
    removed_meter_ids: list[int]
    decisions: list[Decision]
    # Additive: in every pull (a changed setting reaches phones at their next sync); None from an older server.
    limits: FieldLimits | None = None
    # Issue 12, additive: the society's time zone (its billing periods are months there) and the tariffs the
    # listed meters name (``MeterAssignment.tariff_code``: the version in force now, as ``Tariff.to_dict()``).
    zone: str | None = None
    tariffs: list[FieldTariff] = []


# --- Imports: records brought over from the system Fieldmeter replaces (docs/api.md "Imports") ---


class ImportKind(StrEnum):
    """What an import brings in: the master data (units, meters, shared meters), or the opening position."""

    MASTER = "master"
    OPENING_READINGS = "opening_readings"
    OPENING_BALANCES = "opening_balances"


class ImportStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# --- Schedules: the jobs the server runs by itself (sync_server/scheduling) ---


class ScheduleKind(StrEnum):
    """What a scheduled job does."""

    BILL_RUNS = "bill-runs"  # a draft bill run per block for the previous month
    OVERDUE_REFRESH = "overdue-refresh"  # bill statuses (overdue after the due date)
    BACKUP = "backup"  # an archive of the database and photos
    PHOTO_OCR = "photo-ocr"  # the register read off the photos that arrived since
    NOTIFICATIONS = "notifications"  # reminders, overdue notices and escalation steps enqueued, the outbox delivered


class NotificationEvent(StrEnum):
    """What a consumer is told of (docs/notifications.md)."""

    BILL_ISSUED = "bill_issued"
    REMINDER = "reminder"  # the due date is near
    OVERDUE = "overdue"
    PAYMENT_RECEIVED = "payment_received"
    # The escalation steps of a bill still overdue (``EscalationKind``), one event each: each has its own wording.
    ESCALATION_REMINDER = "escalation_reminder"
    ESCALATION_NOTICE = "escalation_notice"
    DISCONNECTION_NOTICE = "disconnection_notice"


class EscalationKind(StrEnum):
    """A step taken for a bill still overdue, mildest first: a later step is more severe (docs/notifications.md
    "Escalation")."""

    REMINDER = "reminder"
    NOTICE = "notice"
    DISCONNECTION_NOTICE = "disconnection_notice"


class EscalationOutcome(StrEnum):
    """What became of a bill's escalation step."""

    FIRED = "fired"  # taken: its message enqueued for whoever can be told
    SKIPPED = "skipped"  # passed over: a more severe step was taken in its place, or its day was long gone


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"
    DEAD = "dead"  # retries used up, or refused for good: ``last_error`` says why
    SKIPPED = "skipped"  # not sent: the consumer opted out, or the contact is gone


class NotificationLanguage(StrEnum):
    ENGLISH = "en"
    HINDI = "hi"
    PUNJABI = "pa"


class OcrVerdict(StrEnum):
    """What the register read off a reading's photo on the server says of the typed value (docs/review.md "OCR")."""

    PENDING = "pending"  # the photo is stored, not read yet: the reading waits out of bulk approval
    MATCH = "match"
    MISMATCH = "mismatch"  # the photo shows another value: a person compares
    UNREADABLE = "unreadable"  # no register value found on the photo


class ScheduleCadence(StrEnum):
    """When a scheduled job runs: a day of the month or every day at a local time, or every N minutes."""

    MONTHLY = "monthly"
    DAILY = "daily"
    INTERVAL = "interval"


class ScheduleStatus(StrEnum):
    """How a job's last run ended."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # it ran and found nothing to do


# --- Bank statements: credits matched to bills (docs/reconciliation.md) ---


class StatementLineStatus(StrEnum):
    UNMATCHED = "unmatched"  # waiting for the accountant
    MATCHED = "matched"  # its payment is recorded through the ledger
    DISMISSED = "dismissed"  # not a bill's payment (the accountant said why)


class MatchRule(StrEnum):
    """How a credit found its bill (docs/reconciliation.md "Matching")."""

    REFERENCE = "reference"  # the bill number in the narration or reference (the QR code's tr=)
    AMOUNT_DATE = "amount_date"  # the one open bill owing the amount, issued shortly before
    MANUAL = "manual"  # the accountant chose the bill
