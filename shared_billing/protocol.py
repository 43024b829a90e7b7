"""Sync protocol v1: the messages the phone and the server exchange.

Both sides compute a reading's payload hash from this module, so the hash means the same thing everywhere:
SHA-256 of the canonical JSON of ``ReadingV1`` (sorted keys, no spaces, decimals and UUIDs as strings, times as
UTC ISO 8601 with microseconds). Changing a field of ``ReadingV1`` changes every hash: add a ``ReadingV2`` instead.

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
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints

__all__ = [
    "DB_ID_MAX",
    "EARLIEST",
    "LATEST",
    "MAX_BATCH",
    "NO_NUL",
    "PROTOCOL_VERSION",
    "AccuracyM",
    "BillStatus",
    "DbId",
    "Decision",
    "DecisionStatus",
    "DeviceId",
    "Instant",
    "Latitude",
    "LedgerEntryKind",
    "Longitude",
    "MeterAssignment",
    "MeterKind",
    "MeterStatus",
    "Note",
    "NoteKind",
    "NulFreeStr",
    "Outcome",
    "PaymentMode",
    "PreviousReading",
    "PullResponse",
    "PushRequest",
    "PushResponse",
    "PushResult",
    "ReadType",
    "ReadingStatus",
    "ReadingV1",
    "Role",
    "RunStatus",
    "SkipReason",
    "UnitCategory",
    "canonical_json",
    "payload_sha256",
]

PROTOCOL_VERSION = 1
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
    value: Annotated[StrictStr, StringConstraints(max_length=32, pattern=NO_NUL)] | None = None
    captured_at: Instant
    gps_lat: Latitude | None = None
    gps_lon: Longitude | None = None
    gps_accuracy_m: AccuracyM | None = None
    photo_sha256: Sha256Hex | None = None
    note: Note | None = None
    replaces: UUID | None = None

    # Strict types where JSON has a native type (a number sent as a string is a client bug, not a value to guess).
    model_config = ConfigDict(extra="forbid", frozen=True)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    return value


def canonical_json(reading: ReadingV1) -> bytes:
    """The bytes the payload hash is taken over; every field is present, absent values as ``null``."""
    fields = {name: _canonical_value(getattr(reading, name)) for name in ReadingV1.model_fields}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def payload_sha256(reading: ReadingV1) -> str:
    return hashlib.sha256(canonical_json(reading)).hexdigest()


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    protocol: Literal[1] = 1
    device_id: DeviceId
    sent_at: Instant
    readings: Annotated[list[ReadingV1], Field(max_length=MAX_BATCH)]


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
    protocol: Literal[1] = 1
    received_at: AwareDatetime
    results: list[PushResult]


class PreviousReading(BaseModel):
    value: str
    captured_at: AwareDatetime


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


class DecisionStatus(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REREAD = "reread"


class Decision(BaseModel):
    reading_uuid: UUID
    status: DecisionStatus
    reason: str | None
    decided_at: AwareDatetime


class FieldLimits(BaseModel):
    """The society's GPS check limits (``shared_billing.checks.CheckLimits``), so the phone warns before the save
    exactly where the server will flag the reading."""

    gps_accuracy_limit_m: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    gps_radius_m: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class PullResponse(BaseModel):
    protocol: Literal[1] = 1
    cursor: int
    full: bool  # True when ``meters`` is the whole assignment list (first pull), not a delta
    meters: list[MeterAssignment]
    removed_meter_ids: list[int]
    decisions: list[Decision]
    # Additive: in every pull (a changed setting reaches phones at their next sync); None from an older server.
    limits: FieldLimits | None = None
