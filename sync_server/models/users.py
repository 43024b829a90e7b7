from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared_billing.protocol import Role
from sync_server.db_types import StrEnumColumn, UTCDateTime

__all__ = ["BUILT_IN_PREFIX", "LoginThrottle", "RefreshToken", "Role", "User"]

#: Accounts the server itself acts as (the scheduler) start with a character no created account's name may carry
#: (``shared_billing.api_types.NewUsername``): nobody can make one, sign in as one or manage one.
BUILT_IN_PREFIX = "@"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(max_length=120)
    role: Role = Field(sa_type=StrEnumColumn(Role, 16))
    password_hash: str = Field(max_length=200)
    active: bool = True
    # Set when an admin chose the password (a new account, a reset): until the user picks their own, every route
    # but changing it, /me and logout answers 403 auth.password_change_required (sync_server/deps.py).
    password_change_required: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)
    # A resident's own unit, the one account whose bills, payments and balance they see (sync_server/resident.py);
    # None for staff. Migration 0021 also checks that only a resident has one.
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)


class RefreshToken(SQLModel, table=True):
    """Opaque refresh tokens, stored as SHA-256 only; rotated on use, bound to one device."""

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    device_id: str = Field(max_length=64)
    # One sign-in's chain of rotated tokens. Access tokens name their family, and a request is refused once the
    # family is revoked (logout, deactivation, a reused token), checked in the same query as the user lookup.
    family: str = Field(default="", max_length=32, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins counted per key ("user:<name>", "addr:<ip>") in a fixed window, shared by every worker.

    A login reserves a count before hashing and gives it back when it succeeds, so a burst of concurrent guesses
    cannot slip past the limit while the first ones are still being hashed.
    """

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=80)
    failures: int = 0
    window_start: datetime = Field(sa_type=UTCDateTime)
