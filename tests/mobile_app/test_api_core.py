"""The API client core without a server: answers to results or errors, and the token refresh decisions.

Then the same scripted server behind both wrappers (the phone's synchronous ``SyncApi`` and the console's
asynchronous ``ConsoleClient``): one set of rules, so one set of outcomes.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mobile_app.api import endpoints, session
from mobile_app.api.answers import Answer, error_of, json_body, no_answer, read_model
from mobile_app.api.errors import ApiClientError, ApiError, AuthExpired, TransportError
from mobile_app.console.client import ConsoleClient
from mobile_app.sync import MemoryTokenStore, SyncApi
from shared_billing.api_models import Me, TokenPair
from shared_billing.protocol import FieldLimits, PushRequest, Role

OLD = TokenPair(access_token="a-old", refresh_token="r-old", expires_in=900, role=Role.SUPERVISOR, user_id=3)
NEW = TokenPair(access_token="a-new", refresh_token="r-new", expires_in=900, role=Role.SUPERVISOR, user_id=3)


def problem(status: int, code: str, *, retry_after: str | None = None, **details: Any) -> Answer:
    body = {"code": code, "message": f"{code} happened", "details": details}
    return Answer(status, json.dumps(body).encode(), retry_after=retry_after)


def pair_answer(tokens: TokenPair) -> Answer:
    return Answer(200, tokens.model_dump_json().encode())


# --- Answers to errors ---


@pytest.mark.parametrize(
    ("answer", "kind", "status", "code", "retry_after"),
    [
        (Answer(500), TransportError, 500, "transport", None),
        (Answer(503, retry_after="120"), TransportError, 503, "transport", "120"),
        (problem(503, "service.unavailable", retry_after="5"), TransportError, 503, "service.unavailable", "5"),
        (Answer(502, b"<html>Bad gateway</html>"), TransportError, 502, "transport", None),
        (Answer(429, retry_after="30"), TransportError, 429, "transport", "30"),
        (Answer(408), TransportError, 408, "transport", None),
        (Answer(302), TransportError, 302, "transport", None),
        (problem(422, "request.invalid", errors=[{"loc": ["sent_at"]}]), ApiError, 422, "request.invalid", None),
        (problem(409, "bill.already_issued"), ApiError, 409, "bill.already_issued", None),
        (Answer(404, b"Not Found"), ApiError, 404, "http.404", None),
        (Answer(403, b"", reason="Forbidden"), ApiError, 403, "http.403", None),
    ],
)
def test_an_error_answer_maps_to_one_error(
    answer: Answer, kind: type[ApiClientError], status: int, code: str, retry_after: str | None
) -> None:
    error = error_of(answer)
    assert type(error) is kind
    assert error is not None
    assert (error.status, error.code, error.retry_after) == (status, code, retry_after)


def test_a_problem_body_keeps_its_message_and_details() -> None:
    error = error_of(problem(422, "request.invalid", errors=[{"loc": ["sent_at"]}]))
    assert isinstance(error, ApiError)
    assert (error.message, error.details) == ("request.invalid happened", {"errors": [{"loc": ["sent_at"]}]})
    assert str(error) == "422 request.invalid: request.invalid happened"


def test_an_error_without_our_shape_says_what_it_got() -> None:
    assert error_of(Answer(404, b"Not Found")) is not None
    assert str(error_of(Answer(404, b"Not Found"))) == "404 http.404: Not Found"
    assert str(error_of(Answer(403, b"", reason="Forbidden"))) == "403 http.403: Forbidden"


@pytest.mark.parametrize("status", [200, 201, 204])
def test_a_success_is_no_error(status: int) -> None:
    assert error_of(Answer(status)) is None


def test_a_throttled_sign_in_is_for_the_person_not_the_retry_loop() -> None:
    throttled = problem(429, "auth.throttled", retry_after="840")
    assert isinstance(error_of(throttled), TransportError)
    with pytest.raises(ApiError) as caught:
        session.read_sign_in(throttled)
    assert (caught.value.status, caught.value.code, caught.value.retry_after) == (429, "auth.throttled", "840")


@pytest.mark.parametrize("body", [b"<html>Sign in to the Wi-Fi</html>", b'{"id": 1}', b"", b'{"id": 1, "usern'])
def test_an_unreadable_success_is_a_transport_error(body: bytes) -> None:
    with pytest.raises(TransportError, match="unreadable"):
        read_model(Me)(Answer(200, body))


def test_a_readable_success_is_the_typed_model() -> None:
    me = read_model(Me)(Answer(200, b'{"id": 7, "username": "eng", "full_name": "E", "role": "engineer"}'))
    assert (me.id, me.role) == (7, Role.ENGINEER)


def test_no_answer_names_what_happened() -> None:
    error = no_answer(ConnectionRefusedError("no route to host"))
    assert (error.status, error.code) == (None, "transport")
    assert "ConnectionRefusedError: no route to host" in error.message


# --- Requests ---


def test_a_signed_in_call_carries_the_bearer_and_its_content_type() -> None:
    push = PushRequest(device_id="d-1", sent_at=datetime(2026, 3, 1, tzinfo=UTC), readings=[])
    call = endpoints.push(push)
    assert (call.method, call.path, call.signed_in) == ("POST", "/sync/push", True)
    assert call.headers("a-1") == {"Content-Type": "application/json", "Authorization": "Bearer a-1"}
    assert json.loads(call.body or b"")["device_id"] == "d-1"


def test_a_sign_in_carries_no_token() -> None:
    call = session.login_call("eng", "secret", "d-1")
    assert not call.signed_in
    assert call.headers(None) == {"Content-Type": "application/json"}
    assert json.loads(call.body or b"") == {"username": "eng", "password": "secret", "device_id": "d-1"}


def test_no_nan_leaves_the_client() -> None:
    # A float that slipped past every check (model_construct validates nothing) is written null, never NaN.
    limits = FieldLimits.model_construct(gps_accuracy_limit_m=math.nan, gps_radius_m=math.inf)
    assert json.loads(json_body(limits)) == {"gps_accuracy_limit_m": None, "gps_radius_m": None}


def test_a_query_leaves_out_what_was_not_asked() -> None:
    assert endpoints.bill_page(block_id=2).params == {"limit": 50, "offset": 0, "block_id": 2}
    assert endpoints.bill_page("4BHK", 200, 400).params == {"q": "4BHK", "limit": 200, "offset": 400}


# --- Token refresh decisions ---


def test_a_401_for_a_token_already_replaced_retries_with_the_current_one() -> None:
    assert session.after_401(OLD, NEW, "d-1") == NEW


@pytest.mark.parametrize(("current", "device"), [(None, "d-1"), (OLD, None), (None, None)])
def test_a_401_with_nothing_to_refresh_ends_the_session(current: TokenPair | None, device: str | None) -> None:
    with pytest.raises(AuthExpired) as caught:
        session.after_401(OLD, current, device)
    assert (caught.value.status, caught.value.code) == (401, "auth.session_expired")


def test_a_401_for_the_current_token_asks_for_a_refresh() -> None:
    step = session.after_401(OLD, OLD, "d-1")
    assert not isinstance(step, TokenPair)
    assert (step.method, step.path, step.signed_in) == ("POST", "/auth/refresh", False)
    assert json.loads(step.body or b"") == {"refresh_token": "r-old", "device_id": "d-1"}


def _refresh_outcome(answer: Answer) -> session.RefreshOutcome:
    step = session.after_401(OLD, OLD, "d-1")
    assert not isinstance(step, TokenPair)
    return step.read(answer)


def test_a_granted_refresh_brings_new_tokens() -> None:
    assert _refresh_outcome(pair_answer(NEW)) == NEW


@pytest.mark.parametrize("code", ["auth.invalid_token", "auth.forbidden"])
def test_a_refused_refresh_ends_the_session(code: str) -> None:
    with pytest.raises(AuthExpired, match=f"refresh refused: {code}"):
        _refresh_outcome(problem(401, code))


@pytest.mark.parametrize(
    ("answer", "retry_after"),
    [(Answer(503, retry_after="60"), "60"), (Answer(500), None), (Answer(429, retry_after="9"), "9")],
)
def test_a_refresh_without_a_proper_answer_is_retried_later_not_a_sign_out(
    answer: Answer, retry_after: str | None
) -> None:
    with pytest.raises(TransportError) as caught:
        _refresh_outcome(answer)
    assert caught.value.retry_after == retry_after


def test_an_unreadable_refresh_answer_is_retried_later() -> None:
    with pytest.raises(TransportError, match="unreadable"):
        _refresh_outcome(Answer(200, b"<html>portal</html>"))


def test_a_lost_refresh_race_waits_for_the_winner() -> None:
    outcome = _refresh_outcome(problem(401, "auth.refresh_in_use"))
    assert isinstance(outcome, session.AwaitWinner)
    assert outcome.waits == session.REFRESH_IN_USE_WAITS
    assert outcome.winner(None) is None
    assert outcome.winner(OLD) is None  # still the token that lost
    assert outcome.winner(NEW) == NEW
    gave_up = outcome.give_up()
    assert (type(gave_up), gave_up.status, gave_up.code) == (TransportError, 401, "auth.refresh_in_use")


def test_refused_again_with_fresh_tokens_ends_the_session() -> None:
    with pytest.raises(AuthExpired, match="refused the refreshed token"):
        session.after_retry(problem(401, "auth.invalid_token"))
    assert session.after_retry(Answer(200)).status == 200


# --- One set of rules behind both wrappers ---

Handler = Callable[[httpx.Request], httpx.Response]


def _phone(handler: Handler, winner: TokenPair | None) -> Callable[[], object]:
    tokens = MemoryTokenStore()

    def sleep(_seconds: float) -> None:
        if winner is not None:
            tokens.set(winner)  # what the winning thread or process stores

    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://t")
    api = SyncApi(http=http, tokens=tokens, sleep=sleep)
    api.login(username="sup", password="pw", device_id="d-1")
    return api.me


def _console(handler: Handler, winner: TokenPair | None) -> Callable[[], object]:
    async def sleep(_seconds: float) -> None:
        if winner is not None:
            client.tokens = winner  # what the winning call keeps

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://t")
    client = ConsoleClient(http, sleep=sleep)

    async def queue() -> object:
        await client.sign_in("sup", "pw", "d-1")
        return await client.review_queue()

    return lambda: asyncio.run(queue())


def _server(refresh: Callable[[], httpx.Response]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/login":
            return httpx.Response(200, content=OLD.model_dump_json())
        if request.url.path == "/api/auth/refresh":
            return refresh()
        if request.headers.get("Authorization") != f"Bearer {NEW.access_token}":
            return httpx.Response(401, json={"code": "auth.invalid_token", "message": "expired", "details": {}})
        if request.url.path == "/api/review/readings":
            return httpx.Response(200, json={"items": [], "total": 0, "limit": 50, "offset": 0, "clean": 0})
        return httpx.Response(200, json={"id": 3, "username": "sup", "full_name": "S", "role": "supervisor"})  # /me

    return handler


def _granted() -> httpx.Response:
    return httpx.Response(200, content=NEW.model_dump_json())


def _in_use() -> httpx.Response:
    return httpx.Response(401, json={"code": "auth.refresh_in_use", "message": "renewing", "details": {}})


def _refused() -> httpx.Response:
    return httpx.Response(401, json={"code": "auth.invalid_token", "message": "revoked", "details": {}})


def _down() -> httpx.Response:
    return httpx.Response(503, headers={"Retry-After": "7"})


@pytest.mark.parametrize("wrapper", [_phone, _console], ids=["phone", "console"])
@pytest.mark.parametrize(
    ("refresh", "winner", "outcome"),
    [
        (_granted, None, "answered"),
        (_in_use, NEW, "answered"),
        (_in_use, None, "auth.refresh_in_use"),
        (_refused, None, "auth.session_expired"),
        (_down, None, "transport"),
    ],
    ids=["refreshed", "race-won-elsewhere", "race-nobody-won", "refused", "server-down"],
)
def test_both_wrappers_follow_the_same_rules(
    wrapper: Callable[[Handler, TokenPair | None], Callable[[], object]],
    refresh: Callable[[], httpx.Response],
    winner: TokenPair | None,
    outcome: str,
) -> None:
    call = wrapper(_server(refresh), winner)
    try:
        call()
        got = "answered"
    except ApiClientError as error:
        got = error.code
    assert got == outcome
