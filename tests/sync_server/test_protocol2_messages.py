"""Protocol 2's messages: a reading may carry a replacement; a reading without one is a v1 reading, byte for byte.

The pinned hashes were computed with the protocol-1-only code, before protocol 2 existed: if one changes, every
reading already stored on a server would answer ``conflict`` when a phone pushes it again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from pydantic import ValidationError

from shared_billing.protocol import (
    READING_MODELS,
    SUPPORTED_PROTOCOLS,
    PushRequest,
    ReadingV1,
    ReadingV2,
    ReadType,
    Replacement,
    SkipReason,
    as_latest,
    canonical_json,
    payload_sha256,
    protocol_for,
)

FULL = {
    "uuid": UUID("12345678-1234-5678-1234-567812345678"),
    "meter_id": 42,
    "read_type": ReadType.ACTUAL,
    "value": "01234.5",
    "captured_at": datetime(2024, 3, 15, 10, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    "gps_lat": 12.9716,
    "gps_lon": 77.5946,
    "gps_accuracy_m": 8.5,
    "photo_sha256": "a" * 64,
    "note": "गेट बंद",
    "replaces": UUID("87654321-4321-8765-4321-876543218765"),
}
FULL_V1_SHA256 = "dcf6cf97b9f9e728d959f3378b1b257e5d8fe3a09d75403da989c1e4c917e32e"
SKIP = {
    "uuid": UUID("00000000-0000-4000-8000-000000000001"),
    "meter_id": 7,
    "read_type": ReadType.SKIP,
    "skip_reason": SkipReason.LOCKED,
    "captured_at": datetime(2024, 1, 1, tzinfo=UTC),
}
SKIP_V1_SHA256 = "a412ecf228bfcab2ec41636b5824309d34c5a3bdd91385954634692f23ffa8f9"
SWAP = Replacement(old_final_value="4620", new_meter_number="NEW-0001", new_initial_value="0")


@pytest.mark.parametrize(("fields", "pinned"), [(FULL, FULL_V1_SHA256), (SKIP, SKIP_V1_SHA256)])
def test_a_reading_without_replacement_keeps_its_v1_hash(fields: dict[str, object], pinned: str) -> None:
    assert payload_sha256(ReadingV1.model_validate(fields)) == pinned
    assert payload_sha256(ReadingV2.model_validate(fields)) == pinned
    assert payload_sha256(ReadingV2.model_validate({**fields, "replacement": None})) == pinned


def test_the_hash_covers_every_field_of_the_replacement() -> None:
    plain = ReadingV2.model_validate(FULL)
    with_swap = plain.model_copy(update={"replacement": SWAP})
    hashes = {payload_sha256(plain), payload_sha256(with_swap)}
    for field, other in (("old_final_value", "4621"), ("new_meter_number", "NEW-0002"), ("new_initial_value", "1")):
        changed = SWAP.model_copy(update={field: other})
        hashes.add(payload_sha256(plain.model_copy(update={"replacement": changed})))
    assert len(hashes) == 5
    assert b'"replacement":{"new_initial_value":"0","new_meter_number":"NEW-0001","old_final_value":"4620"}' in (
        canonical_json(with_swap)
    )


def test_a_v2_reading_without_replacement_is_a_v1_reading_on_the_wire() -> None:
    reading = ReadingV2.model_validate(FULL)
    assert reading.model_dump_json() == ReadingV1.model_validate(FULL).model_dump_json()
    assert "replacement" not in reading.model_dump(mode="json")
    # And what a v1 server would parse from it is the same reading.
    assert ReadingV1.model_validate_json(reading.model_dump_json()) == ReadingV1.model_validate(FULL)
    with_swap = reading.model_copy(update={"replacement": SWAP})
    assert ReadingV2.model_validate_json(with_swap.model_dump_json()) == with_swap


def test_each_protocol_reads_its_own_reading_model() -> None:
    assert SUPPORTED_PROTOCOLS == tuple(sorted(READING_MODELS)) == (1, 2, 3)
    item = {**FULL, "replacement": SWAP.model_dump()}
    with pytest.raises(ValidationError) as refused:
        READING_MODELS[1].model_validate(item)
    assert refused.value.errors()[0]["loc"] == ("replacement",)
    assert READING_MODELS[2].model_validate(item).replacement == SWAP  # type: ignore[attr-defined]


def test_the_lowest_protocol_that_carries_the_batch() -> None:
    plain = ReadingV2.model_validate(FULL)
    assert protocol_for([]) == 1
    assert protocol_for([ReadingV1.model_validate(SKIP), plain]) == 1
    assert protocol_for([plain, plain.model_copy(update={"replacement": SWAP})]) == 2


def test_a_protocol_1_batch_cannot_carry_a_replacement() -> None:
    swapped = ReadingV2.model_validate({**FULL, "replacement": SWAP.model_dump()})
    envelope = {"device_id": "d", "sent_at": FULL["captured_at"], "readings": [swapped]}
    with pytest.raises(ValidationError, match="protocol 2"):
        PushRequest.model_validate({**envelope, "protocol": 1})
    assert PushRequest.model_validate({**envelope, "protocol": 2}).readings == [as_latest(swapped)]
    # A later protocol carries everything an earlier one does.
    assert PushRequest.model_validate({**envelope, "protocol": 3}).readings == [as_latest(swapped)]
    with pytest.raises(ValidationError):
        PushRequest.model_validate({**envelope, "protocol": 4})


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("old_final_value", "1" * 33),
        ("old_final_value", 4620),
        ("new_initial_value", "0\x00"),
        ("new_meter_number", ""),
        ("new_meter_number", " NEW-1"),
        ("new_meter_number", "N" * 33),
        ("new_meter_number", "NEW\x001"),
    ],
)
def test_replacement_fields_are_bounded_like_values_and_meter_numbers(field: str, bad: object) -> None:
    with pytest.raises(ValidationError) as refused:
        Replacement.model_validate({**SWAP.model_dump(), field: bad})
    assert refused.value.errors()[0]["loc"] == (field,)
