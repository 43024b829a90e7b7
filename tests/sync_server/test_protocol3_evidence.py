"""Pushing protocol 3: a reading's evidence (photo checks with the override reason, the label scanned, a meter-room
session) is stored with it, judged (docs/review.md "Evidence") and shown in the review; on SQLite and PostgreSQL.

- a label that confirms the meter takes the GPS verdict off the reading, which bulk approval then takes;
- a label of another meter and an overridden photo warning are flags: the reading is left out of bulk approval;
- evidence outside its bounds, or in a protocol-2 batch, is that item's ``reading.invalid``, the rest are stored;
- a reading without evidence keeps the hash protocols 1 and 2 give it (fixed bytes, fixed hash).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from shared_billing.checks import ReadingFlag
from shared_billing.labels import LabelVerdict
from shared_billing.protocol import (
    READING_MODELS,
    Evidence,
    ReadingV1,
    ReadingV3,
    canonical_json,
    payload_sha256,
)
from sync_server.models import Reading
from tests.sync_server.factories import NOW, auth, jpeg_bytes, meters_by_unit, reading, sha256

UNIT, OTHER, THIRD = "2BHK-B1-GF", "2BHK-B1-FF", "5BHK-B17-FF"
ROOM = "6f1c1a52-3f0e-4c3b-9a47-0f6f1d2e8b10"
OVERRIDDEN = {"blur_score": 42, "blurred": True, "reuse_distance": 3, "reused": True, "override_reason": "Glass fogged"}


def _push(client: TestClient, headers: dict[str, str], items: list[dict[str, Any]], protocol: int = 3) -> Any:
    body = {"protocol": protocol, "device_id": "test-device", "sent_at": NOW.isoformat(), "readings": items}
    response = client.post("/api/sync/push", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _stored(client: TestClient, reading_uuid: str) -> Reading | None:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return session.exec(select(Reading).where(col(Reading.uuid) == uuid.UUID(reading_uuid))).first()


def _review(client: TestClient, reading_uuid: str) -> dict[str, Any]:
    response = client.get(f"/api/review/readings/{reading_uuid}", headers=auth(client, "supervisor"))
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()
    return item


def _with_photo(client: TestClient, headers: dict[str, str], meter: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A reading of ``meter`` with a stored photo (uploaded once the reading names it: see ``_upload``)."""
    return reading(meter, photo_sha256=sha256(jpeg_bytes()), **fields)


def _upload(client: TestClient, headers: dict[str, str]) -> None:
    photo = jpeg_bytes()
    put = client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    assert put.status_code in (201, 204), put.text


def _far(meter: dict[str, Any]) -> dict[str, float]:
    """A fix about 1.1 km north of the meter, as a meter room's fix can be."""
    return {"gps_lat": meter["lat"] + 0.01, "gps_lon": meter["lon"], "gps_accuracy_m": 8.0}


# --- the wire: bounds and hashes (no database) -------------------------------------------------------------------

FULL: dict[str, Any] = {
    "uuid": "7d0c3f52-5b8e-4f6a-9c1d-2e3f4a5b6c7d",
    "meter_id": 12,
    "read_type": "actual",
    "skip_reason": None,
    "value": "004521",
    "captured_at": "2025-11-20T04:25:00.123456+00:00",
    "gps_lat": 30.9,
    "gps_lon": 75.85,
    "gps_accuracy_m": 6.5,
    "photo_sha256": "ab" * 32,
    "note": None,
    "replaces": None,
}
SWAP = {"old_final_value": "4551", "new_meter_number": "NEW-7001", "new_initial_value": "0"}


def test_a_reading_without_evidence_keeps_its_v1_and_v2_bytes_and_hash() -> None:
    # Pinned as protocol 2 computed them (commit 5bb9cb9): a change would make every stored reading a conflict on
    # its next replay.
    v1 = ReadingV1.model_validate(FULL)
    assert canonical_json(v1) == (
        b'{"captured_at":"2025-11-20T04:25:00.123456+00:00","gps_accuracy_m":6.5,"gps_lat":30.9,"gps_lon":75.85,'
        b'"meter_id":12,"note":null,"photo_sha256":"' + b"ab" * 32 + b'","read_type":"actual","replaces":null,'
        b'"skip_reason":null,"uuid":"7d0c3f52-5b8e-4f6a-9c1d-2e3f4a5b6c7d","value":"004521"}'
    )
    assert payload_sha256(v1) == "6356ee7a573bab925c91a4b719649a68bfcf62c3932c81edac6c7f470039ef6f"
    assert payload_sha256(ReadingV3.model_validate(FULL)) == payload_sha256(v1)
    swapped = {**FULL, "replacement": SWAP}
    v2 = READING_MODELS[2].model_validate(swapped)
    assert payload_sha256(ReadingV3.model_validate(swapped)) == payload_sha256(v2)
    assert payload_sha256(v2) == "0ee7e7e9f220ff316c77287dab9db18c17360035049beb6db6682a94edd4ae9a"
    # Absent evidence is left out of the wire too, not sent as null.
    assert "evidence" not in ReadingV3.model_validate(FULL).model_dump(mode="json")


