"""The browser console's client of the server's own API (supervisor and admin views).

Async httpx, so calls from the mounted Flet app never block the server's event loop; the transport is injected:
an in-process ASGI transport when the console is mounted in the server, a network one otherwise. One
authorization path for phones and browsers: every call carries the signed-in user's bearer token.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["BillingClient", "ConsoleApiError", "ConsoleClient"]


class ConsoleApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ConsoleClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token: str | None = None
        self.role: str | None = None
        self.username: str | None = None

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = await self.http.request(method, f"/api{path}", headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise ConsoleApiError(0, "transport", f"The server did not answer: {error}") from error
        if response.status_code >= 400:
            try:
                body = response.json()
                raise ConsoleApiError(response.status_code, body.get("code", ""), body.get("message", response.text))
            except ValueError:
                raise ConsoleApiError(response.status_code, "", response.text) from None
        return response

    async def sign_in(self, username: str, password: str, device_id: str) -> str:
        response = await self._call(
            "POST", "/auth/login", json={"username": username, "password": password, "device_id": device_id}
        )
        body = response.json()
        self.token, self.role, self.username = body["access_token"], body["role"], username
        return str(body["role"])

    def sign_out(self) -> None:
        self.token = self.role = self.username = None

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
