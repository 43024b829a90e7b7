"""Stable error codes and the one error shape on the wire: ``{"code", "message", "details"}``.

Each code is registered once here WITH its HTTP status (the code carries its status, as in ODK Central's
problems): a raise site names the code only, so one error cannot be a 422 in one route and a 409 in another.
``Problem`` is raised by routes and services; per-item push rejections, skipped units of a bill run and stored
run failures use the same codes without raising. Codes are part of the API: add new ones, never rename (the one
rename so far, ``consumption.negative``/``bill.negative_consumption`` → ``reading.below_previous``, joined three names
for one thing; migration 0007 rewrote the stored ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared_billing import errors as domain
from shared_billing.errors import ALL_ERRORS, BillingError

__all__ = ["CODES", "DOMAIN_STATUS", "Problem", "ProblemSpec", "status_of"]


@dataclass(frozen=True, slots=True)
class ProblemSpec:
    """What a code answers: its HTTP status and the message used when the raise site gives none."""

    status: int
    message: str


def _specs(status: int, **messages: str) -> dict[str, ProblemSpec]:
    return {code: ProblemSpec(status, message) for code, message in messages.items()}


CODES: dict[str, ProblemSpec] = {
    # The request itself.
    "request.invalid": ProblemSpec(422, "The request body or parameters do not match the schema"),
    "request.not_found": ProblemSpec(404, "No such resource"),
    "request.too_large": ProblemSpec(413, "The request body is over the limit"),
    "request.method_not_allowed": ProblemSpec(405, "This path does not take this method"),
    "request.out_of_range": ProblemSpec(422, "A value does not fit what the server can store"),
    "request.conflict": ProblemSpec(409, "The request conflicts with data already stored"),
    "request.unknown_reference": ProblemSpec(422, "The request names a row that does not exist"),
    "request.reason_required": ProblemSpec(422, "This change needs a reason"),
    "server.error": ProblemSpec(500, "Something went wrong on the server; it has been logged"),
    "service.unavailable": ProblemSpec(
        503, "The database is unavailable, locked or not answering: retry after Retry-After seconds"
    ),
    # Sign-in and roles.
    "auth.invalid_credentials": ProblemSpec(401, "Wrong username or password"),
    "auth.invalid_token": ProblemSpec(401, "The token is missing, expired or not valid"),
    "auth.forbidden": ProblemSpec(403, "Your role may not do this"),
    "auth.throttled": ProblemSpec(429, "Too many failed sign-ins: wait before trying again (see Retry-After)"),
    "auth.refresh_in_use": ProblemSpec(
        401, "This refresh token was just rotated by another request: retry with the newer tokens"
    ),
    "auth.password_change_required": ProblemSpec(
        403, "Choose your own password first (POST /api/auth/password): an admin set this one"
    ),
    "auth.wrong_password": ProblemSpec(422, "The current password is not right"),
    "user.not_found": ProblemSpec(404, "No such user"),
    "user.built_in": ProblemSpec(409, "A built-in account (scheduled work) cannot be changed"),
    "user.cannot_deactivate_self": ProblemSpec(409, "An admin cannot deactivate their own account"),
    "user.username_taken": ProblemSpec(409, "Another account has this username"),
    "user.password_unchanged": ProblemSpec(422, "The new password is the current one"),
    "user.unit_required": ProblemSpec(422, "A resident's account names their unit"),
    "user.unit_for_staff": ProblemSpec(422, "Only a resident's account names a unit"),
    # A resident account made before residents had units (docs/residents.md): it sees nothing until linked.
    "resident.no_unit": ProblemSpec(404, "This account is not linked to a unit yet: ask the society's office"),
    # Readings: mostly per-item push rejections (the status is what a route raising the code would answer).
    "reading.invalid": ProblemSpec(
        422, "The reading does not match its protocol (a field is missing, malformed, unknown or out of bounds)"
    ),
    "reading.invalid_value": ProblemSpec(422, "The value is not a register value"),
    "reading.negative_value": ProblemSpec(422, "The value is negative"),
    "reading.too_many_digits": ProblemSpec(422, "The value has more digits than the meter's dials"),
    "reading.too_many_decimals": ProblemSpec(422, "The value has more decimals than the meter shows"),
    **_specs(
        422,
        **{
            "reading.value_required": "An actual reading needs a value",
            "reading.skip_reason_required": "A skipped reading needs a reason code",
            "reading.value_on_skip": "A skipped reading has no value",
            "reading.unknown_replaces": "The reading it replaces is not yours or does not exist",
        },
    ),
    "reading.unknown_meter": ProblemSpec(404, "No such meter"),
    "reading.not_assigned": ProblemSpec(403, "The meter is not assigned to you"),
    "reading.conflict": ProblemSpec(409, "Same reading id, different content"),
    "reading.not_found": ProblemSpec(404, "No such reading"),
    # A reading's meter replacement (protocol 2), judged at the push: sync_server/replacement_check.py.
    **_specs(
        422,
        **{
            "replacement.on_skip": "A replacement comes with the new meter's value, not with a skip",
            "replacement.same_meter": "The new meter number is the replaced meter's own",
            "replacement.final_below_previous": "The old meter's final value is below its previous approved value",
            "replacement.value_below_initial": "The value is below the new meter's initial value",
        },
    ),
    "replacement.meter_taken": ProblemSpec(409, "The new meter number is already an active meter"),
    # The replacement event (sync_server/replacements.py) and readings of a retired meter.
    **_specs(
        409,
        **{
            "replacement.meter_retired": "The meter is retired: it was replaced already",
            "replacement.not_a_unit_meter": "Only a unit's own meter is replaced this way",
            "replacement.before_last_reading": "The replacement date is before the old meter's last approved reading",
            "replacement.not_pending": "The reading reports no replacement awaiting a decision",
            "reading.meter_retired": "The meter was replaced: readings from its replacement date on go to the new one",
        },
    ),
    # Photos.
    "photo.hash_mismatch": ProblemSpec(400, "The bytes do not hash to the SHA-256 in the URL"),
    "photo.too_large": ProblemSpec(413, "The photo is over the size limit"),
    "photo.unsupported_type": ProblemSpec(415, "Only JPEG, PNG and WebP photos are accepted"),
    "photo.undecodable": ProblemSpec(422, "The bytes are not a complete image"),
    "photo.too_many_pixels": ProblemSpec(422, "The image has more pixels than allowed (decompression bomb)"),
    "photo.not_referenced": ProblemSpec(404, "None of your readings names this photo"),
    "photo.not_found": ProblemSpec(404, "No photo with this hash"),
    "photo.file_missing": ProblemSpec(404, "The photo is recorded but its file is missing from the photo store"),
    # Review.
    "review.photo_pending": ProblemSpec(409, "The reading's photo has not arrived"),
    "review.already_decided": ProblemSpec(409, "The reading has already been decided"),
    "review.not_reviewable": ProblemSpec(409, "Skipped readings cannot be approved"),
    "review.replacement_pending": ProblemSpec(
        409, "The reading reports a meter replacement: confirm or reject the replacement instead"
    ),
    "review.due_in_past": ProblemSpec(422, "A re-read cannot be due before today"),
    "review.is_check": ProblemSpec(409, "A quality check's read is compared with the approved read, not decided"),
    "review.bulk_changed": ProblemSpec(409, "The readings to approve changed since they were counted"),
    # Bills: "not now, the state does not allow it" (409) unless said otherwise.
    **_specs(
        409,
        **{
            "bill.reading_not_approved": "Only approved readings are billed",
            "bill.already_billed": "This unit is already billed for the period",
            "bill.no_previous_reading": "No earlier approved reading to measure consumption from",
            "bill.shared_meter_incomplete": "A shared meter or one of its members has no approved reading this period",
            "bill.no_tariff": "The unit has no tariff",
            "bill.not_a_unit_meter": "Shared meters are not billed on their own",
            "bill.already_issued": "An issued bill cannot be issued or changed again",
            "bill.estimate_shared_meter": "Units on a shared meter are billed on actual readings only",
            "bill.not_issued": "Only issued bills take credit or debit notes",
            "bill.nothing_owed": "Nothing is owed on this bill's account",
            "bill.later_period_billed": "A later period of this unit is billed already and covers this one",
            # A bill run's skip reason (never raised): was used unregistered until the registry test caught it.
            "bill.no_approved_reading": "The unit has no approved reading for the period and could not be estimated",
        },
    ),
    "bill.reading_awaiting_review": ProblemSpec(
        409, "The period's reading awaits review: the unit is billed once it is reviewed"
    ),
    "bill.not_found": ProblemSpec(404, "No such bill"),
    "meter.unknown_engineer": ProblemSpec(422, "No such field engineer"),
    # Routes (docs/domain.md "Routes").
    "route.order_mismatch": ProblemSpec(422, "The meters listed are not exactly the route's meters, each once"),
    "route.same_engineer": ProblemSpec(422, "The meters are on this engineer's route already"),
    # Bill runs and periods.
    "billing.period_closed": ProblemSpec(
        409, "The period is closed for this block: correct bills with credit or debit notes"
    ),
    "billing.invalid_period": ProblemSpec(422, "A period is a month written YYYY-MM"),
    "billing.unknown_block": ProblemSpec(404, "No such block"),
    "billing.run_not_done": ProblemSpec(409, "The bill run has not finished"),
    "billing.run_in_progress": ProblemSpec(409, "A bill run for this block and period is already running"),
    # Stored as a run's error_code, never answered: the status says what kind of failure it was.
    "billing.run_failed": ProblemSpec(
        500, "The bill run stopped on an unexpected error (logged on the server); start it again"
    ),
    "billing.run_superseded": ProblemSpec(
        409, "The run made no progress for several minutes and a new run replaced it"
    ),
    "billing.run_interrupted": ProblemSpec(500, "The server stopped while the run was going; start it again"),
    "tariff.exists": ProblemSpec(409, "A tariff version with this code and date is already stored"),
    "tariff.not_found": ProblemSpec(404, "No such tariff"),
    "tariff.no_matching_units": ProblemSpec(422, "No unit is of this type (and category)"),
    # Directory writes: blocks, units, meters and shared-meter membership (docs/domain.md "Directory").
    **_specs(
        409,
        **{
            "block.code_taken": "Another block has this code",
            "unit.code_taken": "Another unit has this code",
            "meter.number_taken": "Another meter has this number",
            "meter.unit_has_meter": "The unit already has an active meter",
            "meter.has_readings": "The meter has readings: its register cannot change without a replacement",
            "meter.retired": "The meter is retired: its replacement is read instead",
            "meter.not_shared": "Only a shared meter has member units",
            "membership.overlaps": "The unit already shares this meter for part of these dates",
            "membership.billed": "A member's bill covers this date: billed shares never change",
            "membership.ended": "The membership has ended already",
        },
    ),
    "meter.wrong_block": ProblemSpec(422, "A unit's meter is in the unit's block"),
    "membership.not_found": ProblemSpec(404, "No such membership of this meter"),
    "membership.invalid_dates": ProblemSpec(422, "A membership ends after it starts"),
    "download.invalid": ProblemSpec(404, "The link is not valid or has expired"),
    "payment.invalid_amount": ProblemSpec(422, "A payment is a positive amount"),
    "payment.wrong_bill": ProblemSpec(409, "The bill is not an issued bill of this unit"),
    # Payment plans (docs/domain.md "Payment plans").
    "payment_plan.exists": ProblemSpec(409, "The account has a payment plan already: cancel it first"),
    "payment_plan.nothing_owed": ProblemSpec(409, "The account owes nothing to pay in instalments"),
    "payment_plan.invalid": ProblemSpec(422, "The first instalment cannot fall before today"),
    "payment_plan.cancelled": ProblemSpec(409, "The payment plan is cancelled already"),
    # Schedules (docs/api.md "Schedules").
    "schedule.not_found": ProblemSpec(404, "No scheduled job of this name"),
    "schedule.not_applicable": ProblemSpec(422, "This setting does not apply to the job's cadence"),
    "schedule.disabled": ProblemSpec(409, "The job is switched off: switch it on first"),
    "notification.not_found": ProblemSpec(404, "No such notification"),
    "notification.not_dead": ProblemSpec(409, "Only a dead-lettered notification is retried"),
    # Escalation steps (docs/notifications.md "Escalation").
    "escalation.invalid": ProblemSpec(422, "Escalation steps fall on days of their own, severity rising with the days"),
    # Imports from the console (docs/api.md "Imports"); rows of a file are quarantined in its report, not refused.
    "import.in_progress": ProblemSpec(409, "An import of this kind is already running"),
    "import.empty_file": ProblemSpec(422, "The file is empty"),
    "import.unsupported_type": ProblemSpec(415, "This import does not take a file of this type"),
    "import.unreadable": ProblemSpec(422, "The file cannot be read as this import's format"),
    "import.unknown_tariff": ProblemSpec(422, "The import names a tariff that is not stored: import its file first"),
    "import.no_report": ProblemSpec(409, "The import has no report: it is still running, or it failed"),
    # Stored as a job's error_code, never answered: the status says what kind of failure it was.
    "import.failed": ProblemSpec(
        500, "The import stopped on an unexpected error (logged on the server); nothing was imported: start it again"
    ),
    "import.superseded": ProblemSpec(
        409, "The import made no progress for several minutes (its server stopped) and a new import replaced it"
    ),
    # Bank and UPI statements (docs/api.md "Reconciliation"); the file's own refusals are the import codes above.
    "statement.unreadable": ProblemSpec(422, "The file is not a bank or UPI statement Fieldmeter can read"),
    "statement.line_not_found": ProblemSpec(404, "No such statement line"),
    "statement.line_resolved": ProblemSpec(409, "The statement line is matched or dismissed already"),
}

# One status per domain error class (shared_billing.errors), decided once here instead of at each re-raise:
# 422 when the input can never be billed (a malformed register value, an unusable tariff or period) — fixing the
# request is the only way; 409 when the request is fine but the stored state does not allow it yet (history,
# sanctioned load, a tariff version in force, shared-meter figures): change the data and the same call succeeds.
# Before, a pricing error was 409 and a tariff-file error 422; every class keeps the status its raise sites used,
# except TariffError/PeriodError met while pricing (were 409 there, 422 at tariff import): now 422 everywhere.
DOMAIN_STATUS: dict[type[BillingError], int] = {
    domain.RegisterValueError: 422,
    domain.NegativeRegisterValue: 422,
    domain.TooManyDigits: 422,
    domain.TooManyDecimals: 422,
    domain.BelowPrevious: 409,
    domain.EstimateLimitReached: 409,
    domain.NoConsumptionHistory: 409,
    domain.PeriodError: 422,
    domain.MissingSanctionedLoad: 409,
    domain.TariffError: 422,
    domain.UnknownUnitType: 409,
    domain.NoTariffVersion: 409,
    domain.TariffFileError: 422,
    domain.SharedMeterError: 409,
    domain.SharedMeterIncomplete: 409,
    domain.SharedMeterUnallocatable: 409,
}

# Domain errors travel with their own codes; a code the server already names (e.g. bill.shared_meter_incomplete)
# keeps its server message, and must agree on the status.
for _error in ALL_ERRORS:
    _spec = ProblemSpec(DOMAIN_STATUS[_error], (_error.__doc__ or _error.code).strip().splitlines()[0])
    if CODES.setdefault(_error.code, _spec).status != _spec.status:
        raise AssertionError(f"{_error.code}: two statuses registered")


def status_of(code: str) -> int:
    """The HTTP status a code answers with (KeyError for an unregistered code: a bug, caught by the tests)."""
    return CODES[code].status


class Problem(Exception):
    """An error answered with its code's registered ``status`` and the stable ``code``."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        if code not in CODES:
            raise KeyError(f"unregistered problem code {code!r}")
        spec = CODES[code]
        self.status = spec.status
        self.code = code
        self.message = message or spec.message
        self.details = details or {}
        self.headers = headers or {}  # e.g. Retry-After on a 429
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}
