"""The error body every status answers with, and its OpenAPI declaration for routes.

Routes declare the statuses they can answer (``access()`` adds 401/403/422, routes add 404/409/...), each with
this schema, so a client (and the API fuzzer in the tests) can rely on one shape: ``{"code","message","details"}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ErrorOut", "error_responses"]

_DESCRIPTIONS = {
    400: "The request is malformed",
    401: "Not signed in, or the token or credentials are not valid",
    403: "The caller's role may not do this",
    404: "No such resource",
    405: "The method is not allowed here",
    409: "The request conflicts with the current state",
    413: "The request body is over the limit",
    415: "The body's media type is not accepted",
    422: "The request body or parameters are not valid",
    429: "Too many attempts: wait as long as Retry-After says",
}


class ErrorOut(BaseModel):
    """Every error: a stable code (sync_server/problems.py CODES), a sentence for people, and structured details."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` entries for ``statuses``, each with the error schema."""
    return {status: {"model": ErrorOut, "description": _DESCRIPTIONS[status]} for status in sorted(set(statuses))}
