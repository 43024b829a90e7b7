"""Against a real ``fieldmeter serve`` with the browser console mounted (as deployed), on SQLite and PostgreSQL:
the inputs that used to answer 5xx, plain text or the console's HTML now answer the JSON error shape, and a push
with one bad reading stores the others."""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.live_server import LIVE_NOW, start_live_server

ERROR_KEYS = {"code", "message", "details"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_real_server_with_console_answers_json_and_isolates_bad_readings(tmp_path: Path, backend: str) -> None:
    with ExitStack() as stack:
        server = start_live_server(stack, tmp_path, backend, env={"FIELDMETER_MOUNT_WEB_APP": "true"})
        with server.client() as anonymous:
            for method, path, status, code in [
                ("GET", "/api/no-such-thing", 404, "request.not_found"),
                ("POST", "/api/health", 405, "request.method_not_allowed"),
            ]:
                answer = anonymous.request(method, path)
                assert (answer.status_code, answer.json()["code"]) == (status, code)
                assert set(answer.json()) == ERROR_KEYS
            login = anonymous.post(
                "/api/auth/login", json={"username": "engineer1\x00", "password": "x", "device_id": "d"}
            )
            assert (login.status_code, login.json()["code"]) == (422, "request.invalid")
            assert "text/html" in anonymous.get("/").headers["content-type"]  # the console is still there
        with server.client(server.login("engineer1")) as engineer:
            meters = engineer.get("/api/sync/pull").json()["meters"]
            meter = next(m for m in meters if m["previous"] is not None)
            now = datetime.fromisoformat(LIVE_NOW).astimezone(UTC)
            batch = [
                {
                    "uuid": str(uuid.uuid4()),
                    "meter_id": meter["meter_id"],
                    "read_type": "actual",
                    "value": str(int(meter["previous"]["value"]) + 10 + index),
                    "captured_at": (now - timedelta(minutes=5)).isoformat(),
                    "gps_lat": meter["lat"],
                    "gps_lon": meter["lon"],
                    "gps_accuracy_m": 5.0,
                }
                for index in range(10)
            ]
            batch[3]["gps_lat"] = float("nan")  # sent as the bare NaN literal, as the phone once did
            body = {"protocol": 1, "device_id": "d", "sent_at": now.isoformat(), "readings": batch}
            answer = engineer.post(
                "/api/sync/push", content=json.dumps(body), headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 200, answer.text
            outcomes = [(r["outcome"], r["code"]) for r in answer.json()["results"]]
            assert outcomes[3] == ("rejected", "reading.invalid")
            assert [o for i, o in enumerate(outcomes) if i != 3] == [("stored", None)] * 9
