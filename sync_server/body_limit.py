"""A cap on request bodies, counted as they stream in: a client cannot make the server buffer gigabytes.

Photo and import uploads are left to their routes, which stream with their own (larger, configured) limits.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server.error_handlers import problem_response
from sync_server.problems import Problem

__all__ = ["JSON_BODY_LIMIT", "BodyLimit", "install_body_limit"]

# A full push (500 readings with 500-character notes) is well under 2 MiB of JSON.
JSON_BODY_LIMIT = 4 * 1024 * 1024
_OWN_LIMIT_PREFIXES = ("/api/photos/", "/api/imports/")


class BodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int = JSON_BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(_OWN_LIMIT_PREFIXES):
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            response = problem_response("request.too_large", f"The body is over {limit} bytes")
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # raised inside the route: the Problem handler answers it
                    raise Problem("request.too_large", f"The body is over {limit} bytes")
            return message

        await self.app(scope, limited, send)


def install_body_limit(app: FastAPI, *, limit: int = JSON_BODY_LIMIT) -> None:
    app.add_middleware(BodyLimit, limit=limit)
