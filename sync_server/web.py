"""Browser mode: mount the Flet console at ``/`` of the API app (imported lazily: the API runs without Flet)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["mount_console"]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _api_matches(api: FastAPI, probe: Scope) -> bool:
    probe.pop("fastapi", None)  # FastAPI keeps per-request matching state there: the probe gets its own
    return any(route.matches(probe)[0] is Match.FULL for route in api.router.routes if not isinstance(route, Mount))


def _api_paths_stay_json(api: FastAPI, console: ASGIApp) -> ASGIApp:
    """The console takes every path except ``/api``: an unknown API path is a JSON 404 (a wrong method on a known
    one a JSON 405), never the console's HTML page. Raised here, the app's error handlers answer them."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and (path == "/api" or path.startswith("/api/")):
            # The mount at / is a full match for every path, so the router never reached its own 405 for a
            # known path with another method: ask the API's routes which methods would have matched.
            allowed = [method for method in _METHODS if _api_matches(api, {**scope, "method": method})]
            if allowed:
                raise HTTPException(405, headers={"Allow": ", ".join(allowed)})
            raise HTTPException(404)
        await console(scope, receive, send)

    return app


def mount_console(api: FastAPI) -> None:
    from flet_web.fastapi import app_manager

    from mobile_app.console.asgi import console_asgi_app

    api.mount("/", _api_paths_stay_json(api, console_asgi_app(api)))
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
