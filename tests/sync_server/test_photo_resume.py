"""Resumable photo uploads (docs/api.md "Photos"): pieces with ``Content-Range``, ``HEAD`` for the offset, the whole
photo checked once complete, partials expiring in the scheduler's pass. On SQLite and PostgreSQL (``client``), with
the photos in a folder and in the database (``FIELDMETER_PHOTO_STORE``)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, func, select

from sync_server import housekeeping
from sync_server.clock import FixedClock
from sync_server.config import PhotoStoreKind, Settings
from sync_server.context import AppContext
from sync_server.main import create_app
from sync_server.models import Photo, PhotoPartial
from sync_server.photo_blobs import PARTIAL_TTL, FolderBlobs
from tests.sync_server.factories import auth, meters_by_unit, push, reading, sha256


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((160, 120), 40).convert("RGB").save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _reading_with_photo(client: TestClient, data: bytes, username: str = "engineer1") -> dict[str, str]:
    headers = auth(client, username)
    meter = next(iter(meters_by_unit(client, headers).values()))
    [result] = push(client, headers, [reading(meter, photo_sha256=sha256(data))])
    assert result["outcome"] == "stored"
    return headers


def _piece(
    client: TestClient, headers: dict[str, str], data: bytes, start: int, end: int, total: int | None = None
) -> httpx.Response:
    """PUT bytes ``start``..``end`` (included) of ``data`` as one piece."""
    total = len(data) if total is None else total
    return client.put(
        f"/api/photos/{sha256(data)}",
        content=data[start : end + 1],
        headers=headers | {"Content-Type": "image/jpeg", "Content-Range": f"bytes {start}-{end}/{total}"},
    )


def _offset(client: TestClient, headers: dict[str, str], digest: str) -> tuple[int, int]:
    """(status, Upload-Offset) of HEAD."""
    response = client.head(f"/api/photos/{digest}", headers=headers)
    return response.status_code, int(response.headers["Upload-Offset"])


def _photo_rows(client: TestClient) -> int:
    with Session(_context(client).engine) as session:
        return session.exec(select(func.count()).select_from(Photo)).one()


@pytest.fixture(params=list(PhotoStoreKind))
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Every test here with each photo store."""
    return settings.model_copy(update={"photo_store": request.param})


def _partials(client: TestClient) -> list[str]:
    """The partial uploads the store holds, whichever it is."""
    blobs = _context(client).photos.blobs
    if isinstance(blobs, FolderBlobs):
        return sorted(path.name for path in blobs.partial_dir.iterdir()) if blobs.partial_dir.is_dir() else []
    with Session(_context(client).engine) as session:
        return sorted(session.exec(select(PhotoPartial.sha256)).all())


def test_an_upload_cut_halfway_resumes_from_the_servers_offset(client: TestClient) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    digest, half = sha256(data), len(data) // 2
    assert _offset(client, headers, digest) == (204, 0)

    first = _piece(client, headers, data, 0, half - 1)  # then the phone lost its network

    assert (first.status_code, first.headers["Upload-Offset"]) == (204, str(half))
    assert _offset(client, headers, digest) == (204, half)
    assert client.head(f"/api/photos/{digest}", headers=headers).headers["Upload-Length"] == str(len(data))
    assert _photo_rows(client) == 0
    rest = _piece(client, headers, data, half, len(data) - 1)
    assert rest.status_code == 201
    assert client.get(f"/api/photos/{digest}", headers=headers).content == data
    complete = client.head(f"/api/photos/{digest}", headers=headers)
    assert (complete.status_code, complete.headers["Upload-Complete"]) == (200, "?1")
    assert complete.headers["Upload-Offset"] == str(len(data))
    assert _partials(client) == []
    assert _piece(client, headers, data, 0, half - 1).status_code == 200  # stored: any repeat is a no-op


