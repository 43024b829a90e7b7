"""Against a real ``fieldmeter serve`` with the console mounted (as deployed): the web client's files and the API's
JSON go out gzipped when the browser asks, byte-identical once decoded, and the Flet websocket still opens."""

from __future__ import annotations

import gzip
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from flet_web import get_package_web_dir
from websockets.sync.client import connect

from tests.support.live_server import start_live_server

# What a browser fetches first for "/" (the page, the bootstrap, the Dart program in both builds, CanvasKit's
# wasm renderer, the icon font); each is over the threshold.
FIRST_LOAD = [
    "/flutter_bootstrap.js",
    "/main.dart.wasm",
    "/main.dart.js",
    "/canvaskit/skwasm.wasm",
    "/assets/fonts/MaterialIcons-Regular.otf",
]


@dataclass(frozen=True)
class Wire:
    """An answer as it crossed the wire: httpx would otherwise decode gzip before we could look."""

    status_code: int
    headers: httpx.Headers
    raw_bytes: bytes


def _raw(http: httpx.Client, path: str, accept: str) -> Wire:
    with http.stream("GET", path, headers={"Accept-Encoding": accept}) as response:
        return Wire(response.status_code, response.headers, b"".join(response.iter_raw()))


def test_console_files_and_api_json_go_out_gzipped_from_a_real_server(tmp_path: Path) -> None:
    # The database plays no part in how bytes are encoded: SQLite only (the API tests run on both).
    with ExitStack() as stack:
        server = start_live_server(stack, tmp_path, "sqlite", env={"FIELDMETER_MOUNT_WEB_APP": "true"})
        web_dir = Path(get_package_web_dir())
        with server.client() as http:
            page = _raw(http, "/", "gzip, deflate, br, zstd")
            assert page.status_code == 200
            assert page.headers["content-encoding"] == "gzip"
            assert b"flutter_bootstrap.js" in gzip.decompress(page.raw_bytes)
            for path in FIRST_LOAD:
                packed = _raw(http, path, "gzip, deflate, br, zstd")
                plain = _raw(http, path, "identity")
                assert (packed.status_code, plain.status_code) == (200, 200), path
                assert packed.headers["content-encoding"] == "gzip", path
                assert "content-encoding" not in plain.headers, path
                assert packed.headers["content-type"] == plain.headers["content-type"], path
                unpacked = gzip.decompress(packed.raw_bytes)
                assert unpacked == plain.raw_bytes, path
                assert len(packed.raw_bytes) < len(plain.raw_bytes), path
                if path != "/flutter_bootstrap.js":  # the bootstrap is patched at start; the others are as shipped
                    assert unpacked == (web_dir / path.lstrip("/")).read_bytes(), path
                # Flet's own headers (cross-origin isolation, which the wasm build needs) survive.
                assert packed.headers["cross-origin-embedder-policy"] == "require-corp", path
            wasm = _raw(http, "/main.dart.wasm", "gzip")
            assert wasm.headers["content-type"] == "application/wasm"
            again = http.get(
                "/main.dart.wasm", headers={"Accept-Encoding": "gzip", "If-None-Match": wasm.headers["etag"]}
            )
            assert again.status_code == 304

        with server.client(server.login("engineer1")) as engineer:
            pull = _raw(engineer, "/api/sync/pull", "gzip")
            assert pull.headers["content-encoding"] == "gzip"
            assert gzip.decompress(pull.raw_bytes) == _raw(engineer, "/api/sync/pull", "identity").raw_bytes

        # The Flet session's websocket passes the middleware untouched (the handshake completes, the socket opens).
        with connect(server.url.replace("http://", "ws://") + "/ws", open_timeout=30) as socket:
            assert socket.protocol.state.name == "OPEN"
