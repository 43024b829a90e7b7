"""Calls to ``/api`` as data, and the server's answers turned into typed results or the client's errors.

Nothing here sends anything: a :class:`Call` says what to send and how to read what comes back, an
:class:`Answer` is what came back. The wrappers (``mobile_app.sync.api_client`` with ``httpx.Client``,
``mobile_app.console.client`` with ``httpx.AsyncClient``) move the bytes between the two.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from mobile_app.api.errors import TRANSPORT, ApiClientError, ApiError, TransportError

__all__ = [
    "JSON",
    "Answer",
    "Call",
    "Reader",
    "checked",
    "error_of",
    "json_body",
    "no_answer",
    "read_bytes",
    "read_created",
    "read_list",
    "read_model",
    "read_nothing",
    "unreadable",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

JSON = "application/json"
# Answers that say "try again later", not "this request is wrong".
RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Answer:
    """What the server answered: the status, its ``Retry-After`` header and the (decoded) body."""

    status: int
    content: bytes = b""
    retry_after: str | None = None
    reason: str = ""  # the status's reason phrase, for an error answer without a body


Reader = Callable[[Answer], T]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to ``/api{path}`` and how its answer is read (``read`` raises the client's errors).

    ``signed_in`` calls carry the access token, and a 401 answer to them is the session's business
    (``mobile_app.api.session``) before ``read`` ever sees it.
    """

    method: str
    path: str
    read: Reader[T]
    params: Mapping[str, str | int] | None = None
    body: bytes | None = None
    content_type: str | None = None
    signed_in: bool = True

    def headers(self, access_token: str | None) -> dict[str, str]:
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        if access_token is not None:
            headers["Authorization"] = f"Bearer {access_token}"
        return headers


def json_body(payload: BaseModel) -> bytes:
    """A request body as JSON, by pydantic, which writes a non-finite float as ``null`` where ``json.dumps``
    would write ``NaN`` (not JSON): whatever slipped past a check, no NaN leaves the client.

    Requests typed by people are built with ``model_construct``: the server judges the values and its 422 comes
    back in the error tree. Such a value may not be of its field's type yet (an amount as typed), hence
    ``warnings=False``: it is written as it is.
    """
    return payload.model_dump_json(warnings=False).encode()


def no_answer(error: Exception) -> TransportError:
    """The request got no answer at all (connect or read error, timeout, a cut-off body)."""
    return TransportError(f"The server did not answer ({type(error).__name__}: {error})")


def _problem(answer: Answer) -> tuple[str, str, dict[str, Any]] | None:
    """The server's error body ``{"code", "message", "details"}`` (docs/api.md), if the answer has one."""
    try:
        body = json.loads(answer.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not body["code"]:
        return None
    details = body.get("details")
    return body["code"], str(body.get("message") or ""), details if isinstance(details, dict) else {}


def error_of(answer: Answer, *, throttle_is_final: bool = False) -> ApiClientError | None:
    """The error an answer means, or None for a 2xx.

    ``throttle_is_final``: a 429 is for a person to wait out (a throttled sign-in), so an ``ApiError`` whose
    message says how long, not a ``TransportError`` the sync retries by itself.
    """
    status = answer.status
    if 200 <= status < 300:
        return None
    problem = _problem(answer)
    retryable = status in RETRYABLE_4XX and not (throttle_is_final and status == 429)
    if status >= 500 or status < 200 or 300 <= status < 400 or retryable:
        code, message, details = problem or (TRANSPORT, f"server answered {status}", {})
        return TransportError(message, status=status, code=code, details=details, retry_after=answer.retry_after)
    if problem is not None:
        code, message, details = problem
        return ApiError(status, code, message, details, retry_after=answer.retry_after)
    # Not our error shape (a proxy's page, a route this server lacks): the status is the code.
    text = answer.content[:200].decode(errors="replace") or answer.reason
    return ApiError(status, f"http.{status}", text, retry_after=answer.retry_after)


def checked(answer: Answer) -> Answer:
    """The answer if it is a 2xx; otherwise the error it means is raised."""
    if (error := error_of(answer)) is not None:
        raise error
    return answer


def unreadable(error: ValidationError) -> TransportError:
    """A 2xx whose body is not what the route answers: a captive portal's page, a cut-off body."""
    return TransportError(f"unreadable answer from the server: {error.error_count()} errors")


def read_model(kind: type[M]) -> Reader[M]:
    """Read a 2xx answer as one ``kind``."""

    def read(answer: Answer) -> M:
        try:
            return kind.model_validate_json(checked(answer).content)
        except ValidationError as error:
            raise unreadable(error) from error

    return read


@cache
def _list_of(kind: type[M]) -> TypeAdapter[list[M]]:
    return TypeAdapter(list[kind])  # type: ignore[valid-type]


def read_list(kind: type[M]) -> Reader[list[M]]:
    """Read a 2xx answer as a JSON array of ``kind``."""

    def read(answer: Answer) -> list[M]:
        try:
            return _list_of(kind).validate_json(checked(answer).content)
        except ValidationError as error:
            raise unreadable(error) from error

    return read


def read_nothing(answer: Answer) -> None:
    checked(answer)


def read_bytes(answer: Answer) -> bytes:
    return checked(answer).content


def read_created(answer: Answer) -> bool:
    """True if the call created something now (201), False if it was there already (200)."""
    return checked(answer).status == 201
