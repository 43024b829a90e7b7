"""Photo decoding bounded in memory and in number: big photos arriving together are all stored, a few at a time."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from sync_server.demo import DEMO_PASSWORD
from sync_server.photo_blobs import FolderBlobs
from sync_server.photo_store import MAX_SIDE, PhotoStore
from sync_server.problems import Problem
from tests.support.live_server import LIVE_NOW, LiveServer
from tests.sync_server.factories import NOW, sha256

BIG = (6000, 6000)  # 36 MP: under the 40 MP limit, ~108 MB as a decoded RGB picture


def _big_photos(count: int, png_every: int = 4) -> list[tuple[bytes, str]]:
    """``count`` distinct 36 MP photos (smooth, so small files), every ``png_every``-th a PNG (decoded in full)."""
    ramp = Image.linear_gradient("L").resize(BIG)
    picture = Image.merge(
        "RGB", [ramp, ramp.transpose(Image.Transpose.ROTATE_90), ramp.transpose(Image.Transpose.ROTATE_180)]
    )
    photos = []
    for index in range(count):
        picture.putpixel((index, 0), (index, 255 - index, 7))  # a different hash each
        buffer = io.BytesIO()
        if index % png_every == png_every - 1:
            picture.save(buffer, "PNG", compress_level=1)
            photos.append((buffer.getvalue(), "image/png"))
        else:
            picture.save(buffer, "JPEG", quality=85, comment=f"photo {index}")  # a quantized-away pixel: distinct
            photos.append((buffer.getvalue(), "image/jpeg"))
    return photos


async def _login(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await http.post(
        "/api/auth/login", json={"username": username, "password": DEMO_PASSWORD, "device_id": "photo-test"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _push_readings_naming(
    http: httpx.AsyncClient, headers: dict[str, str], hashes: list[str], now: datetime
) -> None:
    meters = (await http.get("/api/sync/pull", headers=headers)).json()["meters"]
    assert len(meters) >= len(hashes)
    readings: list[dict[str, Any]] = [
        {
            "uuid": str(uuid.uuid4()),
            "meter_id": meter["meter_id"],
            "read_type": "actual",
            "value": str(int(meter["previous"]["value"]) + 40 if meter["previous"] else 40),
            "captured_at": (now - timedelta(minutes=5)).isoformat(),
            "gps_lat": meter["lat"],
            "gps_lon": meter["lon"],
            "gps_accuracy_m": 5.0,
            "photo_sha256": digest,
        }
        for meter, digest in zip(meters, hashes, strict=False)
    ]
    body = {"protocol": 1, "device_id": "photo-test", "sent_at": now.isoformat(), "readings": readings}
    answer = await http.post("/api/sync/push", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert [result["outcome"] for result in answer.json()["results"]] == ["stored"] * len(hashes)


async def _upload_all(
    http: httpx.AsyncClient, photos: list[tuple[bytes, str]], now: datetime
) -> tuple[list[int], dict[str, str]]:
    engineer = await _login(http, "engineer1")
    await _push_readings_naming(http, engineer, [sha256(data) for data, _ in photos], now)
    answers = await asyncio.gather(
        *(
            http.put(f"/api/photos/{sha256(data)}", content=data, headers=engineer | {"Content-Type": kind})
            for data, kind in photos
        )
    )
    return [answer.status_code for answer in answers], await _login(http, "supervisor")


def test_concurrent_big_photos_in_process_never_decode_more_than_the_limit_at_once(demo_app: FastAPI) -> None:
    app = demo_app
    photos = _big_photos(6, png_every=2)
    store: PhotoStore = app.state.context.photos
    limit = app.state.context.settings.photo_decode_concurrency
    assert limit == 2

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as http:
            statuses, supervisor = await _upload_all(http, photos, NOW)
            fetched = await http.get(f"/api/photos/{sha256(photos[1][0])}", headers=supervisor)
            assert fetched.content == photos[1][0]
            return statuses

    assert asyncio.run(scenario()) == [201] * len(photos)
    assert 1 <= store.peak_decodes <= limit


def test_photo_with_a_side_over_the_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    store = PhotoStore(FolderBlobs(tmp_path), max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
    buffer = io.BytesIO()
    Image.new("L", (MAX_SIDE + 1, 2)).save(buffer, "PNG")
    data = buffer.getvalue()
    with pytest.raises(Problem) as refused:
        store.check(sha256(data), data)
    assert (refused.value.status, refused.value.code) == (422, "photo.too_many_pixels")
    assert store.peak_decodes == 0  # refused before any decode


def test_big_jpeg_is_checked_without_a_full_size_picture(tmp_path: Path) -> None:
    store = PhotoStore(FolderBlobs(tmp_path), max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
    [(data, _)] = _big_photos(1)
    opened: list[tuple[int, int]] = []
    original_load = Image.Image.load

    def spy(image: Image.Image) -> Any:
        result = original_load(image)
        opened.append(image.size)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("PIL.JpegImagePlugin.JpegImageFile.load", spy, raising=False)
        checked = store.check(sha256(data), data)
    assert (checked.width, checked.height) == BIG  # the stored dimensions are the photo's own
    assert opened == [(BIG[0] // 8, BIG[1] // 8)]  # the decoded picture: 1/64 of the pixels


def test_concurrent_big_photos_against_a_real_server_are_all_stored(live_server: LiveServer) -> None:
    photos = _big_photos(8)
    now = datetime.fromisoformat(LIVE_NOW).astimezone(UTC)

    async def scenario() -> list[int]:
        async with live_server.async_client() as http:
            statuses, supervisor = await _upload_all(http, photos, now)
            for data, kind in (photos[0], photos[3]):
                fetched = await http.get(f"/api/photos/{sha256(data)}", headers=supervisor)
                assert (fetched.content, fetched.headers["content-type"]) == (data, kind)
            return statuses

    assert asyncio.run(scenario()) == [201] * len(photos)
    assert live_server.process.is_running()


def test_webp_is_decoded_in_full_and_a_truncated_one_refused(tmp_path: Path) -> None:
    store = PhotoStore(FolderBlobs(tmp_path), max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
    buffer = io.BytesIO()
    Image.effect_noise((300, 200), 40).convert("RGB").save(buffer, "WEBP", quality=80)
    good = buffer.getvalue()
    assert store.check(sha256(good), good).content_type == "image/webp"
    cut = good[: len(good) // 2]
    with pytest.raises(Problem) as refused:
        store.check(sha256(cut), cut)
    assert (refused.value.status, refused.value.code) == (422, "photo.undecodable")
