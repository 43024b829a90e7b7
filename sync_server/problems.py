"""Stable error codes and the one error shape on the wire: ``{"code", "message", "details"}``.

``Problem`` is raised by routes and services; per-item push rejections use the same codes without raising.
Codes are part of the API: add new ones, never rename.
"""

from __future__ import annotations

from typing import Any

from shared_billing.errors import ALL_ERRORS

__all__ = ["CODES", "Problem"]

CODES: dict[str, str] = {
    "request.invalid": "The request body or parameters do not match the schema",
    "request.not_found": "No such resource",
    "request.too_large": "The request body is over the limit",
    "request.method_not_allowed": "This path does not take this method",
    "request.out_of_range": "A value does not fit what the server can store",
    "request.conflict": "The request conflicts with data already stored",
    "server.error": "Something went wrong on the server; it has been logged",
    "service.unavailable": "The database is unavailable, locked or not answering: retry after Retry-After seconds",
    "reading.invalid": "The reading does not match protocol v1 (a field is missing, malformed or out of bounds)",
    "auth.invalid_credentials": "Wrong username or password",
    "auth.invalid_token": "The token is missing, expired or not valid",
    "auth.forbidden": "Your role may not do this",
    "auth.throttled": "Too many failed sign-ins: wait before trying again (see Retry-After)",
    "auth.refresh_in_use": "This refresh token was just rotated by another request: retry with the newer tokens",
    "user.not_found": "No such user",
    "user.cannot_deactivate_self": "An admin cannot deactivate their own account",
    "reading.invalid_value": "The value is not a register value",
    "reading.negative_value": "The value is negative",
    "reading.too_many_digits": "The value has more digits than the meter's dials",
    "reading.too_many_decimals": "The value has more decimals than the meter shows",
    "reading.value_required": "An actual reading needs a value",
    "reading.skip_reason_required": "A skipped reading needs a reason code",
    "reading.value_on_skip": "A skipped reading has no value",
    "reading.unknown_meter": "No such meter",
    "reading.not_assigned": "The meter is not assigned to you",
    "reading.unknown_replaces": "The reading it replaces is not yours or does not exist",
    "reading.conflict": "Same reading id, different content",
    "reading.not_found": "No such reading",
    "photo.hash_mismatch": "The bytes do not hash to the SHA-256 in the URL",
    "photo.too_large": "The photo is over the size limit",
    "photo.unsupported_type": "Only JPEG, PNG and WebP photos are accepted",
    "photo.undecodable": "The bytes are not a complete image",
    "photo.too_many_pixels": "The image has more pixels than allowed (decompression bomb)",
    "photo.not_referenced": "None of your readings names this photo",
    "photo.not_found": "No photo with this hash",
    "review.photo_pending": "The reading's photo has not arrived",
    "review.already_decided": "The reading has already been decided",
    "review.not_reviewable": "Skipped readings cannot be approved",
    "bill.reading_not_approved": "Only approved readings are billed",
    "bill.already_billed": "This unit is already billed for the period",
    "bill.no_previous_reading": "No earlier approved reading to measure consumption from",
    "bill.negative_consumption": "The reading is below the previous one",
    "bill.shared_meter_incomplete": "A shared meter or one of its members has no approved reading this period",
    "bill.no_tariff": "The unit has no tariff",
    "bill.not_a_unit_meter": "Shared meters are not billed on their own",
    "meter.unknown_engineer": "No such field engineer",
    "bill.already_issued": "An issued bill cannot be issued or changed again",
    "bill.not_found": "No such bill",
    "bill.estimate_shared_meter": "Units on a shared meter are billed on actual readings only",
    "bill.not_issued": "Only issued bills take credit or debit notes",
    "bill.nothing_owed": "Nothing is owed on this bill's account",
    "billing.period_closed": "The period is closed for this block: correct bills with credit or debit notes",
    "billing.invalid_period": "A period is a month written YYYY-MM",
    "billing.unknown_block": "No such block",
    "billing.run_not_done": "The bill run has not finished",
    "billing.run_in_progress": "A bill run for this block and period is already running",
    "billing.run_failed": "The bill run stopped on an unexpected error (logged on the server); start it again",
    "billing.run_superseded": "The run made no progress for several minutes and a new run replaced it",
    "billing.run_interrupted": "The server stopped while the run was going; start it again",
    "bill.reading_awaiting_review": "The period's reading awaits review: the unit is billed once it is reviewed",
    "bill.later_period_billed": "A later period of this unit is billed already and covers this one",
    "tariff.exists": "A tariff version with this code and date is already stored",
    "download.invalid": "The link is not valid or has expired",
    "payment.invalid_amount": "A payment is a positive amount",
    "payment.wrong_bill": "The bill is not an issued bill of this unit",
}

# Domain errors travel with their own codes (shared_billing.errors); register them so Problem accepts them.
for _error in ALL_ERRORS:
    CODES.setdefault(_error.code, (_error.__doc__ or _error.code).strip().splitlines()[0])


class Problem(Exception):
    """An error to answer with ``status`` and the stable ``code``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        if code not in CODES:
            raise KeyError(f"unregistered problem code {code!r}")
        self.status = status
        self.code = code
        self.message = message or CODES[code]
        self.details = details or {}
        self.headers = headers or {}  # e.g. Retry-After on a 429
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}
