"""Sync protocol v1: the messages the phone and the server exchange.

Both sides compute a reading's payload hash from this module, so the hash means the same thing everywhere:
SHA-256 of the canonical JSON of ``ReadingV1`` (sorted keys, no spaces, decimals and UUIDs as strings, times as
UTC ISO 8601 with microseconds). Changing a field of ``ReadingV1`` changes every hash: add a ``ReadingV2`` instead.

Envelope fields are strictly typed (a wrong type is a 422 for the whole request); the *meaning* of an item (is the
value a number, is the meter assigned) is checked per item by the server, so one bad reading never fails the rest.
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
    "MAX_BATCH",
    "PROTOCOL_VERSION",
    "Decision",
    "DecisionStatus",
    "MeterAssignment",
    "Outcome",
    "PreviousReading",
    "PullResponse",
    "PushRequest",
    "PushResponse",
    "PushResult",
    "ReadType",
    "ReadingV1",
    "SkipReason",
    "canonical_json",
    "payload_sha256",
]

PROTOCOL_VERSION = 1
MAX_BATCH = 500

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


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
    meter_id: StrictInt
    read_type: ReadType
    skip_reason: SkipReason | None = None
    # The register value exactly as typed, at the meter's decimals; parsed per item by the server.
    value: Annotated[StrictStr, StringConstraints(max_length=32)] | None = None
    captured_at: AwareDatetime
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_accuracy_m: float | None = None
    photo_sha256: Sha256Hex | None = None
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
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
    device_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    sent_at: AwareDatetime
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
    status: str | None = None  # review status of the stored reading, when there is one


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
    kind: str
    dials: int
    decimals: int
    multiplier: str
    lat: float | None
    lon: float | None
    previous: PreviousReading | None


class DecisionStatus(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REREAD = "reread"


class Decision(BaseModel):
    reading_uuid: UUID
    status: DecisionStatus
    reason: str | None
    decided_at: AwareDatetime


class PullResponse(BaseModel):
    protocol: Literal[1] = 1
    cursor: int
    full: bool  # True when ``meters`` is the whole assignment list (first pull), not a delta
    meters: list[MeterAssignment]
    removed_meter_ids: list[int]
    decisions: list[Decision]
