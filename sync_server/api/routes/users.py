"""Accounts an admin manages: list, create, reset a password, deactivate (every session ends at once), reactivate.

A password an admin chose (a new account's, a reset's) is temporary: the user must pick their own before any
other route answers them (sync_server/deps.py). Passwords are hashed in the bounded hashing slots, like sign-ins.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from shared_billing.api_models import AccountChange, Page, PasswordReset, UserIn, UserOut
from shared_billing.api_types import Id
from sync_server.api.paging import PageQuery, paginate
from sync_server.auth import TokenService, hash_password
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import AuditEvent, Role, Unit, User
from sync_server.models.users import BUILT_IN_PREFIX
from sync_server.problems import Problem

router = APIRouter(prefix="/users", tags=["users"])


def _user_out(user: User, unit_code: str | None = None, session: Session | None = None) -> UserOut:
    """The account as listed; a resident's unit code is ``unit_code``, else looked up through ``session``."""
    out = UserOut.model_validate(user, from_attributes=True)
    if unit_code is None and session is not None and user.unit_id is not None:
        unit = session.get(Unit, user.unit_id)
        unit_code = unit.code if unit is not None else None
    out.unit_code = unit_code
    return out


def _unit_codes(session: Session, users: list[User]) -> dict[int, str]:
    """The codes of the residents' units, in one query."""
    ids = {user.unit_id for user in users if user.unit_id is not None}
    if not ids:
        return {}
    rows = session.exec(select(Unit.id, Unit.code).where(col(Unit.id).in_(ids))).all()
    return {unit_id: code for unit_id, code in rows if unit_id is not None}


def _account(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Problem("user.not_found", f"No user {user_id}")
    if user.username.startswith(BUILT_IN_PREFIX):
        # Reactivated or given a password, the scheduler's account would become a way in.
        raise Problem("user.built_in", f"{user.username} is the server's own account")
    return user


def _audit(
    session: Session, admin: User, user: User, now: datetime, *, action: str, reason: str | None, **detail: object
) -> None:
    session.add(
        AuditEvent(
            at=now,
            actor_id=admin.id,
            action=action,
            entity="user",
            entity_id=str(user.id),
            reason=reason,
            detail={"username": user.username, **detail},
        )
    )


def _set_active(
    session: Session, user: User, *, active: bool, admin: User, reason: str, now: datetime, **detail: object
) -> UserOut:
    """Switch the account and audit who did it, when and why, in one transaction."""
    user.active = active
    session.add(user)
    _audit(
        session,
        admin,
        user,
        now,
        action="user.reactivated" if active else "user.deactivated",
        reason=reason,
        **detail,
    )
    session.commit()
    return _user_out(user, session=session)


@router.get("", **access(Role.ADMIN))
def list_users(session: SessionDep, page: PageQuery, role: Role | None = None) -> Page[UserOut]:
    """Users by username, optionally of one role; ``q`` searches usernames and full names."""
    query = select(User).where(~col(User.username).startswith(BUILT_IN_PREFIX)).order_by(col(User.username))
    if role is not None:
        query = query.where(User.role == role)
    rows, total = paginate(session, query, page, search=[col(User.username), col(User.full_name)])
    codes = _unit_codes(session, rows)
    items = [_user_out(u, codes.get(u.unit_id) if u.unit_id is not None else None) for u in rows]
    return Page[UserOut](items=items, total=total, limit=page.limit, offset=page.offset)


def _resident_unit(session: Session, body: UserIn) -> Unit | None:
    """The unit a new account is linked to: a resident's, which must exist; staff have none."""
    if body.role != Role.RESIDENT:
        if body.unit_id is not None:
            raise Problem("user.unit_for_staff", details={"field": "unit_id"})
        return None
    if body.unit_id is None:
        raise Problem("user.unit_required", details={"field": "unit_id"})
    unit = session.get(Unit, body.unit_id)
    if unit is None:
        raise Problem("request.unknown_reference", f"No unit {body.unit_id}", {"field": "unit_id"})
    return unit


def _create(session: Session, body: UserIn, password_hash: str, admin: User, now: datetime) -> UserOut:
    if session.exec(select(User.id).where(User.username == body.username)).first() is not None:
        raise Problem("user.username_taken", details={"field": "username"})
    unit = _resident_unit(session, body)
    user = User(
        username=body.username,
        full_name=body.full_name,
        role=body.role,
        password_hash=password_hash,
        password_change_required=True,
        created_at=now,
        unit_id=unit.id if unit is not None else None,
    )
    session.add(user)
    try:
        session.flush()
        unit_detail = {"unit": unit.code} if unit is not None else {}
        _audit(
            session,
            admin,
            user,
            now,
            action="user.created",
            reason=None,
            full_name=user.full_name,
            role=str(user.role),
            **unit_detail,
        )
        session.commit()
    except IntegrityError as error:  # created by a concurrent request since the check above
        session.rollback()
        raise Problem("user.username_taken", details={"field": "username"}) from error
    return _user_out(user, unit.code if unit is not None else None)


@router.post("", status_code=201, **access(Role.ADMIN, errors=(409,)))
async def create_user(
    body: UserIn, context: ContextDep, session: SessionDep, admin: CurrentUser, now: NowDep
) -> UserOut:
    """Create an account (engineer, supervisor, admin, accountant, or a resident of ``unit_id``) with a temporary
    password of at least 10 characters: the user chooses their own at the first sign-in. 409
    ``user.username_taken``; 422 ``user.unit_required`` (a resident without a unit), ``user.unit_for_staff``,
    ``request.unknown_reference`` (no such unit). Audited."""
    password_hash = await context.tokens.hasher.run(hash_password, body.password)
    return await run_in_threadpool(_create, session, body, password_hash, admin, now)


def _reset(
    session: Session, user_id: int, body: PasswordReset, password_hash: str, admin: User, now: datetime
) -> UserOut:
    user = _account(session, user_id)
    user.password_hash = password_hash
    user.password_change_required = True
    session.add(user)
    # Whoever held a session on the old password is signed out everywhere (the deactivation's revocation).
    revoked = TokenService.revoke(session, now, user_id=user_id, everything=True)
    _audit(session, admin, user, now, action="user.password_reset", reason=body.reason, refresh_tokens_revoked=revoked)
    session.commit()
    return _user_out(user, session=session)


@router.post("/{user_id}/password", **access(Role.ADMIN, errors=(404, 409)))
async def reset_password(
    user_id: Id, body: PasswordReset, context: ContextDep, session: SessionDep, admin: CurrentUser, now: NowDep
) -> UserOut:
    """Give a user a temporary password (reason required): every session of theirs ends, and after signing in
    with it they must choose their own (403 ``auth.password_change_required`` elsewhere until then). Audited."""
    password_hash = await context.tokens.hasher.run(hash_password, body.password)
    return await run_in_threadpool(_reset, session, user_id, body, password_hash, admin, now)


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


@router.post("/{user_id}/reactivate", **access(Role.ADMIN, errors=(404, 409)))
def reactivate(user_id: Id, body: AccountChange, session: SessionDep, admin: CurrentUser, now: NowDep) -> UserOut:
    """Let a deactivated user sign in again (their old sessions stay ended). Audited with the reason."""
    user = _account(session, user_id)
    return _set_active(session, user, active=True, admin=admin, reason=body.reason, now=now)
