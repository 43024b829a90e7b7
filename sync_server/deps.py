"""Request dependencies and the per-route access rule.

Every route declares who may call it with ``**access(...)``: the rule is enforced by a dependency and published
in OpenAPI as ``x-roles``, and a test walks the app's routes so a route without a rule cannot be added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import exists, false
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select

from sync_server.context import AppContext
from sync_server.db_errors import unavailable_reason
from sync_server.error_body import error_responses
from sync_server.models import RefreshToken, Role, User
from sync_server.problems import Problem

__all__ = [
    "ANY_ROLE",
    "DIRECTORY_READERS",
    "PUBLIC",
    "ContextDep",
    "CurrentUser",
    "NowDep",
    "SessionDep",
    "access",
    "open_until_password_changed",
]

PUBLIC = "public"
ANY_ROLE = tuple(Role)
#: Who reads the society's directory (blocks, units, meters, tariffs); personal data is narrowed further.
DIRECTORY_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.ACCOUNTANT)

_bearer = HTTPBearer(auto_error=False)


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    session = Session(context.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        try:
            session.close()
        except (OperationalError, InterfaceError) as error:
            # The closing rollback runs after the response is sent: a database lost by then must not break the
            # client's kept-alive connection (the pool has dropped the dead connection already).
            if unavailable_reason(error) is None:
                raise


SessionDep = Annotated[Session, Depends(get_session)]


def get_now(context: ContextDep) -> datetime:
    return context.clock()


NowDep = Annotated[datetime, Depends(get_now)]


_OPEN_MARK = "_open_until_password_changed"
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


def open_until_password_changed(endpoint: _Endpoint) -> _Endpoint:
    """Mark a route a user whose password an admin set may still call (choose their own, /me, sign out): every
    other route answers them 403 ``auth.password_change_required``."""
    setattr(endpoint, _OPEN_MARK, True)
    return endpoint


def get_current_user(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise Problem("auth.invalid_token", "Sign in first: no bearer token")
    claims = context.tokens.read_access_token(credentials.credentials, now)
    # One query: the user, and whether the token's sign-in (refresh-token family) was revoked by a logout, a
    # deactivation or a reused refresh token, so such an access token is refused at once, not when it expires.
    revoked = (
        exists().where(col(RefreshToken.family) == claims.family, col(RefreshToken.revoked_at).is_not(None))
        if claims.family
        else false()
    )
    row = session.exec(select(User, revoked).where(User.id == claims.user_id)).first()
    if row is None or not row[0].active:
        raise Problem("auth.invalid_token", "The token's user is not active")
    if row[1]:
        raise Problem("auth.invalid_token", "The session has ended (signed out or revoked)")
    if row[0].password_change_required and not getattr(request.scope.get("endpoint"), _OPEN_MARK, False):
        raise Problem("auth.password_change_required")
    return row[0]


CurrentUser = Annotated[User, Depends(get_current_user)]


def _role_guard(allowed: frozenset[str]) -> Any:
    def guard(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Problem("auth.forbidden", f"A {user.role} may not do this", {"allowed": sorted(allowed)})
        return user

    return guard


def access(
    *roles: str,
    errors: Iterable[int] = (),
    responses: dict[int | str, dict[str, Any]] | None = None,
    openapi_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Route keyword arguments that restrict it to ``roles`` (or ``PUBLIC``) and document that in OpenAPI.

    The route's error statuses are declared here too (a route cannot pass ``responses=`` twice): 422 for every
    route (bodies and parameters), 401/403 for protected ones, plus ``errors`` the route itself answers (404,
    409, ...), each with the one error schema; ``responses`` adds FastAPI entries of the route's own (media types)
    and ``openapi_extra`` what FastAPI cannot see (the body of a route that reads the raw request).
    """
    if roles == (PUBLIC,):
        return {
            "openapi_extra": {"x-roles": [PUBLIC], **(openapi_extra or {})},
            "responses": {**error_responses(422, *errors), **(responses or {})},
        }
    if not roles or PUBLIC in roles:
        raise ValueError("name the roles, or PUBLIC alone")
    allowed = frozenset(str(role) for role in roles)
    return {
        "dependencies": [Depends(_role_guard(allowed))],
        "openapi_extra": {"x-roles": sorted(allowed), **(openapi_extra or {})},
        "responses": {**error_responses(401, 403, 422, *errors), **(responses or {})},
    }
