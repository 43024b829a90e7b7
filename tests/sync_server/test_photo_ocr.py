"""The register read off meter photos on the server (sync_server/photo_ocr.py, rapidocr with its bundled models):
faces drawn with a font, several digit counts, decimals, a photo turned by EXIF; then the job that reads waiting
photos and what the review shows and takes in bulk (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared_billing.protocol import OcrVerdict
from sync_server.context import AppContext
from sync_server.photo_ocr import read_register, read_waiting_photos
from sync_server.scheduling.store import OCR_JOB
from tests.support.meter_photos import meter_jpeg
from tests.sync_server.factories import NOW, auth, meters_by_unit, push, reading, sha256


@pytest.mark.parametrize(
    ("register", "turned"),
    [("04521", False), ("123456", False), ("01234.5", False), ("0887231", True)],
)
def test_the_register_is_read_off_the_face(register: str, turned: bool) -> None:
    found = read_register(meter_jpeg(register, turned=turned))
    assert found is not None
    assert found.value == register
    assert Decimal("0.8") <= found.confidence <= 1


def _reviewed(client: TestClient, **filters: Any) -> dict[str, Any]:
    answer = client.get("/api/review/readings", params=filters, headers=auth(client, "supervisor"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_waiting_photos_are_read_and_a_mismatch_is_for_a_person(client: TestClient) -> None:
    admin, engineer = auth(client, "admin"), auth(client, "engineer1")
    switched = client.put(f"/api/schedules/{OCR_JOB}", json={"enabled": True}, headers=admin)
    assert switched.status_code == 200, switched.text
    meters = meters_by_unit(client, engineer)
    pushed: dict[str, str] = {}
    for unit, shown_more in (("5BHK-B17-FF", 77), ("4BHK-B5-GF", 51)):
        meter = meters[unit]
        typed = int(meter["previous"]["value"]) + 77
        photo = meter_jpeg(f"{typed + shown_more - 77:06d}")  # B5's photo shows 51 - 77 = 26 units less
        item = reading(meter, value=str(typed), photo_sha256=sha256(photo))
        push(client, engineer, [item])
        stored = client.put(
            f"/api/photos/{sha256(photo)}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"}
        )
        assert stored.status_code == 201, stored.text
        pushed[unit] = item["uuid"]

    page = _reviewed(client)
    waiting = {item["uuid"]: item for item in page["items"]}
    clean_before = page["clean"]  # what bulk approval would take (counted in SQL): neither of the two
    for uuid in pushed.values():
        assert waiting[uuid]["ocr"] == {"verdict": "pending", "value": None, "confidence": None}
        assert waiting[uuid]["clean"] is False  # not taken in bulk before its photo is read
    assert {item["uuid"] for item in _reviewed(client, ocr="pending")["items"]} >= set(pushed.values())

    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    outcome = read_waiting_photos(context, NOW)
    assert outcome.result.startswith("2 photos read, 0 unreadable, 2 readings judged")

    page = _reviewed(client)
    assert page["clean"] == clean_before + 1  # the match joins the clean ones, the mismatch does not
    items = {item["uuid"]: item for item in page["items"]}
    matched, differs = items[pushed["5BHK-B17-FF"]], items[pushed["4BHK-B5-GF"]]
    assert matched["ocr"]["verdict"] == OcrVerdict.MATCH
    assert matched["ocr"]["value"].lstrip("0") == matched["value"]
    assert matched["clean"] is True
    assert differs["ocr"]["verdict"] == OcrVerdict.MISMATCH
    assert int(differs["ocr"]["value"]) == int(differs["value"]) - 26
    assert differs["clean"] is False
    assert [item["uuid"] for item in _reviewed(client, ocr="mismatch")["items"]] == [pushed["4BHK-B5-GF"]]
    # A second pass has nothing left to read.
    assert read_waiting_photos(context, NOW).result.startswith("0 photos read")
