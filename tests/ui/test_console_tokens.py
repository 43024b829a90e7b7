"""A console tab stays signed in past its access token's life (the client refreshes like the phone), and a refused
refresh sends it back to sign-in cleanly.

The server clock is a ``FixedClock`` the tests move: tokens are judged by it, so "hours later" costs nothing.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from mobile_app.api.errors import AuthExpired
from mobile_app.console.app import console_main
from mobile_app.console.client import ConsoleClient
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import FLAT, PASSWORD, Server, meter_photo, sign_in, value_of, wait_key

TIMEOUT = 20.0


def _http(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")


def find_key(driver: FletDriver, key: str) -> Any:
    try:
        return driver.find(key)
    except LookupError:
        return None


def _past_access_token(server: Server) -> timedelta:
    return timedelta(minutes=server.app.state.context.settings.access_token_minutes, seconds=1)


def _past_refresh_token(server: Server) -> timedelta:
    return timedelta(days=server.app.state.context.settings.refresh_token_days, seconds=1)


def test_the_console_keeps_working_hours_after_sign_in(server: Server) -> None:
    first = server.push_reading(FLAT, photo=meter_photo())

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        card = await wait_key(driver, f"review-{first['uuid']}")
        # Four hours of a tab left open: many access-token lives, each call refreshing once.
        for _ in range(16):
            server.clock.advance(_past_access_token(server))
            await driver.click("refresh")

            # The reload is over when its new card replaced the old one (the clock must not move mid-call).
            def reloaded(old: Any = card) -> Any:
                return (c := find_key(driver, f"review-{first['uuid']}")) is not old and c

            card = await driver.wait_for(reloaded, message="the queue reloaded")
            assert value_of(driver, "review_summary") == "1 reading waiting", driver.texts()
        # A reading pushed meanwhile shows up on the next refresh: the calls reach the server, signed in.
        server._headers.clear()  # the test's own tokens have expired too
        second = server.push_reading("4BHK-B5-GF", photo=meter_photo(shade=120))
        await driver.click("refresh")
        await wait_key(driver, f"review-{second['uuid']}")
        assert value_of(driver, "review_summary") == "2 readings waiting"
        assert value_of(driver, "username") is None  # never sent back to sign-in
        await driver.click(f"approve-{first['uuid']}")
        await driver.wait_for(lambda: value_of(driver, "review_summary") == "1 reading waiting", message="approved")
        assert driver.crashes() == []

    run_app(console_main(lambda: _http(server)), scenario, timeout=TIMEOUT)
    assert server.review_item(first["uuid"])["status"] == "approved"


def test_a_refused_refresh_sends_the_console_back_to_sign_in(server: Server) -> None:
    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-readings")
        server.clock.advance(_past_refresh_token(server))
        await driver.click("section-readings")
        await driver.wait_for(lambda: value_of(driver, "username") == "", message="the sign-in form again")
        assert value_of(driver, "sign_in_error") == "Your session has ended: sign in again"
        assert "Fieldmeter · admin (admin)" not in driver.texts()
        # Signing in again works, with a new session.
        await sign_in(driver, "admin")
        await wait_key(driver, "section-readings")
        assert value_of(driver, "sign_in_error") is None
        assert driver.crashes() == []

    run_app(console_main(lambda: _http(server)), scenario, timeout=TIMEOUT)


def test_concurrent_calls_after_expiry_refresh_once_and_keep_the_device(server: Server) -> None:
    """Refresh tokens rotate and a reused one revokes the device: calls failing together must refresh once."""

    async def go() -> list[Any]:
        async with _http(server) as http:
            client = ConsoleClient(http)
            await client.sign_in("supervisor", PASSWORD, "browser-test")
            results: list[Any] = []
            for _ in range(3):
                server.clock.advance(_past_access_token(server))
                before = client.tokens
                answers = await asyncio.gather(*(client.society_time() for _ in range(8)))
                assert client.tokens is not None
                assert before is not None
                assert client.tokens.refresh_token != before.refresh_token  # rotated
                results.append(answers)
            # Still one live session for the device: a reused refresh token would have revoked it.
            server.clock.advance(_past_access_token(server))
            results.append(await client.review_queue())
            return results

    *rounds, queue = asyncio.run(go())
    assert all(len(answers) == 8 for answers in rounds)
    assert [answers[0].today.isoformat() for answers in rounds] == [server.clock().date().isoformat()] * 3
    assert queue.items == []
    assert queue.total == 0


def test_an_expired_session_raises_and_forgets_the_tokens(server: Server) -> None:
    ended: list[str] = []

    async def go() -> None:
        async with _http(server) as http:
            client = ConsoleClient(http, on_session_expired=lambda: ended.append("ended"))
            await client.sign_in("accountant", PASSWORD, "browser-test")
            server.clock.advance(_past_refresh_token(server))
            with pytest.raises(AuthExpired) as raised:
                await client.society_time()
            assert (raised.value.status, raised.value.code) == (401, "auth.session_expired")
            assert client.tokens is None
            assert client.role is None

    asyncio.run(go())
    assert ended == ["ended"]
