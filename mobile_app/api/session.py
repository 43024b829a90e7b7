"""A signed-in session's rules: signing in and out, and what to do when the server refuses the access token.

Refresh tokens rotate, and presenting one that was already used looks like theft to the server (the device's
sign-in is revoked), so the wrappers hold a lock around :func:`after_401` and the refresh it may ask for. The
decisions, in order:

1. No tokens: the session is over (``AuthExpired``), nothing is sent.
2. A 401 for an access token that is no longer the current one: another call refreshed meanwhile; retry with the
   current tokens (:func:`after_401` returns them).
3. A 401 for the current token: refresh (:func:`after_401` returns the refresh :class:`Call`). Its answer
   (:func:`refresh_call`'s reader) is new tokens to keep, or :class:`AwaitWinner` when the server says
   ``auth.refresh_in_use`` (another client of this sign-in won the rotation: the session lives, its tokens are
   awaited; if none arrive it is a retryable ``TransportError``, never a sign-out), or ``AuthExpired`` for any
   other 4xx (expired, revoked, user deactivated). No answer or a 5xx is a ``TransportError``: try later.
4. The call retried with fresh tokens and refused again (:func:`after_retry`): the session is over.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from mobile_app.api.answers import JSON, Answer, Call, error_of, json_body, read_model, read_nothing, unreadable
from mobile_app.api.errors import ApiError, AuthExpired, TransportError
from shared_billing.api_models import LoginRequest, Me, PasswordChange, RefreshRequest, TokenPair

__all__ = [
    "REFRESH_IN_USE",
    "REFRESH_IN_USE_WAITS",
    "AwaitWinner",
    "RefreshOutcome",
    "after_401",
    "after_retry",
    "login_call",
    "logout_call",
    "me_call",
    "password_call",
    "read_sign_in",
    "refresh_call",
]

REFRESH_IN_USE = "auth.refresh_in_use"
# After losing a refresh race, how long to wait (each time) before looking for the winner's tokens again.
REFRESH_IN_USE_WAITS = (0.25, 0.5, 1.0)


@dataclass(frozen=True)
class AwaitWinner:
    """Another client of this sign-in rotated the refresh token first: use the tokens it keeps. Presenting the same
    token again would only lose again (or, after the server's grace, look like theft and end the sign-in)."""

    presented: TokenPair
    waits: tuple[float, ...] = REFRESH_IN_USE_WAITS

    def winner(self, stored: TokenPair | None) -> TokenPair | None:
        """The winner's tokens, if ``stored`` (what the client keeps now) are them."""
        if stored is not None and stored.refresh_token != self.presented.refresh_token:
            return stored
        return None

    def give_up(self) -> TransportError:
        """No winner's tokens after every wait: try later (the session is not over)."""
        return TransportError(
            "the session is being renewed by another request: retry later", status=401, code=REFRESH_IN_USE
        )


RefreshOutcome = TokenPair | AwaitWinner


def read_sign_in(answer: Answer) -> TokenPair:
    """A sign-in's answer: the tokens. A throttled sign-in (429) is an ``ApiError`` whose message says how long
    to wait: the person must wait, not the network."""
    if (error := error_of(answer, throttle_is_final=True)) is not None:
        raise error
    return read_model(TokenPair)(answer)


def login_call(username: str, password: str, device_id: str) -> Call[TokenPair]:
    """``POST /api/auth/login``; wrong credentials are ``ApiError`` 401 ``auth.invalid_credentials``."""
    # Not validated here: the server's 422 says what is wrong in its own words, in the error tree.
    request = LoginRequest.model_construct(username=username, password=password, device_id=device_id)
    return Call("POST", "/auth/login", read_sign_in, body=json_body(request), content_type=JSON, signed_in=False)


def logout_call() -> Call[None]:
    """``POST /api/auth/logout`` with the tokens being ended (the wrapper passes them; never refreshed)."""
    return Call("POST", "/auth/logout", read_nothing, signed_in=False)


def me_call() -> Call[Me]:
    return Call("GET", "/me", read_model(Me))


def password_call(current: str, new: str) -> Call[None]:
    """``POST /api/auth/password``: the caller's own password (``204``; this sign-in goes on)."""
    body = json_body(PasswordChange.model_construct(current_password=current, new_password=new))
    return Call("POST", "/auth/password", read_nothing, body=body, content_type=JSON)


def refresh_call(current: TokenPair | None, device_id: str | None) -> Call[RefreshOutcome]:
    """``POST /api/auth/refresh`` for ``current``; without tokens or a device to bind them to, the session is over."""
    if current is None or device_id is None:
        raise AuthExpired("no refresh token for this device: sign in")

    def read(answer: Answer) -> RefreshOutcome:
        error = error_of(answer)
        if isinstance(error, ApiError) and error.code == REFRESH_IN_USE:
            return AwaitWinner(current)
        if isinstance(error, ApiError):
            raise AuthExpired(f"refresh refused: {error.code}") from error
        if error is not None:
            raise error
        try:
            return TokenPair.model_validate_json(answer.content)
        except ValidationError as invalid:
            raise unreadable(invalid) from invalid

    request = RefreshRequest.model_construct(refresh_token=current.refresh_token, device_id=device_id)
    return Call("POST", "/auth/refresh", read, body=json_body(request), content_type=JSON, signed_in=False)


def after_401(refused: TokenPair, current: TokenPair | None, device_id: str | None) -> TokenPair | Call[RefreshOutcome]:
    """The server refused ``refused``'s access token; ``current`` is what the client keeps now (read under the
    refresh lock). Newer tokens to retry with, or the refresh to send (``AuthExpired`` if there is none)."""
    if current is not None and current.access_token != refused.access_token:
        return current
    return refresh_call(current, device_id)


def after_retry(answer: Answer) -> Answer:
    """The answer to a call retried with fresh tokens: refused again means the session is over (the user was
    deactivated, or signed out elsewhere)."""
    if answer.status == 401:
        raise AuthExpired("the server refused the refreshed token")
    return answer
