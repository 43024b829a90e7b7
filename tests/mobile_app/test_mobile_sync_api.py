"""The sync client's HTTP side against a MockTransport fake: tokens, refresh on 401, error mapping."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from mobile_app.sync import (
    ApiError,
    AuthExpired,
    MemoryTokenStore,
    StoreTokenStore,
    SyncApi,
    TransportError,
)
from shared_billing.protocol import PushRequest, ReadingV1
from tests.mobile_app.phone_factories import FakeServer, make_api, make_reading, make_store, problem


def _client(server: FakeServer) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(server), base_url="https://fieldmeter.test")


def _push_request(*readings: ReadingV1) -> PushRequest:
    return PushRequest(device_id="device-1", sent_at=datetime(2026, 3, 1, tzinfo=UTC), readings=list(readings))


def test_login_keeps_the_tokens() -> None:
    server = FakeServer()
    tokens = MemoryTokenStore()
    api = SyncApi(http=_client(server), tokens=tokens)

    pair = api.login(username="eng", password="secret", device_id="device-1")

    assert tokens.get() == pair
    assert api.me().username == "eng"


def test_login_wrong_password_is_api_error_not_auth_expired() -> None:
    api = make_api(FakeServer(), signed_in=False)

    with pytest.raises(ApiError) as caught:
        api.login(username="eng", password="wrong", device_id="device-1")

    assert (caught.value.status, caught.value.code) == (401, "auth.invalid_credentials")


def test_not_signed_in_is_auth_expired_without_a_request() -> None:
    server = FakeServer()
    api = make_api(server, signed_in=False)

    with pytest.raises(AuthExpired):
        api.me()

    assert server.requests == []


def test_expired_access_token_refreshes_and_retries_once() -> None:
    server = FakeServer()
    api = make_api(server)
    server.expire_access_tokens()

    response = api.push(_push_request(make_reading()))

    assert [result.outcome for result in response.results] == ["stored"]
    assert server.count("POST /api/auth/refresh") == 1
    assert server.count("POST /api/sync/push") == 2


def test_failed_refresh_raises_auth_expired() -> None:
    server = FakeServer()
    api = make_api(server)
    server.expire_access_tokens()
    server.refresh_tokens.clear()  # the device was revoked

    with pytest.raises(AuthExpired, match="refresh refused"):
        api.pull(cursor=0)

    assert server.count("GET /api/sync/pull") == 1


def test_second_401_after_refresh_is_auth_expired() -> None:
    server = FakeServer()
    api = make_api(server)
    server.queue("GET /api/me", problem(401, "auth.invalid_token"), problem(401, "auth.invalid_token"))

    with pytest.raises(AuthExpired):
        api.me()

    assert server.count("GET /api/me") == 2


def test_refresh_transport_failure_is_retryable_not_auth_expired() -> None:
    server = FakeServer()
    api = make_api(server)
    server.expire_access_tokens()
    server.queue("POST /api/auth/refresh", httpx.Response(503))

    with pytest.raises(TransportError):
        api.me()


def test_401_after_another_thread_refreshed_retries_without_refreshing_again() -> None:
    server = FakeServer()
    tokens = MemoryTokenStore()
    refreshed_elsewhere: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/me" and not refreshed_elsewhere:
            # While this request was in flight with the old token, another thread refreshed the pair.
            refreshed_elsewhere.append(True)
            tokens.set(server.issue_tokens("d"))
            return problem(401, "auth.invalid_token")
        return server(request)

    api = SyncApi(
        http=httpx.Client(transport=httpx.MockTransport(handler), base_url="https://fieldmeter.test"),
        tokens=tokens,
    )
    api.login(username="eng", password="secret", device_id="d")

    assert api.me().username == "eng"
    # A second refresh would have reused a rotated refresh token and revoked the device.
    assert server.count("POST /api/auth/refresh") == 0


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_trouble_is_transport_error(status: int) -> None:
    server = FakeServer()
    api = make_api(server)
    server.queue("POST /api/sync/push", httpx.Response(status))

    with pytest.raises(TransportError) as caught:
        api.push(_push_request(make_reading()))

    assert caught.value.status == status


def test_connection_failure_is_transport_error() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    api = SyncApi(http=httpx.Client(transport=httpx.MockTransport(unreachable)), tokens=MemoryTokenStore())

    with pytest.raises(TransportError, match="ConnectError"):
        api.login(username="eng", password="secret", device_id="d")


def test_unreadable_success_body_is_transport_error() -> None:
    server = FakeServer()
    api = make_api(server)
    server.queue("GET /api/sync/pull", httpx.Response(200, text="<html>Sign in to the Wi-Fi</html>"))

    with pytest.raises(TransportError, match="unreadable"):
        api.pull(cursor=0)


def test_4xx_carries_the_servers_code_message_and_details() -> None:
    server = FakeServer()
    api = make_api(server)
    server.queue("POST /api/sync/push", problem(422, "request.invalid", "Bad body", errors=[{"loc": ["sent_at"]}]))

    with pytest.raises(ApiError) as caught:
        api.push(_push_request(make_reading()))

    error = caught.value
    assert (error.status, error.code, error.message) == (422, "request.invalid", "Bad body")
    assert error.details == {"errors": [{"loc": ["sent_at"]}]}


def test_4xx_without_error_body_uses_the_status_as_code() -> None:
    server = FakeServer()
    api = make_api(server)
    server.queue("GET /api/me", httpx.Response(404, text="Not Found"))

    with pytest.raises(ApiError) as caught:
        api.me()

    assert caught.value.code == "http.404"


def test_upload_photo_tells_new_from_already_stored() -> None:
    server = FakeServer()
    api = make_api(server)
    data = b"\xff\xd8\xffphoto"
    sha256 = hashlib.sha256(data).hexdigest()
    server.photo_refs.add(sha256)

    assert api.upload_photo(sha256=sha256, data=data, content_type="image/jpeg") is True
    assert api.upload_photo(sha256=sha256, data=data, content_type="image/jpeg") is False
    assert server.requests[-1].headers["Content-Type"] == "image/jpeg"


def test_empty_base_url_uses_the_clients_own() -> None:
    server = FakeServer()
    http = httpx.Client(transport=httpx.MockTransport(server), base_url="https://meters.example/")
    api = SyncApi(http=http, tokens=MemoryTokenStore())

    api.login(username="eng", password="secret", device_id="d")

    assert str(server.requests[-1].url) == "https://meters.example/api/auth/login"


def test_explicit_base_url_prefixes_paths() -> None:
    server = FakeServer()
    api = SyncApi(
        http=httpx.Client(transport=httpx.MockTransport(server)),
        tokens=MemoryTokenStore(),
        base_url="https://meters.example/",
    )

    api.login(username="eng", password="secret", device_id="d")

    assert str(server.requests[-1].url) == "https://meters.example/api/auth/login"


def test_store_token_store_keeps_tokens_across_restarts(tmp_path: Path) -> None:
    server = FakeServer()
    store = make_store(tmp_path)
    tokens = StoreTokenStore(store)
    SyncApi(http=_client(server), tokens=tokens).login(username="eng", password="secret", device_id="d")

    resumed = SyncApi(http=_client(server), tokens=StoreTokenStore(store), device_id="d")

    assert resumed.me().role == "engineer"
    tokens.set(None)
    assert StoreTokenStore(store).get() is None
