"""Errors raised by the billing core, each with a stable ``code`` for the wire.

The hierarchy::

    BillingError                     billing.error (base; never raised itself)
    ├── RegisterValueError           reading.invalid_value: not ASCII digits with an optional fraction
    │   ├── NegativeRegisterValue    reading.negative_value: a register never shows a negative value
    │   ├── TooManyDigits            reading.too_many_digits: value ≥ 10**dials
    │   └── TooManyDecimals          reading.too_many_decimals: more fraction digits than the meter shows
    ├── BelowPrevious                reading.below_previous: below the previous value, and no plausible rollover
    ├── EstimateLimitReached         consumption.estimate_limit: too many estimates in a row; a visit is due
    ├── NoConsumptionHistory         consumption.no_history: no actual months to estimate from
    ├── PeriodError                  period.invalid: a period that cannot be billed (ends before it starts, …)
    ├── MissingSanctionedLoad        bill.no_sanctioned_load: a per-kW fixed charge needs the sanctioned load
    ├── TariffError                  tariff.invalid: unusable tariff data (negative rate, float, unknown key)
    │   ├── UnknownUnitType          tariff.unknown_unit_type: no fixed charge for that unit type
    │   ├── NoTariffVersion          tariff.no_version: no version of the tariff in force on a billed day
    │   └── TariffFileError          tariff.file_invalid: a tariff file refused, with the line at fault
    └── SharedMeterError             bill.shared_meter_invalid: inconsistent shared-meter (motor) figures
        ├── SharedMeterIncomplete    bill.shared_meter_incomplete: a member flat has no consumption yet
        └── SharedMeterUnallocatable bill.shared_meter_unallocatable: motor units, but its flats used none

A route maps any ``BillingError`` to ``{"code": err.code, "message": err.message, "details": err.details}``.
Codes are part of the API: never change one, add a new class instead. Programming errors (a meter configured
with zero dials, a naive datetime) raise ``ValueError``, not a ``BillingError``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ALL_ERRORS",
    "BelowPrevious",
    "BillingError",
    "EstimateLimitReached",
    "MissingSanctionedLoad",
    "NegativeRegisterValue",
    "NoConsumptionHistory",
    "NoTariffVersion",
    "PeriodError",
    "RegisterValueError",
    "SharedMeterError",
    "SharedMeterIncomplete",
    "SharedMeterUnallocatable",
    "TariffError",
    "TariffFileError",
    "TooManyDecimals",
    "TooManyDigits",
    "UnknownUnitType",
]


class BillingError(Exception):
    """Base of every domain error: a stable ``code``, a human ``message`` and string ``details``."""

    code: ClassVar[str] = "billing.error"

    def __init__(self, message: str, **details: str) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, str] = dict(details)


class RegisterValueError(BillingError):
    """The typed register value is not a number of the accepted form."""

    code = "reading.invalid_value"


class NegativeRegisterValue(RegisterValueError):
    """The typed register value is negative; a register never shows one."""

    code = "reading.negative_value"


class TooManyDigits(RegisterValueError):
    """The value needs more digits than the meter has dials (value ≥ 10**dials)."""

    code = "reading.too_many_digits"


class TooManyDecimals(RegisterValueError):
    """The value has more fraction digits than the meter shows."""

    code = "reading.too_many_decimals"


class BelowPrevious(BillingError):
    """The current register value is below the previous one and is no plausible rollover (replacement or typo).

    The same name as the reading's advisory flag ``below_previous`` (``shared_billing.checks.ReadingFlag``): the
    push flags such a reading, billing refuses it with this error, and a bill run flags the reading it refused.
    """

    code = "reading.below_previous"


class EstimateLimitReached(BillingError):
    """Too many consecutive estimated bills: the meter must be visited and read."""

    code = "consumption.estimate_limit"


class NoConsumptionHistory(BillingError):
    """No actual monthly consumption to base an estimate on."""

    code = "consumption.no_history"


class PeriodError(BillingError):
    """The billing period cannot be billed (ends before it starts, or breaks the tariff's day count)."""

    code = "period.invalid"


class MissingSanctionedLoad(BillingError):
    """The tariff charges a fixed amount per kW, and the account's sanctioned load is not known."""

    code = "bill.no_sanctioned_load"


class TariffError(BillingError):
    """The tariff data cannot be used (negative or non-Decimal amount, unknown key or setting)."""

    code = "tariff.invalid"


class UnknownUnitType(TariffError):
    """The tariff has no fixed charge for this unit type."""

    code = "tariff.unknown_unit_type"


class NoTariffVersion(TariffError):
    """No version of the tariff is in force on a day of the period."""

    code = "tariff.no_version"


class TariffFileError(TariffError):
    """A tariff file is refused; the message names the line at fault (``details``: line, key, problem)."""

    code = "tariff.file_invalid"


class SharedMeterError(BillingError):
    """The shared meter's figures are inconsistent (negative, own above group, listed twice)."""

    code = "bill.shared_meter_invalid"


class SharedMeterIncomplete(SharedMeterError):
    """A flat on the shared meter has no consumption for the period yet."""

    code = "bill.shared_meter_incomplete"


class SharedMeterUnallocatable(SharedMeterError):
    """The shared meter recorded units but its flats used none, so shares are undefined."""

    code = "bill.shared_meter_unallocatable"


#: Every concrete error class, for registries of wire codes (e.g. the server's ``problems.py``).
ALL_ERRORS: tuple[type[BillingError], ...] = (
    RegisterValueError,
    NegativeRegisterValue,
    TooManyDigits,
    TooManyDecimals,
    BelowPrevious,
    EstimateLimitReached,
    NoConsumptionHistory,
    PeriodError,
    MissingSanctionedLoad,
    TariffError,
    UnknownUnitType,
    NoTariffVersion,
    TariffFileError,
    SharedMeterError,
    SharedMeterIncomplete,
    SharedMeterUnallocatable,
)
