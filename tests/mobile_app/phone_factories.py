"""Plain factories for the phone's tests, and a tiny in-memory fake of the server's API for MockTransport."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from pydantic import ValidationError

from mobile_app.store import Store, open_store
from mobile_app.sync import Backoff, MemoryTokenStore, SyncApi, SyncEngine, TokenPair
from shared_billing.protocol import (
    READING_MODELS,
    Decision,
    DecisionStatus,
    MeterAssignment,
    PreviousReading,
    PullResponse,
    PushRequest,
    ReadingV3,
    payload_sha256,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"fake jpeg body" + b"\xff\xd9"


def make_reading(**overrides: Any) -> ReadingV3:
    fields: dict[str, Any] = {
        "uuid": uuid4(),
        "meter_id": 1,
        "read_type": "actual",
        "value": "1234.5",
        "captured_at": T0,
        "gps_lat": 12.97,
        "gps_lon": 77.59,
        "gps_accuracy_m": 8.0,
    }
    fields.update(overrides)
    return ReadingV3(**fields)


def make_photo(directory: Path, data: bytes = JPEG_BYTES) -> tuple[Path, str]:
    """A photo file and its SHA-256."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = directory / f"{sha256}.jpg"
    path.write_bytes(data)
    return path, sha256


def make_meter(**overrides: Any) -> MeterAssignment:
    fields: dict[str, Any] = {
        "meter_id": 1,
        "meter_number": "MTR-0001",
        "unit_code": "A-101",
        "block_code": "A",
        "kind": "unit",
        "dials": 6,
        "decimals": 1,
        "multiplier": "1",
        "lat": 12.97,
        "lon": 77.59,
        "previous": PreviousReading(value="1200.0", captured_at=T0 - timedelta(days=30)),
    }
    fields.update(overrides)
    return MeterAssignment(**fields)


def make_pull(**overrides: Any) -> PullResponse:
    fields: dict[str, Any] = {
        "cursor": 1,
        "full": True,
        "meters": [],
        "removed_meter_ids": [],
        "decisions": [],
    }
    fields.update(overrides)
    return PullResponse(**fields)


def make_decision(reading: ReadingV3, **overrides: Any) -> Decision:
    fields: dict[str, Any] = {
        "reading_uuid": reading.uuid,
        "status": DecisionStatus.APPROVED,
        "reason": None,
        "decided_at": T0 + timedelta(days=1),
    }
    fields.update(overrides)
    return Decision(**fields)


def make_store(tmp_path: Path) -> Store:
    return open_store(path=tmp_path / "phone" / "fieldmeter.db")


