"""Compressed transfers: gzip for API answers and for the console's static files (the Flutter web client).

Two layers, both registered by ``install_compression`` on the whole app, so ``/api`` and the console at ``/`` are
covered alike:

- **Dynamic answers** (JSON of a pull, a bill run, the review queue) go through Starlette's ``GZipMiddleware``
  at a moderate level (6: nearly the size of 9 at a third of the CPU) above ``MIN_BYTES``; bodies of 128 KiB and
  more are compressed in a worker thread, not on the event loop.
- **Files** (``FileResponse``: ``main.dart.wasm``, ``main.dart.js``, CanvasKit, fonts, ``index.html``) are
  compressed once, at level 9, into a cache directory and then sent from there: compressing 14 MB of wasm and
  JavaScript afresh for every browser that opens the console would cost each first load about a second of CPU.
  The middleware asks the app for ``http.response.pathsend`` (an ASGI extension Starlette's ``FileResponse``
  honours), so it learns which file is being sent and sends it itself — gzipped from the cache or unchanged.

Already-compressed media (JPEG, PNG, WebP photos, PDFs — fpdf2 deflates its pages — zip archives, woff2) is never
compressed again; partial (206) answers, HEAD and websockets (the Flet session) pass untouched.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import anyio
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware, IdentityResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_LEVEL",
    "EXCLUDED_CONTENT_TYPES",
    "FILE_LEVEL",
    "MIN_BYTES",
    "GzipAnswers",
    "GzipFileCache",
    "PrecompressedFiles",
    "accepts_gzip",
    "compressible",
    "install_compression",
]

# Under about a kilobyte the gzip header and the Vary bookkeeping buy nothing (one TCP segment either way).
MIN_BYTES = 1024
API_LEVEL = 6
FILE_LEVEL = 9
EXCLUDED_CONTENT_TYPES = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf", "application/x-brotli")
_CHUNK = 64 * 1024
_log = logging.getLogger(__name__)
_PATHSEND = "http.response.pathsend"


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value admits gzip (``gzip;q=0`` refuses it; ``*`` admits it)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding.strip():
            weights[coding.strip()] = quality
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


def compressible(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    if not media_type:
        return False
    return not {media_type, media_type.partition("/")[0] + "/*"} & set(EXCLUDED_CONTENT_TYPES)


class GzipAnswers(GZipMiddleware):
    """Starlette's middleware, except that ``gzip;q=0`` (which names gzip to refuse it) gets identity."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not accepts_gzip(Headers(scope=scope).get("accept-encoding", "")):
            identity = IdentityResponder(self.app, self.minimum_size, exclude_content_types=self.exclude_content_types)
            await identity(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class GzipFileCache:
    """Gzipped copies of files, keyed by path, size and mtime (a new Flet release is a new key), made once.

    Writes are atomic (temp file, rename), so processes sharing a data dir may race harmlessly; within one
    process a lock per key makes concurrent first loads wait for one compression instead of running several.
    """

    def __init__(self, directory: Path, *, level: int = FILE_LEVEL) -> None:
        self.directory = directory
        self.level = level
        self._locks: dict[str, asyncio.Lock] = {}

    def key(self, path: Path, stat: os.stat_result) -> str:
        return hashlib.sha256(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()

    def _compress(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".gz-")
        try:
            # mtime=0: the same file always gives the same bytes (stable across processes and restarts).
            with (
                os.fdopen(fd, "wb") as raw,
                source.open("rb") as src,
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=self.level, mtime=0) as out,
            ):
                shutil.copyfileobj(src, out, _CHUNK)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    async def get(self, path: Path) -> Path:
        stat = await anyio.to_thread.run_sync(path.stat)
        key = self.key(path, stat)
        target = self.directory / f"{key}.gz"
        if await anyio.to_thread.run_sync(target.is_file):
            return target
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not await anyio.to_thread.run_sync(target.is_file):
                await anyio.to_thread.run_sync(self._compress, path, target)
        self._locks.pop(key, None)
        return target


async def _send_file(send: Send, path: Path) -> None:
    async with await anyio.open_file(path, "rb") as file:
        while True:
            chunk = await file.read(_CHUNK)
            more = len(chunk) == _CHUNK
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more:
                return


class PrecompressedFiles:
    """Sends the files the app answers with, gzipped from ``cache`` when the client accepts it."""

    def __init__(self, app: ASGIApp, *, cache: GzipFileCache, minimum_size: int = MIN_BYTES) -> None:
        self.app = app
        self.cache = cache
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The server may not offer pathsend (uvicorn does not): this middleware always carries it out itself.
        scope = {**scope, "extensions": {**(scope.get("extensions") or {}), _PATHSEND: {}}}
        wants_gzip = accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        start: Message | None = None

        async def send_or_hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message  # held until we know whether the body is a file
                return
            if message["type"] == _PATHSEND and start is not None:
                await self._send_path(start, Path(message["path"]), wants_gzip, send)
                return
            if start is not None and message["type"] == "http.response.body":
                await send(start)
                start = None
            await send(message)

        await self.app(scope, receive, send_or_hold)

    async def _packed(self, path: Path) -> Path | None:
        try:
            return await self.cache.get(path)
        except OSError:  # e.g. a read-only or full data dir: the file goes out (gzipped on the fly by GzipAnswers)
            _log.warning("could not gzip %s into %s", path, self.cache.directory, exc_info=True)
            return None

    async def _send_path(self, start: Message, path: Path, wants_gzip: bool, send: Send) -> None:
        headers = MutableHeaders(raw=start.setdefault("headers", []))
        size = int(headers.get("content-length", "0") or 0)
        if start["status"] == 200 and compressible(headers.get("content-type", "")) and size >= self.minimum_size:
            headers.add_vary_header("Accept-Encoding")
            packed = await self._packed(path) if wants_gzip else None
            if packed is not None:
                path = packed
                headers["content-encoding"] = "gzip"
                headers["content-length"] = str((await anyio.to_thread.run_sync(path.stat)).st_size)
                # Other bytes, so not the same strong validator; conditional requests still match (Starlette
                # compares If-None-Match with the W/ prefix removed) and answer 304.
                etag = headers.get("etag")
                if etag and not etag.startswith("W/"):
                    headers["etag"] = f"W/{etag}"
                if "accept-ranges" in headers:  # byte ranges would be of the identity bytes
                    del headers["accept-ranges"]
        await send(start)
        await _send_file(send, path)


def install_compression(app: FastAPI, cache_dir: Path) -> None:
    """gzip for every answer worth it; registered after the others, so it wraps them (errors included)."""
    app.add_middleware(PrecompressedFiles, cache=GzipFileCache(cache_dir))
    app.add_middleware(
        GzipAnswers, minimum_size=MIN_BYTES, compresslevel=API_LEVEL, exclude_content_types=EXCLUDED_CONTENT_TYPES
    )
