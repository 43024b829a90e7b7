from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from sync_server.api.types import DeviceId, Password, Token, Username
from sync_server.deps import ANY_ROLE, PUBLIC, ContextDep, CurrentUser, NowDep, SessionDep, access

router = APIRouter(tags=["auth"])


class LoginRequest(BaseModel):
    username: Username
    password: Password
    device_id: DeviceId


class RefreshRequest(BaseModel):
    refresh_token: Token
    device_id: DeviceId


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    role: str
    user_id: int


class Me(BaseModel):
    id: int
    username: str
    full_name: str
    role: str


@router.post("/auth/login", **access(PUBLIC, errors=(401,)))
def login(body: LoginRequest, context: ContextDep, session: SessionDep, now: NowDep) -> TokenPairOut:
    """Exchange a username and password for an access token and a device-bound refresh token."""
    pair = context.tokens.login(
        session, username=body.username, password=body.password, device_id=body.device_id, now=now
    )
    return TokenPairOut(**pair.__dict__)


@router.post("/auth/refresh", **access(PUBLIC, errors=(401,)))
def refresh(body: RefreshRequest, context: ContextDep, session: SessionDep, now: NowDep) -> TokenPairOut:
    """Rotate a refresh token: returns a new pair; the presented token stops working."""
    pair = context.tokens.refresh(session, refresh_token=body.refresh_token, device_id=body.device_id, now=now)
    return TokenPairOut(**pair.__dict__)


@router.get("/me", **access(*ANY_ROLE))
def me(user: CurrentUser) -> Me:
    """Who the token belongs to."""
    assert user.id is not None
    return Me(id=user.id, username=user.username, full_name=user.full_name, role=user.role)
