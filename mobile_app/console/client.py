"""The browser console's client of the server's own API (supervisor and admin views).

Async httpx, so calls from the mounted Flet app never block the server's event loop; the transport is injected:
an in-process ASGI transport when the console is mounted in the server, a network one otherwise. One
authorization path for phones and browsers: every call carries the signed-in user's bearer token.

Sessions last like the phone's: a 401 on a signed-in call exchanges the refresh token once (under a lock: refresh
tokens rotate, and presenting a used one revokes the device) and retries the call once, the rule of
``mobile_app.sync.api_client.SyncApi``. That class is synchronous (a thread-safe ``httpx.Client``); the console must
stay async, so the rule is restated here for ``httpx.AsyncClient`` and the token model is shared. When the refresh is
refused the session is over: the tokens are forgotten, ``on_session_expired`` runs (the app shows sign-in) and the
call raises :class:`SessionExpired`.

A refresh answered 401 ``auth.refresh_in_use`` lost a race for the same refresh token (a retried request whose
first answer never arrived): the session is not over. The call fails with that code after a short wait (the tab
keeps its session; the person tries again) unless the tokens changed meanwhile, then it is retried with them.
Too many failed sign-ins answer 429 ``auth.throttled``; the error's message says how long to wait.

"Today", the billing month and the zone times are shown in are the society's, asked of the server
(``GET /api/clock``), never taken from this process's clock or zone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError

from mobile_app.sync.tokens import TokenPair

__all__ = ["BillingClient", "ConsoleApiError", "ConsoleClient", "SessionExpired", "SocietyTime"]

REFRESH_IN_USE_WAIT_S = 0.5  # after losing a refresh race, how long to wait before looking at the tokens again


class ConsoleApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class SessionExpired(ConsoleApiError):
    """The refresh token was refused (expired, revoked, or the user deactivated): sign in again."""

    def __init__(self) -> None:
        super().__init__(401, "auth.session_expired", "Your session has ended: sign in again")


@dataclass(frozen=True)
class SocietyTime:
    """``GET /api/clock``: the server's now, and the society's date, billing month and zone."""

    now: datetime
    today: date
    period: str
    zone: ZoneInfo

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SocietyTime:
        return cls(
            now=datetime.fromisoformat(body["now"]),
            today=date.fromisoformat(body["today"]),
            period=str(body["period"]),
            zone=ZoneInfo(body["timezone"]),
        )


def _code(response: httpx.Response) -> str | None:
    """The error code of an answer in the server's error shape, if it is one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("code")) if isinstance(body, dict) and body.get("code") else None


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code < 400:
        return response
    try:
        body = response.json()
    except ValueError:
        raise ConsoleApiError(response.status_code, "", response.text) from None
    if not isinstance(body, dict):
        raise ConsoleApiError(response.status_code, "", response.text)
    raise ConsoleApiError(response.status_code, str(body.get("code", "")), str(body.get("message", response.text)))


