"""The phone's client and throttled sign-ins, refresh races and logout (a MockTransport server)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mobile_app.sync import ApiError, MemoryTokenStore, SyncApi, TransportError
from mobile_app.sync.tokens import TokenPair


def _pair(tag: str) -> TokenPair:
    return TokenPair(
        access_token=f"access-{tag}", refresh_token=f"refresh-{tag}", expires_in=900, role="engineer", user_id=7
    )


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": f"{code} says wait", "details": {}}, headers=headers)


class Server:
    """Answers /api/me for one valid access token; refresh and login answers are set per test."""

    def __init__(self, valid_access: str, refresh: Callable[[], httpx.Response]) -> None:
        self.valid_access = valid_access
        self.refresh = refresh
        self.seen: list[tuple[str, str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        bearer = request.headers.get("Authorization")
        self.seen.append((request.method, request.url.path, bearer))
        if request.url.path == "/api/auth/refresh":
            return self.refresh()
        if request.url.path == "/api/auth/login":
            return _error(429, "auth.throttled", {"Retry-After": "840"})
        if request.url.path == "/api/auth/logout":
            return httpx.Response(204) if bearer == f"Bearer {self.valid_access}" else _error(401, "auth.invalid_token")
        if bearer == f"Bearer {self.valid_access}":
            return httpx.Response(200, json={"id": 7, "username": "eng", "full_name": "E", "role": "engineer"})
        return _error(401, "auth.invalid_token")


def _api(server: Server, tokens: MemoryTokenStore, sleep: Callable[[float], None] = lambda _s: None) -> SyncApi:
    http = httpx.Client(transport=httpx.MockTransport(server), base_url="https://fieldmeter.test")
    return SyncApi(http=http, tokens=tokens, device_id="phone-1", sleep=sleep)


def test_a_throttled_sign_in_is_an_api_error_that_says_how_long() -> None:
    api = _api(Server("x", lambda: httpx.Response(500)), MemoryTokenStore())
    with pytest.raises(ApiError) as caught:
        api.login(username="eng", password="wrong", device_id="phone-1")
    assert (caught.value.status, caught.value.code, caught.value.retry_after) == (429, "auth.throttled", "840")
    assert "wait" in caught.value.message


def test_losing_a_refresh_race_uses_the_winners_stored_tokens() -> None:
    tokens = MemoryTokenStore()
    tokens.set(_pair("old"))
    winner = _pair("winner")
    server = Server(winner.access_token, lambda: _error(401, "auth.refresh_in_use"))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            tokens.set(winner)  # the other process of this sign-in stored what it won

    me = _api(server, tokens, sleep).me()
    assert me.username == "eng"
    assert tokens.get() == winner
    assert server.seen[-1] == ("GET", "/api/me", f"Bearer {winner.access_token}")
    assert len(waits) == 2


def test_a_refresh_race_without_a_winner_is_retryable_and_keeps_the_sign_in() -> None:
    tokens = MemoryTokenStore()
    tokens.set(_pair("old"))
    api = _api(Server("valid", lambda: _error(401, "auth.refresh_in_use")), tokens)
    with pytest.raises(TransportError):
        api.me()
    assert tokens.get() == _pair("old")  # not signed out


def test_logout_ends_the_sign_in_on_the_server_and_forgets_it() -> None:
    tokens = MemoryTokenStore()
    tokens.set(_pair("now"))
    server = Server("access-now", lambda: httpx.Response(500))
    _api(server, tokens).logout()
    assert ("POST", "/api/auth/logout", "Bearer access-now") in server.seen
    assert tokens.get() is None


def test_logout_offline_still_forgets_the_tokens() -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no network", request=request)

    tokens = MemoryTokenStore()
    tokens.set(_pair("now"))
    http = httpx.Client(transport=httpx.MockTransport(offline), base_url="https://fieldmeter.test")
    SyncApi(http=http, tokens=tokens, device_id="phone-1").logout()
    assert tokens.get() is None
