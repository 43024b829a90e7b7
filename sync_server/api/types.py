"""The API's bounded parameter types, for the routes' path and query parameters.

Defined once in ``shared_billing.api_types`` (the clients build their requests with the same bounds); this module
only names them for the server's routes.
"""

from __future__ import annotations

from shared_billing.api_types import (
    Amount,
    Cursor,
    Day,
    DeviceId,
    Id,
    IdList,
    Password,
    Period,
    Reason,
    Reference,
    SearchText,
    Sha256,
    Token,
    Username,
)

__all__ = [
    "Amount",
    "Cursor",
    "Day",
    "DeviceId",
    "Id",
    "IdList",
    "Password",
    "Period",
    "Reason",
    "Reference",
    "SearchText",
    "Sha256",
    "Token",
    "Username",
]
