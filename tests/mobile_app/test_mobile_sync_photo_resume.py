"""A photo upload cut halfway resumes where the server's copy ends (docs/api.md "Photos").

Against the real server in process (``client``: SQLite and PostgreSQL) behind a transport that loses the
connection after a number of bytes; the piece logic alone against a scripted sender; the order of a sync pass
against the MockTransport fake.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mobile_app.store import list_readings, record_reading
from mobile_app.sync import ApiError, MemoryTokenStore, SyncApi, SyncEngine, TransportError
from mobile_app.sync.photo_upload import send_in_pieces
from sync_server.demo import DEMO_PASSWORD
from tests.mobile_app.phone_factories import Clock, FakeServer, make_engine, make_photo, make_reading, make_store
from tests.sync_server.factories import NOW, auth, meters_by_unit

PIECE = 4096
PHOTOS = "/api/photos/"


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((220, 160), 50).convert("RGB").save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    assert len(data) > 3 * PIECE  # several pieces, or the test tests nothing
    return data


class CuttingNetwork(httpx.BaseTransport):
    """Passes requests to the in-process server; while ``budget`` is set, a photo PUT that would take the bytes
    sent past it is lost on the way (the connection dropped mid-upload). Counts the photo bytes that arrive."""

    def __init__(self, server: TestClient) -> None:
        self.server = server
        self.budget: int | None = None
        self.photo_bytes_sent = 0
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.requests.append(request)
        if request.method == "PUT" and request.url.path.startswith(PHOTOS):
            if self.budget is not None and self.photo_bytes_sent + len(body) > self.budget:
                raise httpx.WriteError("connection lost mid-upload")
            self.photo_bytes_sent += len(body)
        answer = self.server.request(request.method, request.url.path, content=body, headers=request.headers)
        # The test client has decoded the body already: its encoding and length headers no longer apply.
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-encoding", "content-length")}
        return httpx.Response(answer.status_code, headers=headers, content=answer.content)


def _api(network: CuttingNetwork) -> SyncApi:
    http = httpx.Client(transport=network, base_url="http://127.0.0.1", timeout=10.0)
    api = SyncApi(http=http, tokens=MemoryTokenStore(), photo_piece_bytes=PIECE)
    api.login(username="engineer1", password=DEMO_PASSWORD, device_id="phone-1")
    return api


def _server_offset(client: TestClient, sha256: str) -> int:
    answer = client.head(f"{PHOTOS}{sha256}", headers=auth(client, "engineer1"))
    assert answer.status_code == 204
    return int(answer.headers["Upload-Offset"])


def test_a_photo_cut_halfway_resumes_from_the_servers_offset_on_the_next_sync(
    tmp_path: Path, client: TestClient
) -> None:
    data = _photo()
    network = CuttingNetwork(client)
    store = make_store(tmp_path)
    engine = SyncEngine(store=store, api=_api(network), device_id="phone-1", clock=lambda: NOW)
    meter = meters_by_unit(client, auth(client, "engineer1"))["2BHK-B1-GF"]
    value = str(int(meter["previous"]["value"]) + 50)
    path, sha256 = make_photo(tmp_path, data)
    reading = make_reading(meter_id=meter["meter_id"], value=value, captured_at=NOW, photo_sha256=sha256)
    record_reading(store=store, reading=reading, photo_path=path)
    network.budget = 2 * PIECE  # two pieces get through, the third is lost with the network

    first = engine.run_once()

    assert first.error is not None
    assert first.photos == 0
    assert list_readings(store=store)[0].photo_pending
    assert _server_offset(client, sha256) == 2 * PIECE
    network.budget, network.photo_bytes_sent, network.requests = None, 0, []

    second = engine.run_once(ignore_retry_times=True)

    assert (second.error, second.photos) == (None, 1)
    assert network.photo_bytes_sent == len(data) - 2 * PIECE  # only the rest went up
    photo_calls = [r for r in network.requests if r.url.path == f"{PHOTOS}{sha256}"]
    assert photo_calls[0].method == "HEAD"
    assert photo_calls[1].headers["Content-Range"] == f"bytes {2 * PIECE}-{3 * PIECE - 1}/{len(data)}"
    assert client.get(f"{PHOTOS}{sha256}", headers=auth(client, "supervisor")).content == data
    assert not list_readings(store=store)[0].photo_pending


def test_small_photos_still_go_whole_in_one_put(client: TestClient) -> None:
    data = _photo()[:PIECE]  # a prefix: never stored, only the request shape is looked at
    network = CuttingNetwork(client)
    with pytest.raises(ApiError):  # no reading names it: 404, as before
        _api(network).upload_photo(sha256=hashlib.sha256(data).hexdigest(), data=data, content_type="image/jpeg")
    [put] = network.requests[-1:]
    assert (put.method, "Content-Range" in put.headers) == ("PUT", False)


class ScriptedSender:
    """A server stand-in for the piece logic: holds ``offset``, and answers each piece from ``script`` first."""

    def __init__(self, offset: int | None, script: list[ApiError | None] | None = None) -> None:
        self.offset = offset
        self.script = script or []
        self.starts: list[int] = []

    def photo_offset(self, sha256: str) -> int | None:
        return self.offset

    def put_photo_piece(self, *, sha256: str, data: bytes, start: int, total: int, content_type: str) -> bool | None:
        self.starts.append(start)
        if self.script and (refusal := self.script.pop(0)) is not None:
            raise refusal
        return True if start + len(data) == total else None


def test_a_409_moves_the_upload_to_the_offset_it_names() -> None:
    sender = ScriptedSender(0, [ApiError(409, "request.conflict", "elsewhere", {"offset": 20})])
    assert send_in_pieces(sender, sha256="a", data=b"x" * 40, content_type="image/jpeg", piece_bytes=10) is True
    assert sender.starts == [0, 20, 30]


def test_a_resumed_upload_refused_by_the_hash_starts_over_once_from_zero() -> None:
    mismatch = ApiError(400, "photo.hash_mismatch", "discarded", {"offset": 0})
    sender = ScriptedSender(10, [None, mismatch])
    assert send_in_pieces(sender, sha256="a", data=b"x" * 30, content_type="image/jpeg", piece_bytes=10) is True
    assert sender.starts == [10, 20, 0, 10, 20]


def test_a_fresh_upload_refused_by_the_hash_is_not_sent_again() -> None:
    mismatch = ApiError(400, "photo.hash_mismatch", "discarded", {"offset": 0})
    sender = ScriptedSender(0, [None, None, mismatch])
    with pytest.raises(ApiError):
        send_in_pieces(sender, sha256="a", data=b"x" * 30, content_type="image/jpeg", piece_bytes=10)
    assert sender.starts == [0, 10, 20]


def test_a_photo_already_stored_sends_no_piece() -> None:
    sender = ScriptedSender(None)
    assert send_in_pieces(sender, sha256="a", data=b"x" * 30, content_type="image/jpeg", piece_bytes=10) is False
    assert sender.starts == []


def test_a_network_cut_is_the_callers_transport_error() -> None:
    sender = ScriptedSender(0, [None, TransportError("cut")])  # type: ignore[list-item]
    with pytest.raises(TransportError):
        send_in_pieces(sender, sha256="a", data=b"x" * 30, content_type="image/jpeg", piece_bytes=10)


def test_a_sync_pass_pushes_readings_before_it_uploads_their_photos(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    path, sha256 = make_photo(tmp_path)
    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)

    make_engine(store, server, clock).run_once()

    calls = [f"{r.method} {r.url.path}" for r in server.requests]
    push, upload = calls.index("POST /api/sync/push"), calls.index(f"PUT /api/photos/{sha256}")
    assert push < upload
    assert all(not call.startswith("PUT /api/photos/") for call in calls[:push])
