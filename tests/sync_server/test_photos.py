from __future__ import annotations

import io
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, func, select

from sync_server.models import Photo
from tests.sync_server.factories import auth, jpeg_bytes, meters_by_unit, push, reading, sha256


def _reading_with_photo(client: TestClient, data: bytes) -> tuple[dict[str, str], str, str]:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    item = reading(meter, photo_sha256=sha256(data))
    [result] = push(client, headers, [item])
    assert result["outcome"] == "stored"
    assert "photo_pending" in result["flags"]
    return headers, item["uuid"], sha256(data)


def _put(client: TestClient, headers: dict[str, str], digest: str, data: bytes, content_type: str = "image/jpeg"):
    return client.put(f"/api/photos/{digest}", content=data, headers=headers | {"Content-Type": content_type})


def _review_item(client: TestClient, reading_uuid: str) -> dict:
    response = client.get(f"/api/review/readings/{reading_uuid}", headers=auth(client, "supervisor"))
    assert response.status_code == 200
    return response.json()


def _photo_rows(client: TestClient) -> int:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return session.exec(select(func.count()).select_from(Photo)).one()


def test_photo_upload_stores_bytes_unchanged_and_repeat_is_noop(client: TestClient) -> None:
    data = jpeg_bytes()
    headers, reading_uuid, digest = _reading_with_photo(client, data)
    assert _put(client, headers, digest, data).status_code == 201
    assert _put(client, headers, digest, data).status_code == 200
    assert _photo_rows(client) == 1
    fetched = client.get(f"/api/photos/{digest}", headers=auth(client, "supervisor"))
    assert fetched.content == data
    item = _review_item(client, reading_uuid)
    assert item["photo_pending"] is False
    assert item["photo_url"] == f"/api/photos/{digest}"


def _bomb_png() -> bytes:
    # 10,000 × 10,000 pixels of one colour compress to a few kilobytes: a decompression bomb.
    width = height = 10_000
    raw_row = b"\x00" + b"\x00" * width
    idat = zlib.compress(raw_row * height, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _truncated_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()[:-2000]


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("not_an_image", 415, "photo.unsupported_type"),
        ("truncated", 422, "photo.undecodable"),
        ("bomb", 422, "photo.too_many_pixels"),
        ("gif", 415, "photo.unsupported_type"),
    ],
)
def test_bad_photo_is_refused_and_reading_stays_pending(client: TestClient, name: str, status: int, code: str) -> None:
    if name == "not_an_image":
        data = b"%PDF-1.4 definitely not a photo" * 10
    elif name == "truncated":
        data = _truncated_jpeg()
    elif name == "bomb":
        data = _bomb_png()
    else:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, "GIF")
        data = buffer.getvalue()
    headers, reading_uuid, digest = _reading_with_photo(client, data)
    response = _put(client, headers, digest, data, "image/png" if name == "bomb" else "image/jpeg")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert _photo_rows(client) == 0
    assert _review_item(client, reading_uuid)["photo_pending"] is True


def test_photo_hash_mismatch_is_refused(client: TestClient) -> None:
    data = jpeg_bytes()
    headers, reading_uuid, digest = _reading_with_photo(client, data)
    response = _put(client, headers, digest, jpeg_bytes(color=(1, 2, 3)))
    assert (response.status_code, response.json()["code"]) == (400, "photo.hash_mismatch")
    assert _review_item(client, reading_uuid)["photo_pending"] is True


def test_photo_over_size_limit_is_refused(client: TestClient) -> None:
    data = jpeg_bytes() + b"\x00" * (10 * 1024 * 1024)
    headers, reading_uuid, digest = _reading_with_photo(client, data)
    response = _put(client, headers, digest, data)
    assert (response.status_code, response.json()["code"]) == (413, "photo.too_large")
    assert _review_item(client, reading_uuid)["photo_pending"] is True


def test_photo_no_reading_names_it_is_404(client: TestClient) -> None:
    data = jpeg_bytes()
    response = _put(client, auth(client, "engineer1"), sha256(data), data)
    assert (response.status_code, response.json()["code"]) == (404, "photo.not_referenced")


def test_photo_wrong_content_type_is_415(client: TestClient) -> None:
    data = jpeg_bytes()
    headers, _, digest = _reading_with_photo(client, data)
    response = _put(client, headers, digest, data, "application/octet-stream")
    assert response.status_code == 415


def test_approve_refused_while_photo_pending_then_allowed(client: TestClient) -> None:
    data = jpeg_bytes()
    headers, reading_uuid, digest = _reading_with_photo(client, data)
    supervisor = auth(client, "supervisor")
    refused = client.post(f"/api/review/readings/{reading_uuid}/approve", headers=supervisor)
    assert (refused.status_code, refused.json()["code"]) == (409, "review.photo_pending")
    assert _put(client, headers, digest, data).status_code == 201
    approved = client.post(f"/api/review/readings/{reading_uuid}/approve", headers=supervisor)
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"


def test_other_engineer_cannot_fetch_photo(client: TestClient) -> None:
    data = jpeg_bytes()
    headers, _, digest = _reading_with_photo(client, data)
    _put(client, headers, digest, data)
    response = client.get(f"/api/photos/{digest}", headers=auth(client, "engineer2"))
    assert response.status_code == 404