def test_a_corrupted_resume_is_refused_by_the_hash_and_the_partial_is_dropped(client: TestClient) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    digest, half = sha256(data), len(data) // 2
    assert _piece(client, headers, data, 0, half - 1).status_code == 204
    altered = data[:half] + bytes(b ^ 0x5A for b in data[half:])

    refused = client.put(
        f"/api/photos/{digest}",
        content=altered[half:],
        headers=headers | {"Content-Type": "image/jpeg", "Content-Range": f"bytes {half}-{len(data) - 1}/{len(data)}"},
    )

    body = refused.json()
    assert (refused.status_code, body["code"]) == (400, "photo.hash_mismatch")
    assert "from byte 0" in body["message"]
    assert body["details"]["offset"] == 0
    assert _photo_rows(client) == 0
    assert not _context(client).photos.blobs.exists(digest)
    assert _partials(client) == []
    assert _offset(client, headers, digest) == (204, 0)
    # The phone starts over and the photo goes in.
    assert _piece(client, headers, data, 0, len(data) - 1).status_code == 201


def test_a_complete_upload_that_is_no_image_is_refused_and_dropped(client: TestClient) -> None:
    data = _photo()[:-600]  # hashes to its name but is a truncated JPEG: every check still runs on the whole
    headers = _reading_with_photo(client, data)
    half = len(data) // 2
    assert _piece(client, headers, data, 0, half - 1).status_code == 204

    refused = _piece(client, headers, data, half, len(data) - 1)

    assert (refused.status_code, refused.json()["code"]) == (422, "photo.undecodable")
    assert _partials(client) == []
    assert _offset(client, headers, sha256(data)) == (204, 0)


@pytest.mark.parametrize("start_of", [lambda half: 0, lambda half: half + 10])
def test_a_piece_at_the_wrong_offset_gets_409_with_the_offset(client: TestClient, start_of: object) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    half = len(data) // 2
    assert _piece(client, headers, data, 0, half - 1).status_code == 204
    start = start_of(half)  # type: ignore[operator]

    wrong = _piece(client, headers, data, start, len(data) - 1)

    assert wrong.status_code == 409
    assert wrong.json()["code"] == "request.conflict"
    assert wrong.json()["details"] == {"offset": half}
    assert wrong.headers["Upload-Offset"] == str(half)
    assert _offset(client, headers, sha256(data)) == (204, half)  # nothing of the refused piece was kept


def test_a_first_piece_not_at_zero_gets_409_offset_zero(client: TestClient) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    wrong = _piece(client, headers, data, 100, len(data) - 1)
    assert (wrong.status_code, wrong.headers["Upload-Offset"], wrong.json()["details"]) == (409, "0", {"offset": 0})


def test_the_size_limit_applies_to_the_declared_total(client: TestClient) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    limit = _context(client).settings.max_photo_bytes
    over = _piece(client, headers, data, 0, 99, total=limit + 1)
    assert (over.status_code, over.json()["code"]) == (413, "photo.too_large")
    assert _partials(client) == []


@pytest.mark.parametrize(
    "content_range", ["bytes 0-10", "bytes=0-10/20", "bytes 10-5/20", "bytes 0-20/20", "items 0-1/2", "bytes */20"]
)
def test_a_malformed_range_is_refused(client: TestClient, content_range: str) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    response = client.put(
        f"/api/photos/{sha256(data)}",
        content=data[:10],
        headers=headers | {"Content-Type": "image/jpeg", "Content-Range": content_range},
    )
    assert (response.status_code, response.json()["code"]) == (422, "request.invalid")


def test_a_body_other_than_the_range_announces_is_refused(client: TestClient) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    short = client.put(
        f"/api/photos/{sha256(data)}",
        content=data[:50],
        headers=headers | {"Content-Type": "image/jpeg", "Content-Range": f"bytes 0-99/{len(data)}"},
    )
    assert (short.status_code, short.json()["code"]) == (422, "request.invalid")
    long = client.put(
        f"/api/photos/{sha256(data)}",
        content=data[:150],
        headers=headers | {"Content-Type": "image/jpeg", "Content-Range": f"bytes 0-99/{len(data)}"},
    )
    assert (long.status_code, long.json()["code"]) == (422, "request.invalid")
    assert _offset(client, headers, sha256(data)) == (204, 0)


