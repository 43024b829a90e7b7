"""The app factory: ``create_app(settings)`` wires settings, database, clock and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from sync_server import __version__
from sync_server.api import api_router
from sync_server.audit import AuditSealer, chain_key
from sync_server.auth import TokenService
from sync_server.body_limit import install_body_limit
from sync_server.clock import Clock
from sync_server.compression import install_compression
from sync_server.config import PhotoStoreKind, Settings, load_secret_key
from sync_server.context import AppContext
from sync_server.db import engine_for, migrate
from sync_server.error_handlers import install_error_handlers
from sync_server.housekeeping import SCHEDULER_LEASE, add_default_schedules, audit_seal_loop, scheduler_loop
from sync_server.invoices import DEFAULT_ASSETS_DIR
from sync_server.leases import new_holder_id, release
from sync_server.openapi import install_openapi
from sync_server.photo_blobs import DatabaseBlobs, FolderBlobs, PhotoBlobs
from sync_server.photo_store import PhotoStore

__all__ = ["create_app"]


def _photo_blobs(settings: Settings, engine: Engine) -> PhotoBlobs:
    if settings.photo_store == PhotoStoreKind.DATABASE:
        return DatabaseBlobs(engine)
    return FolderBlobs(settings.photo_dir)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, run_migrations: bool = True) -> FastAPI:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings)
    if run_migrations:
        migrate(engine)
    context = AppContext(
        settings=settings,
        engine=engine,
        clock=clock or settings.clock(),
        tokens=TokenService(
            load_secret_key(settings),
            access_ttl=timedelta(minutes=settings.access_token_minutes),
            refresh_ttl=timedelta(days=settings.refresh_token_days),
            hash_concurrency=settings.password_hash_concurrency,
        ),
        photos=PhotoStore(
            DatabaseBlobs(engine)
            if settings.photo_store == PhotoStoreKind.DATABASE
            else FolderBlobs(settings.photo_dir),
            max_bytes=settings.max_photo_bytes,
            max_pixels=settings.max_photo_pixels,
            max_concurrent_decodes=settings.photo_decode_concurrency,
        ),
        assets_dir=DEFAULT_ASSETS_DIR,
    )

    # One holder name per app instance for its job leases; the sealer keys the audit chain with the server secret.
    holder = new_holder_id()
    sealer = AuditSealer(engine, chain_key(load_secret_key(settings)), holder, clock=context.clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The default scheduled jobs, if missing (insert-or-ignore: several workers may start at once).
        await run_in_threadpool(add_default_schedules, context)
        tasks = [asyncio.create_task(audit_seal_loop(sealer)), asyncio.create_task(scheduler_loop(context, holder))]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Hand the leases over now rather than when they expire (another process may be waiting).
            for lease in (sealer.release, lambda: release(engine, SCHEDULER_LEASE, holder)):
                with suppress(Exception):  # the database may be gone at shutdown
                    await run_in_threadpool(lease)

    app = FastAPI(
        lifespan=lifespan,
        title="Fieldmeter",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN and renders blank offline
        redoc_url=None,
    )
    app.state.context = context
    app.state.sealer = sealer
    install_error_handlers(app)
    install_body_limit(app)
    install_compression(app, settings.data_dir / "cache" / "gzip")
    install_openapi(app)
    app.include_router(api_router, prefix="/api")
    if settings.mount_web_app:
        from sync_server.web import mount_console

        mount_console(app)  # after /api: the console takes every other path
    return app