class Clock:
    """A settable clock: ``clock()`` is now; tests move it with ``advance``."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def problem(status: int, code: str, message: str = "refused", **details: Any) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "details": details})


@dataclass
class FakeServer:
    """The parts of /api the phone calls, in memory. ``queued`` answers (by "METHOD /path") go out first."""

    username: str = "eng"
    password: str = "secret"
    not_assigned: set[int] = field(default_factory=set)
    pull_response: PullResponse = field(default_factory=make_pull)
    stored: dict[str, str] = field(default_factory=dict)  # uuid -> payload hash
    photo_refs: set[str] = field(default_factory=set)
    photos: dict[str, bytes] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> device id
    queued: dict[str, deque[httpx.Response]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    push_sizes: list[int] = field(default_factory=list)
    push_protocols: list[int] = field(default_factory=list)

    def queue(self, route: str, *responses: httpx.Response) -> None:
        self.queued.setdefault(route, deque()).extend(responses)

    def issue_tokens(self, device_id: str) -> TokenPair:
        pair = TokenPair(
            access_token=secrets.token_hex(8),
            refresh_token=secrets.token_hex(8),
            expires_in=900,
            role="engineer",
            user_id=7,
        )
        self.access_tokens.add(pair.access_token)
        self.refresh_tokens[pair.refresh_token] = device_id
        return pair

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def count(self, route: str) -> int:
        method, path = route.split(" ", 1)
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        route = f"{request.method} /api/photos/*" if path.startswith("/api/photos/") else f"{request.method} {path}"
        if self.queued.get(route):
            return self.queued[route].popleft()
        if route == "POST /api/auth/login":
            return self._login(json.loads(request.content))
        if route == "POST /api/auth/refresh":
            return self._refresh(json.loads(request.content))
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return problem(401, "auth.invalid_token")
        if route == "GET /api/me":
            return httpx.Response(200, json={"id": 7, "username": self.username, "full_name": "E", "role": "engineer"})
        if route == "POST /api/sync/push":
            return self._push(request.content)
        if route == "PUT /api/photos/*":
            return self._photo(path.rsplit("/", 1)[1], request.content)
        if route == "GET /api/sync/pull":
            return httpx.Response(200, content=self.pull_response.model_dump_json())
        return problem(404, "request.not_found")

    def _login(self, body: dict[str, str]) -> httpx.Response:
        if (body["username"], body["password"]) != (self.username, self.password):
            return problem(401, "auth.invalid_credentials")
        return httpx.Response(200, json=self.issue_tokens(body["device_id"]).model_dump())

    def _refresh(self, body: dict[str, str]) -> httpx.Response:
        if self.refresh_tokens.pop(body["refresh_token"], None) != body["device_id"]:
            return problem(401, "auth.invalid_token")
        return httpx.Response(200, json=self.issue_tokens(body["device_id"]).model_dump())

    def _push(self, content: bytes) -> httpx.Response:
        # Like the server: the envelope is checked as a whole, each reading on its own (a bad one is rejected).
        body = json.loads(content)
        items = body.pop("readings")
        PushRequest.model_validate({**body, "readings": []})
        self.push_sizes.append(len(items))
        self.push_protocols.append(body.get("protocol", 1))
        results: list[dict[str, object]] = []
        for item in items:
            try:
                reading = READING_MODELS[body.get("protocol", 1)].model_validate(item)
            except ValidationError:
                results.append(
                    {"uuid": item["uuid"], "outcome": "rejected", "code": "reading.invalid", "message": "no"}
                )
                continue
            uuid, digest = str(reading.uuid), payload_sha256(reading)
            if reading.meter_id in self.not_assigned:
                results.append({"uuid": uuid, "outcome": "rejected", "code": "reading.not_assigned", "message": "no"})
            elif uuid not in self.stored:
                self.stored[uuid] = digest
                if reading.photo_sha256:
                    self.photo_refs.add(reading.photo_sha256)
                flags = ["photo_pending"] if reading.photo_sha256 else []
                results.append({"uuid": uuid, "outcome": "stored", "flags": flags, "status": "submitted"})
            elif self.stored[uuid] == digest:
                results.append({"uuid": uuid, "outcome": "duplicate", "status": "submitted"})
            else:
                results.append({"uuid": uuid, "outcome": "conflict", "code": "reading.conflict"})
        answer = {"protocol": body.get("protocol", 1), "received_at": T0.isoformat(), "results": results}
        return httpx.Response(200, json=answer)

    def _photo(self, sha256: str, data: bytes) -> httpx.Response:
        if sha256 not in self.photo_refs:
            return problem(404, "photo.not_referenced")
        if hashlib.sha256(data).hexdigest() != sha256:
            return problem(400, "photo.hash_mismatch")
        if sha256 in self.photos:
            return httpx.Response(200)
        self.photos[sha256] = data
        return httpx.Response(201)


def make_api(
    server: FakeServer,
    *,
    device_id: str = "device-1",
    signed_in: bool = True,
    handler: Callable[[httpx.Request], httpx.Response] | None = None,
) -> SyncApi:
    """A signed-in client of ``server``; ``handler`` (which may call ``server``) stands in front of it."""
    transport = httpx.MockTransport(handler or server)
    http = httpx.Client(transport=transport, base_url="https://fieldmeter.test")
    api = SyncApi(http=http, tokens=MemoryTokenStore(), device_id=device_id)
    if signed_in:
        api.login(username=server.username, password=server.password, device_id=device_id)
    return api


def make_engine(store: Store, server: FakeServer, clock: Clock, **overrides: Any) -> SyncEngine:
    fields: dict[str, Any] = {
        "store": store,
        "api": make_api(server),
        "device_id": "device-1",
        "clock": clock,
        "backoff": Backoff(random=lambda: 0.5, cap_s=60.0),
    }
    fields.update(overrides)
    return SyncEngine(**fields)
