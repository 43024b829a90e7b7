"""Bounded field types of the HTTP API (path, query and body fields): one home for the limits.

A value outside these bounds is a 422 at the edge, never a database error: ids fit the 32-bit INTEGER columns of
PostgreSQL (and so SQLite's 64-bit ones), text carries no NUL (PostgreSQL refuses it) and has a length limit,
periods and days stay within the years the protocol accepts. They live beside the API's models
(``shared_billing.api_models``) because the server validates with them and the clients build requests with them;
the numbers come from ``shared_billing.protocol``, so a reading and a query parameter are bounded alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from shared_billing.protocol import DB_ID_MAX, EARLIEST, LATEST, NO_NUL, DeviceId

__all__ = [
    "PASSWORD_MIN_LENGTH",
    "Amount",
    "Cursor",
    "Day",
    "DeviceId",
    "Id",
    "IdList",
    "NewPassword",
    "NewUsername",
    "PageLimit",
    "PageOffset",
    "Password",
    "Period",
    "Reason",
    "Reference",
    "SearchText",
    "Sha256",
    "Token",
    "Username",
]

# A database row id (path, query or body): ≥ 1 and within a 32-bit signed INTEGER column.
Id = Annotated[int, Field(ge=1, le=DB_ID_MAX)]
#: A page's size and start: lists are paged so a society of thousands of units stays quick in a browser.
PageLimit = Annotated[int, Field(ge=1, le=200)]
PageOffset = Annotated[int, Field(ge=0, le=DB_ID_MAX)]
# The pull cursor, 0 before the first pull: a sync-event id on SQLite, a transaction horizon above 2**31 on
# PostgreSQL (sync_server/pull.py), so any non-negative 64-bit number.
Cursor = Annotated[int, Field(ge=0, le=2**63 - 1)]
# At most this many ids in one request (bulk operations).
IdList = Annotated[list[Id], Field(min_length=1, max_length=1000)]

# A billing month written YYYY-MM, in the years the protocol accepts (2000–2099).
Period = Annotated[str, StringConstraints(pattern=r"^20\d\d-(0[1-9]|1[0-2])$")]
# A calendar day (payments, notes) in the same years.
Day = Annotated[date, Field(ge=EARLIEST.date(), lt=LATEST.date())]

# An amount a person enters (payment, credit or debit note): positive, in paise at most, and within the money
# columns (12 digits, 2 after the point).
Amount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

Username = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=NO_NUL)]
#: A password being set (new account, reset, change): long enough to resist guessing; a sign-in takes any Password.
PASSWORD_MIN_LENGTH = 10
NewPassword = Annotated[str, StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=256, pattern=NO_NUL)]
# A new account's username: letters, digits and . _ - only, so it reads the same in every log and form.
NewUsername = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{3,64}$")]
# Opaque tokens (refresh tokens, signed download links): long enough for a JWT, never unbounded.
Token = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=NO_NUL)]
# A decision's or a note's reason, as a person typed it.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=NO_NUL)]
# A payment reference (cheque number, UPI id).
Reference = Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL)]
# A short filter value (an audit action name, ...).
SearchText = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
