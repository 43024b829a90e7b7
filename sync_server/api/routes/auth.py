from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared_billing.api_models import LoginRequest, Me, PasswordChange, RefreshRequest, TokenPair
from sync_server.client_address import client_address, parse_networks
from sync_server.config import Settings
from sync_server.deps import (
    ANY_ROLE,
    PUBLIC,
    ContextDep,
    CurrentUser,
    NowDep,
    SessionDep,
    access,
    open_until_password_changed,
)
from sync_server.login_throttle import ThrottleRule

router = APIRouter(tags=["auth"])

_bearer = HTTPBearer(auto_error=False)


def throttle_rule(settings: Settings) -> ThrottleRule:
    return ThrottleRule(
        max_per_user=settings.login_max_failures_per_user,
        max_per_address=settings.login_max_failures_per_address,
        window=timedelta(minutes=settings.login_window_minutes),
    )


def request_address(request: Request, settings: Settings) -> str:
    """The caller's address (X-Forwarded-For counts only from the proxies FIELDMETER_TRUSTED_PROXIES names)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.getlist("x-forwarded-for"), parse_networks(settings.trusted_proxies))


@router.post("/auth/login", **access(PUBLIC, errors=(401, 429)))
async def login(body: LoginRequest, request: Request, context: ContextDep, now: NowDep) -> TokenPair:
    """Exchange a username and password for an access token and a device-bound refresh token.

    Too many failed sign-ins for the username or from the address within the window answer 429
    ``auth.throttled`` with ``Retry-After`` before the password is even checked. Async: the database work runs
    in the thread pool and argon2 in a bounded number of threads, so sign-ins cannot starve other requests.
    """
    return await context.tokens.login(
        context.engine,
        username=body.username,
        password=body.password,
        device_id=body.device_id,
        address=request_address(request, context.settings),
        rule=throttle_rule(context.settings),
        now=now,
    )


@router.post("/auth/refresh", **access(PUBLIC, errors=(401,)))
def refresh(body: RefreshRequest, context: ContextDep, session: SessionDep, now: NowDep) -> TokenPair:
    """Rotate a refresh token: returns a new pair; the presented token stops working.

    Presented again within the reuse grace (another request of the same client won the rotation): 401
    ``auth.refresh_in_use``, the session lives on, retry with the newer tokens. Later: 401 ``auth.invalid_token``
    and the sign-in (with every session of the device) is revoked, as a leaked token would be.
    """
    grace = timedelta(seconds=context.settings.refresh_reuse_grace_seconds)
    return context.tokens.refresh(
        session, refresh_token=body.refresh_token, device_id=body.device_id, now=now, grace=grace
    )


@router.post("/auth/logout", status_code=204, **access(*ANY_ROLE))
@open_until_password_changed
def logout(
    user: CurrentUser,
    context: ContextDep,
    session: SessionDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """End the caller's sign-in: its refresh tokens are revoked and its access token is refused from now on.

    Other sign-ins of the same user (another phone, another browser) are not affected.
    """
    assert user.id is not None  # CurrentUser checked the user and the bearer token
    assert credentials is not None
    claims = context.tokens.read_access_token(credentials.credentials, now)
    context.tokens.revoke(session, now, user_id=user.id, family=claims.family)
    session.commit()


@router.get("/me", **access(*ANY_ROLE))
@open_until_password_changed
def me(user: CurrentUser) -> Me:
    """Who the token belongs to."""
    assert user.id is not None
    return Me(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        password_change_required=user.password_change_required,
    )


@router.post("/auth/password", status_code=204, **access(*ANY_ROLE, errors=(429,)))
@open_until_password_changed
async def change_password(
    body: PasswordChange,
    request: Request,
    user: CurrentUser,
    context: ContextDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Choose your own password (the only route, with /me and logout, open while an admin-set password awaits
    its change). The current password is checked and throttled like a sign-in (422 ``auth.wrong_password``, 429
    ``auth.throttled``); the new one is at least 10 characters and differs from it. This sign-in goes on; every
    other sign-in of the account ends. Audited (``user.password_changed``), the password itself never."""
    assert credentials is not None  # CurrentUser checked the bearer token
    claims = context.tokens.read_access_token(credentials.credentials, now)
    await context.tokens.change_password(
        context.engine,
        user=user,
        current=body.current_password,
        new=body.new_password,
        family=claims.family,
        address=request_address(request, context.settings),
        rule=throttle_rule(context.settings),
        now=now,
    )