def test_evidence_is_covered_by_the_hash() -> None:
    plain = ReadingV3.model_validate(FULL)
    labelled = ReadingV3.model_validate({**FULL, "evidence": {"label": "40012102"}})
    relabelled = ReadingV3.model_validate({**FULL, "evidence": {"label": "40012103"}})
    assert len({payload_sha256(plain), payload_sha256(labelled), payload_sha256(relabelled)}) == 3
    assert b'"evidence":{"label":"40012102","photo_checks":null,"room_session":null}' in canonical_json(labelled)


# --- the push: stored, judged, shown ----------------------------------------------------------------------------


def test_a_v3_reading_is_stored_with_its_evidence_and_the_review_shows_it(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)[UNIT]
    evidence = {"photo_checks": OVERRIDDEN, "label": f"SN:{meter['meter_number']}", "room_session": ROOM}
    item = _with_photo(client, headers, meter, evidence=evidence)

    answer = _push(client, headers, [item])

    assert answer["protocol"] == 3
    [result] = answer["results"]
    assert (result["outcome"], result["status"]) == ("stored", "submitted")
    assert result["flags"] == [ReadingFlag.PHOTO_BLURRED, ReadingFlag.PHOTO_REUSED, ReadingFlag.PHOTO_PENDING]
    row = _stored(client, item["uuid"])
    assert row is not None
    assert Evidence.model_validate(row.evidence) == Evidence.model_validate(evidence)
    assert (row.label_verdict, row.room_session) == (LabelVerdict.CONFIRMED, uuid.UUID(ROOM))
    assert row.payload_sha256 == payload_sha256(ReadingV3.model_validate(item))

    # A replay is a duplicate; the same id with another label a conflict that leaves the stored one as it was.
    [again] = _push(client, headers, [item])["results"]
    [changed] = _push(client, headers, [{**item, "evidence": {**evidence, "label": "40019999"}}])["results"]
    assert (again["outcome"], changed["outcome"]) == ("duplicate", "conflict")

    _upload(client, headers)
    review = _review(client, item["uuid"])
    assert review["evidence"] == {
        "photo_checks": OVERRIDDEN,
        "label": f"SN:{meter['meter_number']}",
        "label_verdict": "confirmed",
        "room_session": ROOM,
    }
    assert review["presence_by_label"] is True
    assert review["flags"] == ["photo_blurred", "photo_reused"]
    assert review["clean"] is False  # the overridden warnings are the supervisor's to see


def test_a_label_that_confirms_the_meter_takes_the_gps_verdict_off_and_the_reading_is_clean(
    client: TestClient,
) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    labelled_meter, bare_meter = meters[UNIT], meters[OTHER]
    labelled = _with_photo(
        client, headers, labelled_meter, **_far(labelled_meter), evidence={"label": labelled_meter["meter_number"]}
    )
    bare = _with_photo(client, headers, bare_meter, **_far(bare_meter))

    confirmed, control = _push(client, headers, [labelled, bare])["results"]
    _upload(client, headers)

    assert ReadingFlag.GPS_FAR in control["flags"]  # the same fix without a label
    assert confirmed["outcome"] == "stored"
    assert not {ReadingFlag.GPS_FAR, ReadingFlag.GPS_INACCURATE, ReadingFlag.GPS_MISSING} & set(confirmed["flags"])
    item = _review(client, labelled["uuid"])
    assert (item["presence_by_label"], item["flags"], item["clean"]) == (True, [], True)
    assert item["distance_m"] > 1000  # the GPS facts stay on the card's map
    assert _review(client, bare["uuid"])["clean"] is False

    supervisor = auth(client, "supervisor")
    wanted = {"q": labelled_meter["meter_number"]}
    page = client.get("/api/review/readings", params=wanted, headers=supervisor).json()
    approved = client.post(
        "/api/review/readings/approve-clean", json={"filter": wanted, "expected": page["clean"]}, headers=supervisor
    )
    assert approved.status_code == 200, approved.text
    assert _review(client, labelled["uuid"])["status"] == "approved"