def test_head_is_authorized_like_the_upload(client: TestClient) -> None:
    data = _photo()
    mine = _reading_with_photo(client, data)
    assert _piece(client, mine, data, 0, 99).status_code == 204
    digest = sha256(data)

    other = client.head(f"/api/photos/{digest}", headers=auth(client, "engineer2"))
    reviewers = ("supervisor", "admin", "accountant")
    supervisor, admin, accountant = (client.head(f"/api/photos/{digest}", headers=auth(client, n)) for n in reviewers)
    unknown = client.head(f"/api/photos/{'0' * 64}", headers=mine)
    unsigned = client.head(f"/api/photos/{digest}")
    malformed = client.head("/api/photos/not-a-hash", headers=mine)

    assert other.status_code == 404  # as GET: whether anyone uploads this photo is not revealed
    assert "Upload-Offset" not in other.headers
    assert supervisor.status_code == admin.status_code == accountant.status_code == 403  # only engineers upload
    assert (unknown.status_code, unsigned.status_code, malformed.status_code) == (404, 401, 422)
    for response in (other, supervisor, unknown, unsigned, malformed):
        assert response.headers["content-type"] == "application/json"
    # Another engineer's piece cannot touch the partial either.
    assert _piece(client, auth(client, "engineer2"), data, 100, 199).status_code == 404
    assert _offset(client, mine, digest) == (204, 100)


def test_with_the_console_mounted_head_of_a_photo_never_answers_html(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'f.db'}", secret_key="c" * 40)
    assert settings.mount_web_app
    app = create_app(settings)
    client = TestClient(app)  # no lifespan: the console is never asked for a page here
    for path in (f"/api/photos/{'a' * 64}", "/api/photos/nope", "/api/photos"):
        response = client.head(path)
        assert response.status_code in (401, 404, 405, 422), path
        assert response.headers["content-type"] == "application/json", path
    app.state.context.engine.dispose()


def test_partial_uploads_expire_48_hours_after_their_last_piece(client: TestClient, clock: FixedClock) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    half = len(data) // 2
    assert _piece(client, headers, data, 0, 99).status_code == 204
    clock.advance(timedelta(hours=30))
    headers = auth(client, "engineer1")  # access tokens live minutes: sign in again at each new "now"
    assert _piece(client, headers, data, 100, half - 1).status_code == 204  # the last piece restarts the wait
    context = _context(client)

    clock.advance(PARTIAL_TTL - timedelta(minutes=1))
    assert housekeeping.purge_partial_uploads(context) == 0
    assert _offset(client, auth(client, "engineer1"), sha256(data)) == (204, half)
    clock.advance(timedelta(minutes=1))
    assert housekeeping.purge_partial_uploads(context) == 1

    assert _partials(client) == []
    assert _offset(client, auth(client, "engineer1"), sha256(data)) == (204, 0)


def test_the_scheduler_pass_removes_expired_partials(
    client: TestClient, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    assert _piece(client, headers, data, 0, 99).status_code == 204
    monkeypatch.setattr(housekeeping, "run_due", lambda context, actions: [])  # no bill run or backup here
    clock.advance(PARTIAL_TTL)

    housekeeping.run_scheduled(_context(client))

    assert _offset(client, auth(client, "engineer1"), sha256(data)) == (204, 0)


def test_a_whole_upload_supersedes_pieces(client: TestClient) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    assert _piece(client, headers, data, 0, 99).status_code == 204
    whole = client.put(f"/api/photos/{sha256(data)}", content=data, headers=headers | {"Content-Type": "image/jpeg"})
    assert whole.status_code == 201
    assert _partials(client) == []
