"""Every error leaves the server as ``{"code","message","details"}``, whatever raised it.

Routes raise ``Problem``; FastAPI raises validation errors; Starlette raises 404/405; the database may still refuse
a value the edge let through (the last line of defence: a data error is the client's 4xx, never a 500); a database
that is down, locked or not answering is a 503 with Retry-After (sync_server/db_errors.py decides); anything
else is a bug, answered with a generic 500 body and logged here with its traceback, never with SQL text.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync_server.db_errors import unavailable_reason
from sync_server.problems import CODES, Problem

__all__ = ["install_error_handlers", "problem_response", "unavailable_response"]

log = logging.getLogger("sync_server.errors")

_HTTP_CODES = {
    404: "request.not_found",
    405: "request.method_not_allowed",
    413: "request.too_large",
}


def problem_response(
    code: str,
    message: str | None = None,
    details: Any = None,
    headers: dict[str, str] | None = None,
    *,
    status: int | None = None,
) -> JSONResponse:
    """The error body for a registered code, with the code's status (``status`` only for a status Starlette chose)."""
    spec = CODES[code]
    body = {"code": code, "message": message or spec.message, "details": jsonable_encoder(details or {})}
    return JSONResponse(body, status_code=status or spec.status, headers=headers)


def unavailable_response(request: Request, details: dict[str, Any], message: str | None = None) -> JSONResponse:
    """``503 service.unavailable`` with ``Retry-After`` (the configured seconds): the phone backs off that long."""
    retry_after = request.app.state.context.settings.retry_after_s
    headers = {"Retry-After": str(retry_after)}
    return problem_response("service.unavailable", message, details, headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # loc, msg and type only: pydantic's "input" would echo the caller's bytes (possibly huge) back.
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def problem(_request: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        headers.update(exc.headers)
        return problem_response(exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"])
        return problem_response("request.invalid", f"{where}: {first['msg']}", {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "request.invalid")
        # Starlette chose the status (e.g. 400 for an undecodable body): keep it, under the nearest code.
        message = CODES[code].message if exc.status_code in _HTTP_CODES else str(exc.detail)
        return problem_response(code, message, headers=dict(exc.headers or {}), status=exc.status_code)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (out of range, bad encoding) that slipped past the edge's bounds.
        log.warning("data error on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response("request.out_of_range")

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness or reference the routes did not check first: the data conflicts, the server is fine.
        log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response("request.conflict")

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        # Down, locked, hung (cut by a timeout) or out of connections: the client retries later, nothing is lost.
        reason = unavailable_reason(exc)
        if reason is None:
            return await unexpected(request, exc)
        log.warning("database %s on %s %s: %s", reason, request.method, request.url.path, exc.__cause__ or exc)
        return unavailable_response(request, {"database": reason})

    for error_class in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(error_class, database_error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response("server.error")
