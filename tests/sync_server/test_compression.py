"""Compressed transfers, in-process: API JSON gzipped when asked (and only then), photos never gzipped again."""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from PIL import Image

from sync_server.compression import MIN_BYTES, accepts_gzip, compressible, install_compression
from tests.sync_server.factories import auth, meters_by_unit, push, reading, sha256


def _raw_get(client: TestClient, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the bytes as they came over the wire (httpx would otherwise decode gzip for us)."""
    with client.stream("GET", url, headers=headers) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


def test_pull_is_gzipped_when_asked_and_decodes_to_the_same_json(client: TestClient) -> None:
    engineer = auth(client, "engineer1")
    status, plain_headers, plain = _raw_get(client, "/api/sync/pull", engineer | {"Accept-Encoding": "identity"})
    assert status == 200
    assert "content-encoding" not in plain_headers
    assert len(plain) > MIN_BYTES  # the demo route is over the threshold, or this test would prove nothing

    status, gz_headers, packed = _raw_get(client, "/api/sync/pull", engineer | {"Accept-Encoding": "gzip"})
    assert status == 200
    assert gz_headers["content-encoding"] == "gzip"
    assert "accept-encoding" in gz_headers["vary"].lower()
    assert int(gz_headers["content-length"]) == len(packed) < len(plain) / 3
    unpacked, first = json.loads(gzip.decompress(packed)), json.loads(plain)
    # On PostgreSQL the cursor is a transaction horizon: any write meanwhile (the audit sealer sealing the sign-in,
    # a scheduled job) moves it on. Everything else is the same answer.
    assert unpacked.pop("cursor") >= first.pop("cursor")
    assert unpacked == first


def test_small_answers_and_refusals_of_gzip_stay_plain(client: TestClient) -> None:
    _, headers, body = _raw_get(client, "/api/health", {"Accept-Encoding": "gzip"})
    assert len(body) < MIN_BYTES
    assert "content-encoding" not in headers
    engineer = auth(client, "engineer1")
    _, headers, body = _raw_get(client, "/api/sync/pull", engineer | {"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in headers
    assert json.loads(body)["meters"]


def _noisy_jpeg(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (200, 150), rng.randbytes(200 * 150 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_photo_get_is_not_compressed_again(client: TestClient) -> None:
    data = _noisy_jpeg(7)
    assert len(data) > MIN_BYTES
    engineer = auth(client, "engineer1")
    meter = meters_by_unit(client, engineer)["2BHK-B1-GF"]
    [result] = push(client, engineer, [reading(meter, photo_sha256=sha256(data))])
    assert result["outcome"] == "stored"
    put = client.put(f"/api/photos/{sha256(data)}", content=data, headers=engineer | {"Content-Type": "image/jpeg"})
    assert put.status_code == 201
    status, headers, body = _raw_get(
        client, f"/api/photos/{sha256(data)}", auth(client, "supervisor") | {"Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert "content-encoding" not in headers
    assert body == data


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", True),
        ("gzip;q=0.5", True),
        ("GZIP", True),
        ("*", True),
        ("gzip;q=0, identity", False),
        ("*;q=0", False),
        ("identity", False),
        ("br", False),
        ("", False),
        ("x-gzip", True),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/wasm", True),
        ("text/javascript; charset=utf-8", True),
        ("font/otf", True),
        ("image/jpeg", False),
        ("image/png", False),
        ("application/pdf", False),
        ("font/woff2", False),
        ("application/zip", False),
        ("", False),
    ],
)
def test_compressible(content_type: str, expected: bool) -> None:
    assert compressible(content_type) is expected


def _static_app(tmp_path: Path, files: dict[str, bytes]) -> FastAPI:
    """Files served the way the console's are (Starlette ``StaticFiles``: ``FileResponse``, ETag, 304, ranges)."""
    root = tmp_path / "static"
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    app = FastAPI()
    app.mount("/files", StaticFiles(directory=root))
    install_compression(app, tmp_path / "cache")
    return app


def test_files_are_sent_gzipped_from_the_cache_or_unchanged(tmp_path: Path) -> None:
    script = b"function f(){return 'fieldmeter';}\n" * 4000
    jpeg = _noisy_jpeg(3)
    tiny = b"{}"
    with TestClient(_static_app(tmp_path, {"app.js": script, "p.jpg": jpeg, "t.json": tiny})) as client:
        status, headers, packed = _raw_get(client, "/files/app.js", {"Accept-Encoding": "gzip"})
        assert (status, headers["content-encoding"]) == (200, "gzip")
        assert gzip.decompress(packed) == script
        assert int(headers["content-length"]) == len(packed)
        assert headers["etag"].startswith('W/"')
        cached = list((tmp_path / "cache").glob("*.gz"))
        assert [path.read_bytes() for path in cached] == [packed]  # compressed once, sent from the cache

        # A second request is served from the cache: same bytes; a revalidation with the weak tag is a 304.
        assert _raw_get(client, "/files/app.js", {"Accept-Encoding": "gzip"})[2] == packed
        revalidated = client.get("/files/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
        assert revalidated.status_code == 304

        status, headers, plain = _raw_get(client, "/files/app.js", {"Accept-Encoding": "identity"})
        assert (status, plain, headers.get("content-encoding")) == (200, script, None)
        assert "accept-encoding" in headers["vary"].lower()

        status, headers, body = _raw_get(client, "/files/p.jpg", {"Accept-Encoding": "gzip"})
        assert (status, body, headers.get("content-encoding")) == (200, jpeg, None)
        status, headers, body = _raw_get(client, "/files/t.json", {"Accept-Encoding": "gzip"})
        assert (status, body, headers.get("content-encoding")) == (200, tiny, None)

        ranged = client.get("/files/app.js", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
        assert (ranged.status_code, ranged.content, ranged.headers.get("content-encoding")) == (206, script[:10], None)


def test_a_file_still_goes_out_when_the_cache_cannot_be_written(tmp_path: Path) -> None:
    script = b"const fieldmeter = 'console';\n" * 2000
    app = _static_app(tmp_path, {"app.js": script})
    (tmp_path / "cache").write_text("a file where the cache directory should be")  # mkdir fails: an OSError
    with TestClient(app) as client:
        status, headers, body = _raw_get(client, "/files/app.js", {"Accept-Encoding": "gzip"})
    # Not from the cache, so compressed on the fly by the answers' layer (as any other body).
    assert (status, headers.get("content-encoding")) == (200, "gzip")
    assert gzip.decompress(body) == script
