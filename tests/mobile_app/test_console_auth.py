"""The browser console's client against the real app in-process: the browser's address reaches sign-in
throttling through the ASGI transport, a lost refresh race keeps the session, and log-out ends it on the server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from unittest.mock import MagicMock

import httpx
from fastapi import FastAPI

from mobile_app.api.errors import ApiClientError
from mobile_app.console.app import console_main
from mobile_app.console.client import ConsoleClient
from shared_billing.api_models import TokenPair
from sync_server.demo import DEMO_PASSWORD


def _browser(app: FastAPI, address: str) -> ConsoleClient:
    # What mobile_app.console.asgi's factory builds for a browser at ``address`` (page.client_ip).
    transport = httpx.ASGITransport(app=app, client=(address, 0))
    return ConsoleClient(httpx.AsyncClient(transport=transport, base_url="http://fieldmeter.local"))


async def _sign_in_status(client: ConsoleClient, username: str, password: str) -> int | str:
    try:
        await client.sign_in(username, password, "browser-1")
    except ApiClientError as error:
        return error.code
    return 200


def test_console_sign_ins_are_throttled_per_browser_address(demo_app: FastAPI) -> None:
    demo_app.state.context.settings.login_max_failures_per_address = 3

    async def scenario() -> tuple[list[int | str], int | str, int | str]:
        guesser, colleague = _browser(demo_app, "198.51.100.20"), _browser(demo_app, "198.51.100.21")
        guesses = [await _sign_in_status(guesser, f"nobody-{n}", "wrong") for n in range(5)]
        return (
            guesses,
            await _sign_in_status(colleague, "supervisor", DEMO_PASSWORD),
            await _sign_in_status(guesser, "supervisor", DEMO_PASSWORD),
        )

    guesses, colleague, guesser_again = asyncio.run(scenario())
    assert guesses == ["auth.invalid_credentials"] * 3 + ["auth.throttled"] * 2
    assert colleague == 200  # another browser is not held up by the guesser at another address
    assert guesser_again == "auth.throttled"


def test_console_main_gives_the_client_the_pages_address() -> None:
    made: list[str] = []

    def for_client(address: str) -> httpx.AsyncClient:
        made.append(address)
        return httpx.AsyncClient()

    def fallback() -> httpx.AsyncClient:
        made.append("fallback")
        return httpx.AsyncClient()

    main = console_main(fallback, for_client=for_client)

    async def open_pages() -> None:  # asyncio.run wants a coroutine; console_main promises an awaitable
        for address in ("203.0.113.44", None):  # a page without themes yet, as Flet hands one to main
            await main(MagicMock(client_ip=address, theme=None, dark_theme=None, fonts=None))

    asyncio.run(open_pages())
    assert made == ["203.0.113.44", "fallback"]


def test_log_out_ends_the_session_on_the_server(demo_app: FastAPI) -> None:
    async def scenario() -> int:
        client = _browser(demo_app, "198.51.100.30")
        await client.sign_in("supervisor", DEMO_PASSWORD, "browser-1")
        tokens = client.tokens
        assert tokens is not None
        await client.log_out()
        assert client.tokens is None
        answer = await client.http.get("/api/me", headers={"Authorization": f"Bearer {tokens.access_token}"})
        return answer.status_code

    assert asyncio.run(scenario()) == 401


def _scripted(answers: dict[str, Callable[[], httpx.Response]]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path]()

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://t")


def test_a_lost_refresh_race_keeps_the_console_signed_in() -> None:
    in_use = {"code": "auth.refresh_in_use", "message": "renewing", "details": {}}
    expired = {"code": "auth.invalid_token", "message": "expired", "details": {}}
    pair = {"access_token": "a", "refresh_token": "r", "expires_in": 900, "role": "supervisor", "user_id": 3}
    http = _scripted(
        {
            "/api/auth/login": lambda: httpx.Response(200, json=pair),
            "/api/review/readings": lambda: httpx.Response(401, json=expired),
            "/api/auth/refresh": lambda: httpx.Response(401, json=in_use),
        }
    )
    ended: list[bool] = []
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    client = ConsoleClient(http, on_session_expired=lambda: ended.append(True), sleep=sleep)

    async def scenario() -> str:
        await client.sign_in("supervisor", "pw", "browser-1")
        try:
            await client.review_queue()
        except ApiClientError as error:
            return error.code
        return "no error"

    assert asyncio.run(scenario()) == "auth.refresh_in_use"
    assert ended == []  # not signed out
    assert waits  # it waited for a winner before giving up
    assert client.tokens == TokenPair.model_validate(pair)
