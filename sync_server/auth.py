"""Passwords (argon2), access tokens (short-lived HS256 JWTs) and refresh tokens (opaque, rotated, per device).

Token expiry is judged by the server's injectable clock, not the wall clock, so a demo pinned to a past month
behaves like a live one.

Sign-in is throttled before any hashing (``sync_server.login_throttle``) and argon2 runs in worker threads at most
``hash_concurrency`` at a time, so a flood of sign-ins neither starves the thread pool other requests need nor
holds a thread per waiting request. Each sign-in starts a refresh-token *family*; its access tokens name it, and
revoking the family (logout, deactivation, a reused token) refuses them at once.

Rotation has exactly one winner: the presented token is claimed with a compare-and-set (``used_at IS NULL``).
A loser within the reuse grace raced its own sibling (two tabs, a retried request) and gets 401
``auth.refresh_in_use`` with the family intact; a presentation after the grace means the token leaked, and the
family and the device's tokens are revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import anyio
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from shared_billing.api_models import TokenPair
from sync_server.login_throttle import ThrottleRule, check_attempt, record_success, reserve_attempt
from sync_server.models import AuditEvent, RefreshToken, User
from sync_server.problems import Problem

__all__ = [
    "AccessClaims",
    "BoundedHasher",
    "PasswordHashing",
    "TokenService",
    "hash_password",
    "verify_password",
]


class PasswordHashing(BaseSettings):
    """argon2id's cost per password (``FIELDMETER_PASSWORD_HASH_*``), argon2-cffi's defaults unless set: RFC 9106's
    low-memory profile, 64 MiB and three passes over four lanes. A server short of memory may lower them; the test
    suite sets the floor, or its thousands of sign-ins would take minutes. A stored hash keeps the cost it was made
    with, and is made again at the owner's next sign-in after a change."""

    model_config = SettingsConfigDict(env_prefix="FIELDMETER_PASSWORD_HASH_", extra="ignore")

    memory_kib: int = Field(default=RFC_9106_LOW_MEMORY.memory_cost, ge=8, le=4 * 1024 * 1024)
    time_cost: int = Field(default=RFC_9106_LOW_MEMORY.time_cost, ge=1, le=100)

    def hasher(self) -> PasswordHasher:
        # argon2 needs 8 KiB per lane: a smaller memory runs on fewer lanes.
        lanes = max(1, min(RFC_9106_LOW_MEMORY.parallelism, self.memory_kib // 8))
        return PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=lanes)


_hasher = PasswordHashing().hasher()
# Verifying against a real hash for unknown users keeps the timing of "no such user" and "wrong password" alike.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
ALGORITHM = "HS256"
_T = TypeVar("_T")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class BoundedHasher:
    """Password checks in worker threads, at most ``concurrency`` at once per process.

    Waiting sign-ins wait on the limiter, not in a thread, so the thread pool stays free for other requests
    (``/api/health`` among them) however many sign-ins arrive together. The limiter is made on first use, inside
    the event loop that serves the requests.
    """

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, check: Callable[..., _T], *args: Any) -> _T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        return await anyio.to_thread.run_sync(check, *args, limiter=self._limiter)


def _check_throttle(engine: Engine, username: str, address: str, rule: ThrottleRule, now: datetime) -> None:
    with engine.connect() as connection:
        check_attempt(connection, username, address, rule, now)


def _check_password(
    engine: Engine, username: str, password: str, address: str, rule: ThrottleRule, now: datetime
) -> int:
    """In a hashing slot: reserve the attempt, verify, give the reservation back on success; the user's id."""
    with engine.begin() as connection:
        reserve_attempt(connection, username, address, rule, now)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        password_hash, active = (user.password_hash, user.active) if user else (_DUMMY_HASH, False)
    # An unknown user is verified against a real hash too: "no such user" and "wrong password" take alike.
    if not verify_password(password_hash, password) or not active or user is None or user.id is None:
        raise Problem("auth.invalid_credentials")
    # A hash made at another cost than the server's now is made again while the password is at hand (before the
    # transaction: SQLite's write lock is not held through argon2).
    renewed = hash_password(password) if _hasher.check_needs_rehash(password_hash) else None
    with engine.begin() as connection:
        record_success(connection, username, address, rule, now)
        if renewed is not None:
            connection.execute(update(User).where(col(User.id) == user.id).values(password_hash=renewed))
    return user.id


