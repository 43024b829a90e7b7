"""Plain factory functions for server tests (no fixtures hidden inside)."""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from PIL import Image

from sync_server.demo import DEMO_PASSWORD

__all__ = ["NOW", "auth", "jpeg_bytes", "login", "meters_by_unit", "push", "reading", "sha256"]

# A pinned "now": 20 November 2025, 10:00 in Ludhiana.
NOW = datetime(2025, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata")).astimezone(UTC)


def login(client: TestClient, username: str, device_id: str = "test-device") -> dict[str, Any]:
    response = client.post(
        "/api/auth/login", json={"username": username, "password": DEMO_PASSWORD, "device_id": device_id}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def auth(client: TestClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(client, username)['access_token']}"}


def meters_by_unit(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    pulled = client.get("/api/sync/pull", headers=headers).json()
    return {meter["unit_code"]: meter for meter in pulled["meters"]}


def reading(meter: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A valid actual reading of ``meter`` (as pulled), 50 units above its previous one, at the meter."""
    previous = int(meter["previous"]["value"]) if meter.get("previous") else 0
    body: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "meter_id": meter["meter_id"],
        "read_type": "actual",
        "skip_reason": None,
        "value": str(previous + 50),
        "captured_at": (NOW - timedelta(minutes=5)).isoformat(),
        "gps_lat": meter["lat"],
        "gps_lon": meter["lon"],
        "gps_accuracy_m": 6.5,
        "photo_sha256": None,
        "note": None,
        "replaces": None,
    }
    body.update(overrides)
    return body


def push(
    client: TestClient, headers: dict[str, str], readings: list[dict[str, Any]], sent_at: datetime = NOW
) -> list[dict[str, Any]]:
    response = client.post(
        "/api/sync/push",
        json={
            "protocol": 1,
            "device_id": "test-device",
            "sent_at": sent_at.isoformat(),
            "readings": readings,
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def jpeg_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def finished_run(client: TestClient, headers: dict[str, str], run_id: int, timeout_s: float = 60.0) -> dict[str, Any]:
    """The bill run once it stopped running: runs draft on a thread of their own, answered 202 at once.
    ``timeout_s`` is a liveness bound (the run must end), not a speed figure."""
    deadline = time.monotonic() + timeout_s
    while True:
        run: dict[str, Any] = client.get(f"/api/billing/runs/{run_id}", headers=headers).json()
        if run["status"] != "running":
            return run
        assert time.monotonic() < deadline, f"bill run {run_id} still running: {run}"
        time.sleep(0.02)
