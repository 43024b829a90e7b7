"""The phone's HTTP client for ``/api`` (docs/api.md): the synchronous wrapper of the client core
(``mobile_app.api``), one method per route the sync needs.

The core builds each request and reads each answer (typed results, the error tree of ``mobile_app.api.errors``,
the token refresh decisions of ``mobile_app.api.session``); this class only sends, sleeps and keeps tokens. It runs
in the sync's background thread, so it blocks: an ``httpx.Client`` and a ``threading.Lock``.

The ``httpx.Client`` is injected: the app passes one with timeouts, tests a ``MockTransport`` one, and the
contract test Starlette's ``TestClient`` (an ``httpx.Client`` too). URLs are ``f"{base_url}/api/..."``, so an
empty ``base_url`` uses the client's own.

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

from mobile_app.api import endpoints, session
from mobile_app.api.answers import Answer, Call, no_answer
from mobile_app.api.errors import ApiClientError, ApiError, AuthExpired, TransportError
from mobile_app.api.over_httpx import NO_ANSWER, answer_of, request_args
from mobile_app.sync.photo_upload import PHOTO_PIECE_BYTES, send_in_pieces
from mobile_app.sync.tokens import TokenStore
from shared_billing.api_models import Me, TokenPair
from shared_billing.protocol import PullResponse, PushRequest, PushResponse

__all__ = ["ApiClientError", "ApiError", "AuthExpired", "Me", "SyncApi", "TransportError"]

T = TypeVar("T")


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
        photo_piece_bytes: int = PHOTO_PIECE_BYTES,
    ) -> None:
        """``device_id`` binds refresh tokens; ``login`` sets it too, so it is needed only when resuming.
        ``photo_piece_bytes``: photos up to this size go whole, bigger ones in resumable pieces of it."""
        if photo_piece_bytes < 1:
            raise ValueError("photo_piece_bytes must be at least 1")
        self._http = http
        self._photo_piece_bytes = photo_piece_bytes
        self._tokens = tokens
        self._base_url = base_url.rstrip("/")
        self._device_id = device_id
        self._sleep = sleep
        # Refresh tokens rotate and a reused one revokes the device: only one refresh may run at a time.
        self._refresh_lock = threading.Lock()

    def use_tokens(self, tokens: TokenStore) -> None:
        """Keep tokens in ``tokens`` from now on (the app moves them to the device keystore once its page runs)."""
        with self._refresh_lock:  # never in the middle of a refresh that is storing rotated tokens
            self._tokens = tokens

    def _exchange(self, call: Call[Any], access_token: str | None) -> Answer:
        return self._exchange_with_headers(call, access_token)[0]

    def _exchange_with_headers(self, call: Call[Any], access_token: str | None) -> tuple[Answer, httpx.Headers]:
        try:
            response = self._http.request(**request_args(call, self._base_url, access_token))
        except NO_ANSWER as error:
            raise no_answer(error) from error
        return answer_of(response), response.headers

    def _send(self, call: Call[T]) -> T:
        """Send ``call``; a signed-in one with the access token, refreshed once and retried once on a 401."""
        return self._send_with_headers(call)[0]

    def _send_with_headers(self, call: Call[T]) -> tuple[T, httpx.Headers]:
        """``_send``, with the answer's headers (a resumable upload's offset travels in one)."""
        if not call.signed_in:
            answer, headers = self._exchange_with_headers(call, None)
            return call.read(answer), headers
        tokens = self._tokens.get()
        if tokens is None:
            raise AuthExpired("not signed in")
        answer, headers = self._exchange_with_headers(call, tokens.access_token)
        if answer.status == 401:
            fresh = self._renew(tokens)
            answer, headers = self._exchange_with_headers(call, fresh.access_token)
            answer = session.after_retry(answer)
        return call.read(answer), headers

    def _renew(self, refused: TokenPair) -> TokenPair:
        with self._refresh_lock:
            step = session.after_401(refused, self._tokens.get(), self._device_id)
            return step if isinstance(step, TokenPair) else self._refresh(step)

    def _refresh(self, call: Call[session.RefreshOutcome]) -> TokenPair:
        """Send the refresh (the lock is held) and keep what it brings: new tokens, or the race winner's."""
        outcome = call.read(self._exchange(call, None))
        if isinstance(outcome, session.AwaitWinner):
            for wait in outcome.waits:
                self._sleep(wait)
                if (winner := outcome.winner(self._tokens.get())) is not None:
                    return winner
            raise outcome.give_up()
        self._tokens.set(outcome)
        return outcome

    def login(self, *, username: str, password: str, device_id: str) -> TokenPair:
        """Sign in on this device and keep the tokens; wrong credentials are ``ApiError`` (401)."""
        tokens = self._send(session.login_call(username, password, device_id))
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
        call = session.logout_call()
        with contextlib.suppress(ApiClientError):  # offline, or already over: the local sign-out still happened
            call.read(self._exchange(call, tokens.access_token))

    def refresh(self) -> TokenPair:
        """Exchange the refresh token for a new pair (the old one stops working). Refused: ``AuthExpired``."""
        with self._refresh_lock:
            return self._refresh(session.refresh_call(self._tokens.get(), self._device_id))

    def push(self, request: PushRequest) -> PushResponse:
        """``POST /api/sync/push``: one result per reading, in the order sent (no NaN ever leaves the phone:
        ``mobile_app.api.answers.json_body``)."""
        return self._send(endpoints.push(request))

    def upload_photo(self, *, sha256: str, data: bytes, content_type: str) -> bool:
        """``PUT /api/photos/{sha256}``; True if the server stored it now (201), False if it had it (200).

        A photo bigger than one piece goes in pieces, from the offset the server holds (``photo_upload``): a pass
        after a cut sends only the rest.
        """
        if len(data) <= self._photo_piece_bytes:
            return self._send(endpoints.upload_photo(sha256, data, content_type))
        return send_in_pieces(
            self, sha256=sha256, data=data, content_type=content_type, piece_bytes=self._photo_piece_bytes
        )

    def photo_offset(self, sha256: str) -> int | None:
        """``HEAD /api/photos/{sha256}``: how many bytes of the photo the server holds; None if it is stored."""
        stored, headers = self._send_with_headers(endpoints.photo_upload_state(sha256))
        if stored:
            return None
        offset = headers.get("Upload-Offset", "0")
        # Anything but a count (a proxy's doing) is read as nothing held: the upload starts at 0, and the server
        # answers 409 with its real offset if it has one.
        return int(offset) if offset.isdigit() else 0

    def put_photo_piece(self, *, sha256: str, data: bytes, start: int, total: int, content_type: str) -> bool | None:
        """One piece of a photo (``Content-Range``): True stored now, False stored already, None kept."""
        return self._send(endpoints.upload_photo_piece(sha256, data, start, total, content_type))

    def pull(self, *, cursor: int) -> PullResponse:
        """``GET /api/sync/pull?cursor=N``: assignments (all when cursor is 0, else changes) and decisions."""
        return self._send(endpoints.pull(cursor))

    def me(self) -> Me:
        """``GET /api/me``: who the tokens belong to."""
        return self._send(session.me_call())