class ConsoleClient:
    def __init__(self, http: httpx.AsyncClient, *, on_session_expired: Callable[[], None] | None = None) -> None:
        self.http = http
        self.on_session_expired = on_session_expired
        self.tokens: TokenPair | None = None
        self.role: str | None = None
        self.username: str | None = None
        self._device_id: str | None = None
        self._refresh_lock = asyncio.Lock()

    async def _send(self, method: str, path: str, tokens: TokenPair | None, kwargs: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {tokens.access_token}"} if tokens else {}
        try:
            return await self.http.request(method, f"/api{path}", headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise ConsoleApiError(0, "transport", f"The server did not answer: {error}") from error

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A signed-in call; on 401 refresh the tokens once and retry once."""
        used = self.tokens
        response = await self._send(method, path, used, kwargs)
        if response.status_code == 401 and used is not None:
            await self._refresh_after_401(used)
            response = await self._send(method, path, self.tokens, kwargs)
            if response.status_code == 401:  # refused even fresh tokens: the user was deactivated
                self._end_session()
                raise SessionExpired()
        return _checked(response)

    async def _refresh_after_401(self, refused: TokenPair) -> None:
        async with self._refresh_lock:
            current = self.tokens
            if current is None or self._device_id is None:
                raise SessionExpired()  # another call already ended the session
            if current.access_token != refused.access_token:
                return  # another call refreshed while this one was in flight: just retry
            body = {"refresh_token": current.refresh_token, "device_id": self._device_id}
            response = await self._send("POST", "/auth/refresh", None, {"json": body})
            if _code(response) == "auth.refresh_in_use":
                await asyncio.sleep(REFRESH_IN_USE_WAIT_S)
                if self.tokens is not None and self.tokens.refresh_token != current.refresh_token:
                    return  # the winner's tokens are here: retry with them
                raise ConsoleApiError(401, "auth.refresh_in_use", "The session is being renewed: try again")
            if 400 <= response.status_code < 500:
                self._end_session()
                raise SessionExpired()
            self.tokens = self._token_pair(_checked(response))

    @staticmethod
    def _token_pair(response: httpx.Response) -> TokenPair:
        try:
            return TokenPair.model_validate_json(response.content)
        except ValidationError as error:
            raise ConsoleApiError(response.status_code, "transport", "Unreadable answer from the server") from error

    def _end_session(self) -> None:
        self.sign_out()
        if self.on_session_expired is not None:
            self.on_session_expired()

    async def sign_in(self, username: str, password: str, device_id: str) -> str:
        body = {"username": username, "password": password, "device_id": device_id}
        tokens = self._token_pair(_checked(await self._send("POST", "/auth/login", None, {"json": body})))
        self.tokens, self.role, self.username, self._device_id = tokens, tokens.role, username, device_id
        return tokens.role

    def sign_out(self) -> None:
        """Forget the session here (the server's side ends with :meth:`log_out`, or when the tokens expire)."""
        self.tokens = None
        self.role = self.username = None

    async def log_out(self) -> None:
        """End the sign-in on the server too (``POST /api/auth/logout``: its tokens stop working at once), then
        forget it; the local sign-out happens even if the server cannot be reached."""
        tokens = self.tokens
        self.sign_out()
        if tokens is not None:
            # The server is away: the access token still expires by itself.
            with contextlib.suppress(ConsoleApiError):
                await self._send("POST", "/auth/logout", tokens, {})

    async def society_time(self) -> SocietyTime:
        return SocietyTime.from_json((await self._call("GET", "/clock")).json())

    async def review_queue(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "/review/readings")).json())

    async def decide(self, reading_uuid: str, action: str, reason: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if action in ("reject", "reread") else None
        response = await self._call("POST", f"/review/readings/{reading_uuid}/{action}", json=body)
        return dict(response.json())

    async def photo(self, sha256: str) -> bytes:
        return (await self._call("GET", f"/photos/{sha256}")).content

    async def meters(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "/meters")).json())

    async def units(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "/units")).json())

    async def approved_readings(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "/readings", params={"status": "approved"})).json())

    async def create_bill(self, reading_uuid: str) -> dict[str, Any]:
        return dict((await self._call("POST", "/bills", json={"reading_uuid": reading_uuid})).json())

    async def bills(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "/bills")).json())


class BillingClient(ConsoleClient):
    """The billing calls of the console (admins run and issue; accountants record payments)."""

    async def blocks(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "/blocks")).json())

    async def start_run(self, block_id: int, period: str) -> dict[str, Any]:
        return dict((await self._call("POST", "/billing/runs", json={"block_id": block_id, "period": period})).json())

    async def run(self, run_id: int) -> dict[str, Any]:
        return dict((await self._call("GET", f"/billing/runs/{run_id}")).json())

    async def issue_run(self, run_id: int) -> list[dict[str, Any]]:
        return list((await self._call("POST", f"/billing/runs/{run_id}/issue")).json())

    async def find_bills(
        self, *, block_id: int | None = None, period: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"block_id": block_id, "period": period, "status": status}.items() if v}
        return list((await self._call("GET", "/bills", params=params)).json())

    async def pdf_link(self, bill_id: int) -> str:
        return str((await self._call("POST", f"/bills/{bill_id}/pdf-link")).json()["url"])

    async def block_pdf_link(self, block_id: int, period: str) -> str:
        body = {"block_id": block_id, "period": period}
        return str((await self._call("POST", "/billing/block-pdf-link", json=body)).json()["url"])

    async def record_payment(
        self, *, unit_id: int, bill_id: int, amount: str, paid_on: str, mode: str
    ) -> dict[str, Any]:
        body = {"unit_id": unit_id, "bill_id": bill_id, "amount": amount, "paid_on": paid_on, "mode": mode}
        return dict((await self._call("POST", "/payments", json=body)).json())

    async def mark_paid(self, bill_ids: list[int], paid_on: str, mode: str) -> dict[str, Any]:
        body = {"bill_ids": bill_ids, "paid_on": paid_on, "mode": mode}
        return dict((await self._call("POST", "/bills/mark-paid", json=body)).json())
