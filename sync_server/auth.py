"""Passwords (argon2), access tokens (short-lived HS256 JWTs) and refresh tokens (opaque, rotated, per device).

Token expiry is judged by the server's injectable clock, not the wall clock, so a demo pinned to a past month
behaves like a live one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from sync_server.models import RefreshToken, User
from sync_server.problems import Problem

__all__ = [
    "TokenPair",
    "TokenService",
    "hash_password",
    "verify_password",
]

_hasher = PasswordHasher()
# Verifying against a real hash for unknown users keeps the timing of "no such user" and "wrong password" alike.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    role: str
    user_id: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    role: str


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(self, secret: str, access_ttl: timedelta, refresh_ttl: timedelta) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def access_token(self, user: User, now: datetime) -> str:
        claims = {
            "sub": str(user.id),
            "role": user.role,
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
            raise Problem(401, "auth.invalid_token", "The token is not valid") from error
        if int(claims["exp"]) <= int(now.timestamp()):
            raise Problem(401, "auth.invalid_token", "The token has expired")
        return AccessClaims(user_id=int(claims["sub"]), role=str(claims["role"]))

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

    def login(self, session: Session, *, username: str, password: str, device_id: str, now: datetime) -> TokenPair:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            verify_password(_DUMMY_HASH, password)
            raise Problem(401, "auth.invalid_credentials")
        if not verify_password(user.password_hash, password) or not user.active:
            raise Problem(401, "auth.invalid_credentials")
        return self._issue(session, user, device_id, now)

    def refresh(self, session: Session, *, refresh_token: str, device_id: str, now: datetime) -> TokenPair:
        stored = session.exec(select(RefreshToken).where(RefreshToken.token_sha256 == _sha256(refresh_token))).first()
        if stored is None or stored.device_id != device_id:
            raise Problem(401, "auth.invalid_token", "Unknown refresh token")
        if stored.used_at is not None or stored.revoked_at is not None:
            # A rotated token presented again means it leaked: end every session of that device.
            self._revoke_device(session, stored.user_id, device_id, now)
            session.commit()
            raise Problem(401, "auth.invalid_token", "Refresh token already used")
        if stored.expires_at <= now:
            raise Problem(401, "auth.invalid_token", "Refresh token expired")
        user = session.get(User, stored.user_id)
        if user is None or not user.active:
            raise Problem(401, "auth.invalid_token", "User is not active")
        stored.used_at = now
        session.add(stored)
        return self._issue(session, user, device_id, now)

    def _issue(self, session: Session, user: User, device_id: str, now: datetime) -> TokenPair:
        assert user.id is not None
        refresh = secrets.token_urlsafe(32)
        session.add(
            RefreshToken(
                token_sha256=_sha256(refresh),
                user_id=user.id,
                device_id=device_id,
                created_at=now,
                expires_at=now + self.refresh_ttl,
            )
        )
        session.commit()
        return TokenPair(
            access_token=self.access_token(user, now),
            refresh_token=refresh,
            expires_in=int(self.access_ttl.total_seconds()),
            role=user.role,
            user_id=user.id,
        )

    @staticmethod
    def _revoke_device(session: Session, user_id: int, device_id: str, now: datetime) -> None:
        tokens = session.exec(
            select(RefreshToken).where(
                RefreshToken.user_id == user_id,
                RefreshToken.device_id == device_id,
                RefreshToken.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).all()
        for token in tokens:
            token.revoked_at = now
            session.add(token)
