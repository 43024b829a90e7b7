"""The phone's HTTP client for ``/api`` (docs/api.md): one method per route the sync needs.

The ``httpx.Client`` is injected: the app passes one with timeouts, tests a ``MockTransport`` one, and the
contract test Starlette's ``TestClient`` (an ``httpx.Client`` too). URLs are ``f"{base_url}/api/..."``, so an
empty ``base_url`` uses the client's own.

Errors::

    SyncError            base: the call did not do what was asked
    ├── TransportError   no usable answer: connect/read errors, timeouts, 5xx, 408, 429, 3xx, an unreadable
    │                    2xx body (captive portals, cut-off responses). Retryable, with backoff.
    ├── AuthExpired      401, and refreshing the tokens failed or there were none: the user must sign in again
    └── ApiError         any other 4xx: the server's answer ``{"code", "message", "details"}``, kept on the
                         exception (``status``, ``code``, ``message``, ``details``). Not retryable as it is.

A 401 on any signed-in call refreshes the tokens once and retries the call once. A refresh answered 401
``auth.refresh_in_use`` lost a race to another client of the same sign-in (the app's other thread or process
sharing the token store): the tokens the winner stores are awaited and used; if none arrive it is a
``TransportError`` (retry later), never a sign-out. A sign-in answered 429 ``auth.throttled`` is an ``ApiError``
whose message says how long to wait (the person must wait, not the network).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from mobile_app.sync.tokens import TokenPair, TokenStore
from shared_billing.protocol import PullResponse, PushRequest, PushResponse

__all__ = ["ApiError", "AuthExpired", "Me", "SyncApi", "SyncError", "TransportError"]

_Model = TypeVar("_Model", bound=BaseModel)
# Answers that say "try again later", not "this request is wrong".
_RETRYABLE_4XX = frozenset({408, 425, 429})
# After losing a refresh race, how often and how long to wait for the winner's tokens to appear in the store.
REFRESH_IN_USE_WAITS = (0.25, 0.5, 1.0)


class SyncError(Exception):
    """Base of the sync client's errors. ``retry_after`` is the answer's ``Retry-After`` header, if it had one."""

    retry_after: str | None = None


class TransportError(SyncError):
    """No usable answer from the server; retry later. ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: str | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class AuthExpired(SyncError):
    """The session is over (refresh refused or no tokens): sign in again. The outbox keeps its readings."""


