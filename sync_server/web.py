"""Browser mode: mount the Flet console at ``/`` of the API app (imported lazily: the API runs without Flet)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

__all__ = ["mount_console"]


def mount_console(api: FastAPI) -> None:
    from flet_web.fastapi import app_manager

    from mobile_app.app import console_asgi_app

    api.mount("/", console_asgi_app(api))
    inner = api.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Starlette does not run a mounted app's lifespan: start Flet's session manager with ours.
        await app_manager.start()
        try:
            async with inner(app):
                yield
        finally:
            await app_manager.shutdown()

    api.router.lifespan_context = lifespan