def test_a_label_of_another_meter_is_flagged_and_left_out_of_bulk_approval(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    meter, other = meters[UNIT], meters[OTHER]
    item = _with_photo(client, headers, meter, evidence={"label": f"SN:{other['meter_number']}"})

    [result] = _push(client, headers, [item])["results"]
    _upload(client, headers)

    assert ReadingFlag.LABEL_OTHER_METER in result["flags"]
    review = _review(client, item["uuid"])
    assert review["evidence"]["label_verdict"] == "other_meter"
    assert (review["presence_by_label"], review["clean"]) == (False, False)
    supervisor = auth(client, "supervisor")
    listed = client.get("/api/review/readings", params={"flag": "label_other_meter"}, headers=supervisor).json()
    assert [found["uuid"] for found in listed["items"]] == [item["uuid"]]
    assert listed["clean"] == 0
    facets = client.get("/api/review/facets", headers=supervisor).json()
    assert {"code": "label_other_meter", "count": 1} in [
        {"code": facet["code"], "count": facet["count"]} for facet in facets["flags"]
    ]


def test_a_replacement_reading_may_carry_the_new_meters_label(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)[UNIT]
    previous = int(meter["previous"]["value"])
    swap = {"old_final_value": str(previous + 30), "new_meter_number": "NEW-7001", "new_initial_value": "0"}
    item = reading(meter, value="5", replacement=swap, evidence={"label": "SN: NEW-7001"}, **_far(meter))

    [result] = _push(client, headers, [item])["results"]

    assert result["outcome"] == "stored"
    assert ReadingFlag.LABEL_OTHER_METER not in result["flags"]
    assert ReadingFlag.GPS_FAR not in result["flags"]
    stored = _stored(client, item["uuid"])
    assert stored is not None
    assert stored.label_verdict is LabelVerdict.CONFIRMED


def test_a_reading_without_evidence_in_a_v3_batch_has_none_and_keeps_its_v1_hash(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    plain, labelled = reading(meters[UNIT]), reading(meters[OTHER], evidence={"room_session": ROOM})

    assert [r["outcome"] for r in _push(client, headers, [plain, labelled])["results"]] == ["stored", "stored"]

    row = _stored(client, plain["uuid"])
    assert row is not None
    assert (row.evidence, row.label_verdict, row.room_session) == (None, None, None)
    assert row.payload_sha256 == payload_sha256(ReadingV1.model_validate(plain))
    assert _review(client, plain["uuid"])["evidence"] is None
    room = _review(client, labelled["uuid"])
    assert room["evidence"] == {"photo_checks": None, "label": None, "label_verdict": None, "room_session": ROOM}
    assert room["presence_by_label"] is False


def test_a_protocol_2_item_carrying_evidence_is_rejected_naming_the_field(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    with_evidence, plain = reading(meters[UNIT], evidence={"label": "x"}), reading(meters[OTHER])

    answer = _push(client, headers, [with_evidence, plain], protocol=2)

    assert answer["protocol"] == 2
    rejected, stored = answer["results"]
    assert (rejected["outcome"], rejected["code"]) == ("rejected", "reading.invalid")
    assert rejected["message"].startswith("evidence:")
    assert stored["outcome"] == "stored"
    assert _stored(client, with_evidence["uuid"]) is None


@pytest.mark.parametrize(
    ("evidence", "field"),
    [
        ({"photo_checks": {**OVERRIDDEN, "override_reason": None}}, "evidence.photo_checks"),
        ({"photo_checks": {**OVERRIDDEN, "override_reason": "   "}}, "evidence.photo_checks.override_reason"),
        ({"photo_checks": {**OVERRIDDEN, "reuse_distance": 65}}, "evidence.photo_checks.reuse_distance"),
        ({"photo_checks": {**OVERRIDDEN, "reuse_distance": None}}, "evidence.photo_checks"),
        ({"photo_checks": {**OVERRIDDEN, "blur_score": "42"}}, "evidence.photo_checks.blur_score"),
        ({"label": "4001\x002102"}, "evidence.label"),
        ({"label": "4" * 300}, "evidence.label"),
        ({"label": ""}, "evidence.label"),
        ({"room_session": "not-a-uuid"}, "evidence.room_session"),
        ({"gps_fix": [30.9, 75.85]}, "evidence.gps_fix"),
        ("SN:40012102", "evidence"),
    ],
)
def test_evidence_outside_its_bounds_is_that_items_rejection_and_the_rest_are_stored(
    client: TestClient, evidence: Any, field: str
) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    bad, good = reading(meters[UNIT], evidence=evidence), reading(meters[THIRD], evidence={"label": "40012102"})

    rejected, stored = _push(client, headers, [bad, good])["results"]

    assert (rejected["outcome"], rejected["code"]) == ("rejected", "reading.invalid")
    assert rejected["message"].startswith(f"{field}:"), rejected["message"]
    assert "\x00" not in rejected["message"]
    assert stored["outcome"] == "stored"
    assert _stored(client, bad["uuid"]) is None


def test_evidence_that_is_not_json_an_object_never_fails_the_request(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)[UNIT]
    body = {
        "protocol": 3,
        "device_id": "test-device",
        "sent_at": datetime.now(UTC).isoformat(),
        "readings": [reading(meter, evidence=[1, 2, 3])],
    }
    response = client.post("/api/sync/push", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["code"] == "reading.invalid"
