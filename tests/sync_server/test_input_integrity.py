"""Issue 7 (integrity): no input makes the server answer 5xx, every error has one shape, objects stay their owner's.

In-process app on SQLite and PostgreSQL (the ``client``/``app`` fixtures). The out-of-bounds readings are built
from the bounds the OpenAPI schema publishes, so the published contract and the runtime are checked together.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError
from sqlmodel import Session, col, func, select

from shared_billing.protocol import DB_ID_MAX
from sync_server.body_limit import JSON_BODY_LIMIT
from sync_server.config import Settings
from sync_server.main import create_app
from sync_server.models import AuditEvent, Reading
from tests.sync_server.factories import NOW, auth, jpeg_bytes, meters_by_unit, push, reading, sha256

ERROR_KEYS = {"code", "message", "details"}


def _count_readings(client: TestClient) -> int:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return session.exec(select(func.count()).select_from(Reading)).one()


def _push_raw(client: TestClient, headers: dict[str, str], readings: list[dict[str, Any]]) -> Any:
    # json.dumps writes NaN and Infinity as the bare literals a careless client (the phone's, once) sends.
    body = json.dumps({"protocol": 1, "device_id": "test-device", "sent_at": NOW.isoformat(), "readings": readings})
    return client.post("/api/sync/push", content=body, headers=headers | {"Content-Type": "application/json"})


def _reading_schema(client: TestClient) -> dict[str, Any]:
    schema = client.get("/api/openapi.json").json()
    body = schema["paths"]["/api/sync/push"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PushRequest"}
    components = schema["components"]["schemas"]
    # The latest protocol's reading (2: v1 and an optional replacement); a v1 envelope's items are its v1 subset.
    assert components["PushRequest"]["properties"]["readings"]["items"] == {"$ref": "#/components/schemas/ReadingV3"}
    reading_schema: dict[str, Any] = components["ReadingV3"]
    return reading_schema


def _bound(schema: dict[str, Any], field: str, key: str) -> Any:
    """A bound of a field as published (optional fields are anyOf [constrained, null])."""
    prop = schema["properties"][field]
    for option in prop.get("anyOf", [prop]):
        if key in option:
            return option[key]
    raise AssertionError(f"{field} publishes no {key}")


def _out_of_bounds(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Field -> overrides that break exactly one published bound (and the ones JSON Schema cannot say)."""
    return {
        "gps_lat": {"gps_lat": _bound(schema, "gps_lat", "maximum") + 1},
        "gps_lon": {"gps_lon": _bound(schema, "gps_lon", "minimum") - 1000},
        "gps_accuracy_m": {"gps_accuracy_m": _bound(schema, "gps_accuracy_m", "minimum") - 1},
        "meter_id": {"meter_id": _bound(schema, "meter_id", "maximum") + 1},
        "note": {"note": "x" * (_bound(schema, "note", "maxLength") + 1)},
        "value": {"value": "12\x00"},
        # Beyond what JSON Schema can publish: non-finite numbers, absurd years, 64-bit overflow, NUL in text.
        "gps_accuracy_m ": {"gps_accuracy_m": float("inf")},
        "gps_lat ": {"gps_lat": float("nan")},
        "captured_at": {"captured_at": "0001-01-01T00:00:00+00:00"},
        "captured_at ": {"captured_at": "9999-12-31T23:59:59+00:00"},
        "meter_id ": {"meter_id": 2**63},
        "note ": {"note": "door\x00code"},
    }


def test_published_reading_bounds(client: TestClient) -> None:
    schema = _reading_schema(client)
    assert (_bound(schema, "meter_id", "minimum"), _bound(schema, "meter_id", "maximum")) == (1, DB_ID_MAX)
    assert (_bound(schema, "gps_lat", "minimum"), _bound(schema, "gps_lat", "maximum")) == (-90, 90)
    assert (_bound(schema, "gps_lon", "minimum"), _bound(schema, "gps_lon", "maximum")) == (-180, 180)
    assert _bound(schema, "gps_accuracy_m", "minimum") == 0
    assert "\\x00" in _bound(schema, "note", "pattern")
    assert "2000-01-01" in schema["properties"]["captured_at"]["description"]