def _check_current_password(
    engine: Engine, user: User, current: str, new: str, address: str, rule: ThrottleRule, now: datetime
) -> None:
    """In a hashing slot: the caller's current password, counted like a sign-in (a stolen session cannot guess it
    faster than a stranger could)."""
    with engine.begin() as connection:
        reserve_attempt(connection, user.username, address, rule, now)
    with Session(engine) as session:
        stored = session.get(User, user.id)
        password_hash = stored.password_hash if stored is not None else _DUMMY_HASH
    if stored is None or not verify_password(password_hash, current):
        raise Problem("auth.wrong_password", details={"field": "current_password"})
    with engine.begin() as connection:
        record_success(connection, user.username, address, rule, now)
    if new == current:
        raise Problem("user.password_unchanged", details={"field": "new_password"})


def _store_own_password(engine: Engine, user_id: int, password_hash: str, family: str | None, now: datetime) -> None:
    with Session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise Problem("auth.invalid_token", "The token's user is not active")
        user.password_hash = password_hash
        user.password_change_required = False
        session.add(user)
        # Every other sign-in ends: whoever knew the old password is signed out everywhere but here.
        revoked = TokenService.revoke(session, now, user_id=user_id, everything=True, keep_family=family)
        session.add(
            AuditEvent(
                at=now,
                actor_id=user_id,
                action="user.password_changed",
                entity="user",
                entity_id=str(user_id),
                detail={"username": user.username, "refresh_tokens_revoked": revoked},
            )
        )
        session.commit()


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    role: str
    family: str | None = None  # the refresh-token family of the sign-in (None for tokens from before families)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(
        self, secret: str, access_ttl: timedelta, refresh_ttl: timedelta, *, hash_concurrency: int = 2
    ) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.hasher = BoundedHasher(hash_concurrency)

    def access_token(self, user: User, now: datetime, family: str | None = None) -> str:
        claims = {
            "sub": str(user.id),
            "role": user.role,
            **({"fam": family} if family else {}),
            "iat": int(now.timestamp()),
            "exp": int((now + self.access_ttl).timestamp()),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read_access_token(self, token: str, now: datetime) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                # exp and iat are judged by the server's clock, not PyJWT's real one (FIELDMETER_NOW may be ahead).
                options={"verify_exp": False, "verify_iat": False, "require": ["sub", "role", "exp"]},
            )
        except jwt.PyJWTError as error:
            raise Problem("auth.invalid_token", "The token is not valid") from error
        if int(claims["exp"]) <= int(now.timestamp()):
            raise Problem("auth.invalid_token", "The token has expired")
        family = claims.get("fam")
        return AccessClaims(
            user_id=int(claims["sub"]), role=str(claims["role"]), family=str(family) if family else None
        )

    def download_token(self, subject: str, now: datetime, ttl: timedelta = timedelta(minutes=10)) -> str:
        """A short-lived signed link for a browser to open one document (a PDF) without a bearer header."""
        claims = {"sub": subject, "aud": "download", "exp": int((now + ttl).timestamp())}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read_download_token(self, token: str, now: datetime) -> str | None:
        """The subject of a valid, unexpired download token; None otherwise."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], audience="download", options={"verify_exp": False}
            )
        except jwt.PyJWTError:
            return None
        if int(claims.get("exp", 0)) <= int(now.timestamp()):
            return None
        return str(claims["sub"])

    async def change_password(
        self,
        engine: Engine,
        *,
        user: User,
        current: str,
        new: str,
        family: str | None,
        address: str,
        rule: ThrottleRule,
        now: datetime,
    ) -> None:
        """The caller picks their own password: throttled and checked like a sign-in, then stored; the caller's
        sign-in (``family``) goes on, every other one ends."""
        assert user.id is not None
        await run_in_threadpool(_check_throttle, engine, user.username, address, rule, now)
        await self.hasher.run(_check_current_password, engine, user, current, new, address, rule, now)
        password_hash = await self.hasher.run(hash_password, new)
        await run_in_threadpool(_store_own_password, engine, user.id, password_hash, family, now)

    async def login(
        self,
        engine: Engine,
        *,
        username: str,
        password: str,
        device_id: str,
        address: str,
        rule: ThrottleRule,
        now: datetime,
    ) -> TokenPair:
        """Sign in: 429 before any hashing, then the password checked in a bounded slot, then a new token family."""
        await run_in_threadpool(_check_throttle, engine, username, address, rule, now)
        user_id = await self.hasher.run(_check_password, engine, username, password, address, rule, now)
        return await run_in_threadpool(self._signed_in, engine, user_id, device_id, now)

    def _signed_in(self, engine: Engine, user_id: int, device_id: str, now: datetime) -> TokenPair:
        with Session(engine, expire_on_commit=False) as session:
            user = session.get(User, user_id)
            if user is None or not user.active:  # deactivated while the password was being checked
                raise Problem("auth.invalid_credentials")
            return self._issue(session, user, device_id, secrets.token_hex(16), now)

    def refresh(
        self, session: Session, *, refresh_token: str, device_id: str, now: datetime, grace: timedelta
    ) -> TokenPair:
        stored = session.exec(select(RefreshToken).where(RefreshToken.token_sha256 == _sha256(refresh_token))).first()
        if stored is None or stored.device_id != device_id or stored.id is None:
            raise Problem("auth.invalid_token", "Unknown refresh token")
        if stored.used_at is not None or stored.revoked_at is not None:
            self._judge_reuse(session, stored.id, now, grace)
        if stored.expires_at <= now:
            raise Problem("auth.invalid_token", "Refresh token expired")
        user = session.get(User, stored.user_id)
        if user is None or not user.active:
            raise Problem("auth.invalid_token", "User is not active")
        # The one winner: concurrent presentations serialize on the row (PostgreSQL's row lock, SQLite's write
        # lock) and only the first still finds it unused.
        table = RefreshToken.__table__  # type: ignore[attr-defined]
        claim = (
            update(table)
            .where(table.c.id == stored.id, table.c.used_at.is_(None), table.c.revoked_at.is_(None))
            .values(used_at=now)
        )
        if session.connection().execute(claim).rowcount != 1:
            session.rollback()
            self._judge_reuse(session, stored.id, now, grace)
        return self._issue(session, user, device_id, stored.family, now)

    def _judge_reuse(self, session: Session, token_id: int, now: datetime, grace: timedelta) -> None:
        """A token presented after it was rotated or revoked: always raises (in use, or theft and revocation)."""
        session.rollback()  # read what the winner committed, not this transaction's view
        token = session.exec(select(RefreshToken).where(RefreshToken.id == token_id)).one()
        session.refresh(token)
        if token.revoked_at is None and token.used_at is not None and now - token.used_at <= grace:
            raise Problem(
                "auth.refresh_in_use",
                "This refresh token was just rotated by another request: retry with the newer tokens",
                {"retry_after": max(grace.total_seconds(), 1.0)},
            )
        # A rotated token presented again means it leaked: end the sign-in and every session of that device.
        self.revoke(session, now, family=token.family, user_id=token.user_id, device_id=token.device_id)
        session.commit()
        raise Problem("auth.invalid_token", "Refresh token already used")

    @staticmethod
    def revoke(
        session: Session,
        now: datetime,
        *,
        user_id: int,
        family: str | None = None,
        device_id: str | None = None,
        everything: bool = False,
        keep_family: str | None = None,
    ) -> int:
        """Revoke the user's refresh tokens of ``family`` and/or ``device_id`` (all of them with ``everything``,
        but ``keep_family``); the caller commits. Access tokens of a revoked family are refused from the next
        request on."""
        table = RefreshToken.__table__  # type: ignore[attr-defined]
        scopes = []
        if family:
            scopes.append(table.c.family == family)
        if device_id is not None:
            scopes.append(table.c.device_id == device_id)
        if not scopes and not everything:
            return 0
        statement = update(table).where(table.c.user_id == user_id, table.c.revoked_at.is_(None)).values(revoked_at=now)
        if not everything:
            statement = statement.where(or_(*scopes))
        if keep_family:
            statement = statement.where(table.c.family != keep_family)
        return int(session.connection().execute(statement).rowcount)

    def _issue(self, session: Session, user: User, device_id: str, family: str, now: datetime) -> TokenPair:
        assert user.id is not None
        refresh = secrets.token_urlsafe(32)
        session.add(
            RefreshToken(
                token_sha256=_sha256(refresh),
                user_id=user.id,
                device_id=device_id,
                family=family,
                created_at=now,
                expires_at=now + self.refresh_ttl,
            )
        )
        session.commit()
        return TokenPair(
            access_token=self.access_token(user, now, family),
            refresh_token=refresh,
            expires_in=int(self.access_ttl.total_seconds()),
            role=user.role,
            user_id=user.id,
            password_change_required=user.password_change_required,
        )
