"""Accounts an admin manages: deactivate (every session ends at once) and reactivate."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlmodel import Session

from shared_billing.api_models import AccountChange, UserOut
from shared_billing.api_types import Id
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import AuditEvent, Role, User
from sync_server.problems import Problem

router = APIRouter(prefix="/users", tags=["users"])


def _user_out(user: User) -> UserOut:
    assert user.id is not None
    return UserOut(id=user.id, username=user.username, full_name=user.full_name, role=user.role, active=user.active)


def _account(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Problem("user.not_found", f"No user {user_id}")
    return user


def _set_active(
    session: Session, user: User, *, active: bool, admin: User, reason: str, now: datetime, **detail: object
) -> UserOut:
    """Switch the account and audit who did it, when and why, in one transaction."""
    user.active = active
    session.add(user)
    session.add(
        AuditEvent(
            at=now,
            actor_id=admin.id,
            action="user.reactivated" if active else "user.deactivated",
            entity="user",
            entity_id=str(user.id),
            reason=reason,
            detail={"username": user.username, **detail},
        )
    )
    session.commit()
    return _user_out(user)


@router.post("/{user_id}/deactivate", **access(Role.ADMIN, errors=(404, 409)))
def deactivate(
    user_id: Id, body: AccountChange, context: ContextDep, session: SessionDep, admin: CurrentUser, now: NowDep
) -> UserOut:
    """Deactivate a user: their access tokens are refused from the next call on and every refresh token is
    revoked, on every device. Audited with the reason. An admin cannot deactivate themselves (409)."""
    user = _account(session, user_id)
    if user.id == admin.id:
        raise Problem("user.cannot_deactivate_self")
    revoked = context.tokens.revoke(session, now, user_id=user_id, everything=True)
    return _set_active(
        session, user, active=False, admin=admin, reason=body.reason, now=now, refresh_tokens_revoked=revoked
    )


@router.post("/{user_id}/reactivate", **access(Role.ADMIN, errors=(404,)))
def reactivate(user_id: Id, body: AccountChange, session: SessionDep, admin: CurrentUser, now: NowDep) -> UserOut:
    """Let a deactivated user sign in again (their old sessions stay ended). Audited with the reason."""
    user = _account(session, user_id)
    return _set_active(session, user, active=True, admin=admin, reason=body.reason, now=now)