def test_one_nan_reading_is_rejected_and_the_nine_beside_it_are_stored(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    batch = [reading(meter) for _ in range(10)]
    batch[4]["gps_lat"] = float("nan")
    before = _count_readings(client)
    response = _push_raw(client, headers, batch)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["uuid"] for r in results] == [item["uuid"] for item in batch]
    assert (results[4]["outcome"], results[4]["code"]) == ("rejected", "reading.invalid")
    assert results[4]["message"].startswith("gps_lat")
    assert [r["outcome"] for i, r in enumerate(results) if i != 4] == ["stored"] * 9
    assert _count_readings(client) == before + 9


def test_each_out_of_bounds_item_is_rejected_on_its_own(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    cases = _out_of_bounds(_reading_schema(client))
    bad = [reading(meter, **overrides) for overrides in cases.values()]
    good = [reading(meter) for _ in range(3)]
    batch = [good[0], *bad[:6], good[1], *bad[6:], good[2]]
    before = _count_readings(client)
    response = _push_raw(client, headers, batch)
    assert response.status_code == 200, response.text
    by_uuid = {r["uuid"]: r for r in response.json()["results"]}
    for (field, _), item in zip(cases.items(), bad, strict=True):
        result = by_uuid[item["uuid"]]
        assert (result["outcome"], result["code"], result["status"]) == ("rejected", "reading.invalid", None), field
        assert result["message"].startswith(field.strip()), (field, result["message"])
    assert [by_uuid[item["uuid"]]["outcome"] for item in good] == ["stored"] * 3
    assert _count_readings(client) == before + 3


def test_a_device_clock_a_year_off_is_stored_and_flagged(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    year_ago = NOW - timedelta(days=365)
    [result] = push(client, headers, [reading(meter, captured_at=year_ago.isoformat())], sent_at=year_ago)
    assert result["outcome"] == "stored"
    assert "clock_drift" in result["flags"]


def test_an_item_without_a_readable_uuid_fails_the_batch_naming_its_index(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    before = _count_readings(client)
    response = _push_raw(client, headers, [reading(meter), reading(meter, uuid="not-a-uuid")])
    assert response.status_code == 422
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "request.invalid"
    assert body["details"]["errors"][0]["loc"] == ["body", "readings", "1", "uuid"]
    assert _count_readings(client) == before


UNKNOWN_READING = "6f1c2a4e-1d3b-4c5a-9e8f-0a1b2c3d4e5f"


@pytest.mark.parametrize(
    ("who", "method", "url", "body"),
    [
        ("engineer1", "GET", f"/api/sync/pull?cursor={2**63}", None),
        ("engineer1", "GET", "/api/sync/pull?cursor=-1", None),
        ("admin", "GET", f"/api/bills/{DB_ID_MAX + 1}", None),
        ("admin", "GET", f"/api/bills/{2**63}", None),
        ("admin", "GET", f"/api/bills?block_id={2**64}", None),
        ("admin", "GET", "/api/bills?period=0001-01", None),
        ("admin", "GET", "/api/accounts/0/ledger", None),
        ("admin", "GET", "/api/audit/events?action=%00", None),
        ("admin", "PUT", f"/api/meters/{2**31}/assignment", {"engineer_id": 1}),
        ("admin", "PUT", "/api/meters/1/assignment", {"engineer_id": 2**63}),
        ("admin", "POST", "/api/billing/runs", {"block_id": 1, "period": "9999-12"}),
        ("admin", "POST", "/api/payments", {"unit_id": 1, "amount": "1", "paid_on": "0001-01-01", "mode": "cash"}),
        # A fixed uuid: parameter ids must be the same in every collection (pytest-xdist workers compare them).
        ("supervisor", "POST", f"/api/review/readings/{UNKNOWN_READING}/reject", {"reason": "no\x00"}),
        (None, "POST", "/api/auth/login", {"username": "admin\x00", "password": "x", "device_id": "d"}),
        (None, "POST", "/api/auth/refresh", {"refresh_token": "t" * 5000, "device_id": "d"}),
    ],
)
def test_out_of_range_parameters_answer_422_in_the_error_shape(
    client: TestClient, who: str | None, method: str, url: str, body: dict[str, Any] | None
) -> None:
    headers = auth(client, who) if who else {}
    response = client.request(method, url, headers=headers, json=body)
    assert response.status_code == 422, response.text
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["code"] == "request.invalid"


def test_unknown_path_wrong_method_and_big_body_answer_the_error_shape(client: TestClient) -> None:
    missing = client.get("/api/no-such-thing")
    assert (missing.status_code, missing.json()["code"]) == (404, "request.not_found")
    wrong = client.delete("/api/health")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "request.method_not_allowed")
    assert wrong.headers["allow"] == "GET"
    headers = auth(client, "engineer1") | {"Content-Type": "application/json"}
    big = client.post("/api/sync/push", content=b" " * (JSON_BODY_LIMIT + 1), headers=headers)
    assert (big.status_code, big.json()["code"]) == (413, "request.too_large")
    for response in (missing, wrong, big):
        assert set(response.json()) == ERROR_KEYS


def test_with_the_console_mounted_api_paths_still_answer_json(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'f.db'}", secret_key="c" * 40)
    assert settings.mount_web_app
    app = create_app(settings)
    client = TestClient(app)  # no lifespan: the console is never asked for a page here
    missing = client.get("/api/no-such-thing")
    assert (missing.status_code, missing.json()["code"]) == (404, "request.not_found")
    wrong = client.post("/api/health")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "request.method_not_allowed")
    assert wrong.headers["allow"] == "GET"
    assert client.get("/api/health").json()["status"] == "ok"
    app.state.context.engine.dispose()


def test_unexpected_and_database_errors_answer_generic_json(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("SELECT password_hash FROM user")

    def data() -> None:
        raise DataError("INSERT INTO reading VALUES (...)", {}, Exception("integer out of range"))

    app.add_api_route("/api/test-boom", boom)
    app.add_api_route("/api/test-data", data)
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="sync_server.errors"):
        crash = client.get("/api/test-boom")
    assert (crash.status_code, crash.json()["code"]) == (500, "server.error")
    assert "SELECT" not in crash.text
    assert "SELECT password_hash" in caplog.text  # the server log has what the client must not see
    refused = client.get("/api/test-data")
    assert (refused.status_code, refused.json()["code"]) == (422, "request.out_of_range")
    assert "INSERT" not in refused.text
    for response in (crash, refused):
        assert set(response.json()) == ERROR_KEYS


def test_a_photo_is_readable_by_its_uploader_and_reviewers_only(client: TestClient) -> None:
    data = jpeg_bytes()
    digest = sha256(data)
    engineer1 = auth(client, "engineer1")
    engineer2 = auth(client, "engineer2")
    mine = meters_by_unit(client, engineer1)["2BHK-B1-GF"]
    [stored] = push(client, engineer1, [reading(mine, photo_sha256=digest)])
    assert stored["outcome"] == "stored"
    put = client.put(f"/api/photos/{digest}", content=data, headers=engineer1 | {"Content-Type": "image/jpeg"})
    assert put.status_code == 201
    # engineer2 names the same hash in a reading of his own meter: it does not open the photo to him.
    theirs = meters_by_unit(client, engineer2)["2BHK-C1-GF"]
    [named] = push(client, engineer2, [reading(theirs, photo_sha256=digest)])
    assert named["outcome"] == "stored"
    denied = client.get(f"/api/photos/{digest}", headers=engineer2)
    assert (denied.status_code, denied.json()["code"]) == (404, "photo.not_found")
    assert client.get(f"/api/photos/{digest}", headers=engineer1).content == data
    for reviewer in ("supervisor", "admin"):
        assert client.get(f"/api/photos/{digest}", headers=auth(client, reviewer)).content == data


def test_another_engineers_reading_uuid_is_a_bare_conflict_and_nothing_is_written(client: TestClient) -> None:
    engineer1 = auth(client, "engineer1")
    engineer2 = auth(client, "engineer2")
    original = reading(meters_by_unit(client, engineer1)["2BHK-B1-GF"])
    push(client, engineer1, [original])
    own_meter = meters_by_unit(client, engineer2)["2BHK-C1-GF"]
    same_payload = dict(original)
    other_payload = reading(own_meter, uuid=original["uuid"])
    for attempt in (same_payload, other_payload):
        [result] = push(client, engineer2, [attempt])
        assert result["outcome"] == "conflict"
        assert result["code"] == "reading.conflict"
        assert (result["status"], result["flags"]) == (None, [])
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        row = session.exec(select(Reading).where(col(Reading.uuid) == uuid.UUID(original["uuid"]))).one()
        assert row.value_text == original["value"]
        assert row.meter_id == original["meter_id"]
        naming = session.exec(select(AuditEvent).where(AuditEvent.entity_id == original["uuid"])).all()
        assert naming == []
