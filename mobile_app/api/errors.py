"""The API client's exceptions: one tree for the phone's sync and the console::

    ApiClientError       base: the call did not do what was asked. Every error has ``status`` (the HTTP status,
    │                    None without an answer), ``code``, ``message``, ``details`` and ``retry_after``.
    ├── TransportError   no usable answer: connect/read errors, timeouts, 5xx, 408, 425, 429, 3xx, an unreadable
    │                    2xx body (captive portals, cut-off answers), a refresh race nobody won in time. Retryable.
    ├── AuthExpired      the session is over (no tokens, refresh refused, fresh tokens refused): sign in again.
    └── ApiError         any other 4xx: the server's answer ``{"code", "message", "details"}``. Not retryable as
                         it is; the person (or the code) must change the request.

Which answer becomes which error is decided in ``mobile_app.api.answers`` and ``mobile_app.api.session``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SESSION_ENDED", "TRANSPORT", "ApiClientError", "ApiError", "AuthExpired", "TransportError"]

TRANSPORT = "transport"  # the code of a TransportError whose answer (if any) had no code of its own
SESSION_ENDED = "auth.session_expired"  # the code of every AuthExpired


class ApiClientError(Exception):
    """Base of the API client's errors; ``str(error)`` is ``message``."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = TRANSPORT,
        details: dict[str, Any] | None = None,
        retry_after: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.retry_after = retry_after  # the answer's Retry-After header, if it had one
        super().__init__(message)


class TransportError(ApiClientError):
    """No usable answer from the server: retry later (after ``retry_after`` when the server said)."""


class AuthExpired(ApiClientError):
    """The session is over: sign in again. The phone's outbox keeps its readings."""

    def __init__(self, message: str = "Your session has ended: sign in again") -> None:
        super().__init__(message, status=401, code=SESSION_ENDED)


class ApiError(ApiClientError):
    """A 4xx answer with the server's stable error ``code`` (or ``http.<status>`` when it had none)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, details=details, retry_after=retry_after)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"