class ApiError(SyncError):
    """A 4xx answer with the server's stable error ``code``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        retry_after: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.retry_after = retry_after
        super().__init__(f"{status} {code}: {message}")


class Me(BaseModel):
    """``GET /api/me``."""

    id: int
    username: str
    full_name: str
    role: str


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    retry_after = response.headers.get("Retry-After")
    if status >= 500 or status < 200 or 300 <= status < 400 or status in _RETRYABLE_4XX:
        raise TransportError(f"server answered {status}", status=status, retry_after=retry_after)
    raise _api_error(response)


def _api_error(response: httpx.Response) -> ApiError:
    status = response.status_code
    retry_after = response.headers.get("Retry-After")
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        details = body.get("details")
        message = str(body.get("message") or "")
        details = details if isinstance(details, dict) else None
        return ApiError(status, body["code"], message, details, retry_after=retry_after)
    # Not our error shape (a proxy's page, a route this server lacks): keep the status as the code.
    return ApiError(status, f"http.{status}", response.text[:200] or response.reason_phrase, retry_after=retry_after)


def _parse(model: type[_Model], response: httpx.Response) -> _Model:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as error:
        raise TransportError(f"unreadable answer from the server: {error.error_count()} errors") from error


class SyncApi:
    """Calls ``/api`` with the signed-in user's tokens; safe to share between threads."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        tokens: TokenStore,
        base_url: str = "",
        device_id: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``device_id`` binds refresh tokens; ``login`` sets it too, so it is needed only when resuming."""
        self._http = http
        self._tokens = tokens
        self._base_url = base_url.rstrip("/")
        self._device_id = device_id
        self._sleep = sleep
        # Refresh tokens rotate and a reused one revokes the device: only one refresh may run at a time.
        self._refresh_lock = threading.Lock()

    def _url(self, path: str) -> str:
        return f"{self._base_url}/api{path}"

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send without tokens and map failures to the error hierarchy."""
        try:
            response = self._http.request(method, self._url(path), **kwargs)
        except httpx.TransportError as error:
            raise TransportError(f"{type(error).__name__}: {error}") from error
        _raise_for_status(response)
        return response

    def _signed_in_call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send with the access token; on 401 refresh once and retry once."""
        response, used = self._send_with_token(method, path, kwargs)
        if response.status_code == 401:
            self._refresh_after_401(used)
            response, _ = self._send_with_token(method, path, kwargs)
            if response.status_code == 401:
                raise AuthExpired("the server refused the refreshed token")
        _raise_for_status(response)
        return response

    def _send_with_token(self, method: str, path: str, kwargs: dict[str, Any]) -> tuple[httpx.Response, str]:
        tokens = self._tokens.get()
        if tokens is None:
            raise AuthExpired("not signed in")
        headers = {**kwargs.get("headers", {}), "Authorization": f"Bearer {tokens.access_token}"}
        try:
            response = self._http.request(method, self._url(path), **{**kwargs, "headers": headers})
        except httpx.TransportError as error:
            raise TransportError(f"{type(error).__name__}: {error}") from error
        return response, tokens.access_token

    def _refresh_after_401(self, refused_access_token: str) -> None:
        with self._refresh_lock:
            current = self._tokens.get()
            if current is not None and current.access_token != refused_access_token:
                return  # another thread refreshed while this call was in flight: just retry
            self._refresh_locked()

    def _refresh_locked(self) -> TokenPair:
        tokens = self._tokens.get()
        if tokens is None or self._device_id is None:
            raise AuthExpired("no refresh token for this device: sign in")
        body = {"refresh_token": tokens.refresh_token, "device_id": self._device_id}
        try:
            response = self._call("POST", "/auth/refresh", json=body)
        except ApiError as error:
            if error.code == "auth.refresh_in_use":
                return self._await_winner(tokens, error)
            raise AuthExpired(f"refresh refused: {error.code}") from error
        fresh = _parse(TokenPair, response)
        self._tokens.set(fresh)
        return fresh

    def _await_winner(self, presented: TokenPair, error: ApiError) -> TokenPair:
        """Another client of this sign-in rotated the token first: use the tokens it stores. Presenting the same
        token again would only lose again (or, after the grace, look like theft and end the sign-in)."""
        for wait in REFRESH_IN_USE_WAITS:
            self._sleep(wait)
            stored = self._tokens.get()
            if stored is not None and stored.refresh_token != presented.refresh_token:
                return stored
        raise TransportError("the session is being renewed by another request: retry later", status=401) from error

    def login(self, *, username: str, password: str, device_id: str) -> TokenPair:
        """Sign in on this device and keep the tokens; wrong credentials are ``ApiError`` (401)."""
        body = {"username": username, "password": password, "device_id": device_id}
        try:
            response = self._http.request("POST", self._url("/auth/login"), json=body)
        except httpx.TransportError as error:
            raise TransportError(f"{type(error).__name__}: {error}") from error
        if response.status_code == 429:
            # Too many failed sign-ins: the server's message says how long to wait; show it, do not retry it.
            raise _api_error(response)
        _raise_for_status(response)
        tokens = _parse(TokenPair, response)
        self._device_id = device_id
        self._tokens.set(tokens)
        return tokens

    def logout(self) -> None:
        """``POST /api/auth/logout``: end this sign-in on the server (its tokens stop working) and forget them.

        The tokens are forgotten even when the server cannot be reached (signing out never waits on a network).
        """
        tokens = self._tokens.get()
        self._tokens.set(None)
        if tokens is not None:
            self.end_session(tokens)

    def end_session(self, tokens: TokenPair) -> None:
        """Tell the server these tokens are done with (their family is revoked); never raises, never refreshes.

        Takes the tokens rather than reading the store, so it runs after the phone has already forgotten them and
        never touches a newer sign-in's tokens; offline it fails within the client's connect timeout.
        """
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        with contextlib.suppress(httpx.HTTPError):  # offline, or already over: the local sign-out still happened
            self._http.post(self._url("/auth/logout"), headers=headers)

    def refresh(self) -> TokenPair:
        """Exchange the refresh token for a new pair (the old one stops working). Refused: ``AuthExpired``."""
        with self._refresh_lock:
            return self._refresh_locked()

    def push(self, request: PushRequest) -> PushResponse:
        """``POST /api/sync/push``: one result per reading, in the order sent.

        Serialized by pydantic, which writes a non-finite float as ``null``; ``json.dumps`` would write ``NaN``,
        which is not JSON (or raise): whatever slipped past capture, no NaN ever leaves the phone.
        """
        body = request.model_dump_json()
        headers = {"Content-Type": "application/json"}
        response = self._signed_in_call("POST", "/sync/push", content=body, headers=headers)
        return _parse(PushResponse, response)

    def upload_photo(self, *, sha256: str, data: bytes, content_type: str) -> bool:
        """``PUT /api/photos/{sha256}``; True if the server stored it now (201), False if it had it (200)."""
        response = self._signed_in_call(
            "PUT", f"/photos/{sha256}", content=data, headers={"Content-Type": content_type}
        )
        return response.status_code == 201

    def pull(self, *, cursor: int) -> PullResponse:
        """``GET /api/sync/pull?cursor=N``: assignments (all when cursor is 0, else changes) and decisions."""
        return _parse(PullResponse, self._signed_in_call("GET", "/sync/pull", params={"cursor": cursor}))

    def me(self) -> Me:
        """``GET /api/me``: who the tokens belong to."""
        return _parse(Me, self._signed_in_call("GET", "/me"))
